"""The audit trail: Django admin's LogEntry, written by the services for what a person did.

The admin writes its own entries for adding, changing and deleting through its forms; the
services add the operations that are not a form save (enabling, disabling, a run by hand, a
retry, a replay), also when they are started from a command that knows its user. Messages are
plain sentences built from names and ids, never from credentials or inputs.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db import models

__all__ = ["ADDITION", "CHANGE", "DELETION", "audit_log"]


def audit_log(*, user: Any, obj: models.Model, action_flag: int, message: str) -> None:
    """Record that `user` did `message` to `obj`; does nothing when no person is known."""
    if not getattr(user, "pk", None):
        return
    LogEntry.objects.log_actions(
        user_id=user.pk,
        queryset=[obj],
        action_flag=action_flag,
        change_message=message[:2000],
        single_object=True,
    )

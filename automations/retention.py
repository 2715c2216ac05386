"""Retention: trigger events and action runs older than RUN_RETENTION_DAYS are deleted.

A daily Django-Q2 schedule (migration 0003) calls automations.tasks.prune_history. Deletion goes
in small batches, each its own short transaction, so the web pages and the worker are never
kept waiting for long; when the time budget runs out, another prune is queued at once.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from automations.models import ActionRun, TriggerEvent

BATCH_SIZE = 500
# Well below the worker's timeout (Q_TIMEOUT, 240 s by default).
TIME_BUDGET_SECONDS = 60.0
PRUNE_TASK = "automations.tasks.prune_history"


@dataclass
class PruneResult:
    events: int = 0
    runs: int = 0
    more: bool = False


def history_prune(
    *,
    now: dt.datetime | None = None,
    days: int | None = None,
    batch_size: int = BATCH_SIZE,
    time_budget: float = TIME_BUDGET_SECONDS,
    monotonic: Callable[[], float] = time.monotonic,
) -> PruneResult:
    """Delete events and runs older than `days` (RUN_RETENTION_DAYS; 0 keeps everything).

    Runs go first, oldest first, then events (with whatever runs they still have). Each batch
    is one transaction of at most `batch_size` rows. `more` says the budget ran out first.
    """
    days = settings.RUN_RETENTION_DAYS if days is None else days
    result = PruneResult()
    if days <= 0:
        return result
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    deadline = monotonic() + time_budget
    for model, date_field, counter in (
        (ActionRun, "queued_at", "runs"),
        (TriggerEvent, "detected_at", "events"),
    ):
        while True:
            if monotonic() >= deadline:
                result.more = True
                return result
            deleted = _delete_batch(model, date_field, cutoff, batch_size)
            if counter == "events":
                result.events += deleted.get("automations.TriggerEvent", 0)
                result.runs += deleted.get("automations.ActionRun", 0)
            else:
                result.runs += deleted.get("automations.ActionRun", 0)
            if sum(deleted.values()) == 0 or deleted.get(model._meta.label, 0) < batch_size:
                break
    return result


@transaction.atomic
def _delete_batch(model, date_field: str, cutoff: dt.datetime, batch_size: int) -> dict[str, int]:
    # The ids first, through the date index: a DELETE with LIMIT is not portable.
    ids = list(
        model.objects.filter(**{f"{date_field}__lt": cutoff})
        .order_by(date_field)
        .values_list("pk", flat=True)[:batch_size]
    )
    if not ids:
        return {}
    _, by_model = model.objects.filter(pk__in=ids).delete()
    return by_model


def enqueue_prune() -> None:
    """Queue another prune (when one ran out of time with more to delete)."""
    from django_q.tasks import async_task

    async_task(PRUNE_TASK, task_name="prune run history")

"""The two staff roles: Automation editors and Auditors.

Roles are Django groups whose permissions are derived from the portal's apps, so a model or a
custom permission added later is picked up the next time `migrate` or `setup_roles` runs.
"""

from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.db import transaction

EDITORS = "Automation editors"
AUDITORS = "Auditors"

# Apps whose data the roles work with; django_q is the task queue, axes the record of login
# attempts and lockouts, and admin the audit trail (LogEntry: who changed what). All three are
# read-only for everyone but superusers.
PORTAL_APPS = ("connections", "automations")
READ_ONLY_APPS = ("django_q", "axes", "admin")
VISIBLE_APPS = (*PORTAL_APPS, *READ_ONLY_APPS)


@dataclass(frozen=True)
class RolesResult:
    editors_permissions: int
    auditors_permissions: int


def _editor_permissions():
    portal = Permission.objects.filter(content_type__app_label__in=PORTAL_APPS)
    read_only = Permission.objects.filter(
        content_type__app_label__in=READ_ONLY_APPS, codename__startswith="view_"
    )
    return portal | read_only


def _auditor_permissions():
    return Permission.objects.filter(
        content_type__app_label__in=VISIBLE_APPS, codename__startswith="view_"
    )


@transaction.atomic
def roles_setup() -> RolesResult:
    """Create or refresh both groups; running it again changes nothing (idempotent)."""
    editors, _ = Group.objects.get_or_create(name=EDITORS)
    auditors, _ = Group.objects.get_or_create(name=AUDITORS)
    editors.permissions.set(_editor_permissions())
    auditors.permissions.set(_auditor_permissions())
    return RolesResult(
        editors_permissions=editors.permissions.count(),
        auditors_permissions=auditors.permissions.count(),
    )


def roles_setup_after_migrate(sender, **kwargs) -> None:
    """post_migrate receiver (also sent after a flush): refresh the roles.

    It runs for every app because apps without models send nothing; the last call sees every
    permission, and each call is a handful of queries.
    """
    roles_setup()

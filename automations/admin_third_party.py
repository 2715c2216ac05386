"""The task queue's and the login records' admin pages, with their actions behind a permission.

django-q2's "Resubmit selected tasks to queue" and django-axes' "Clean up expired attempts"
declare no permission, so the admin offers them to everyone who may see the list, Auditors
included. Here they need the change (resubmit: it runs the task again) or delete (clean up)
permission of their model, which only superusers have (see automations/roles.py).
"""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django_q.admin import FailAdmin, TaskAdmin, resubmit_task
from django_q.models import Failure, Success


@admin.action(description="Resubmit selected tasks to queue", permissions=["change"])
def resubmit_tasks(model_admin, request, queryset):
    resubmit_task(model_admin, request, queryset)


class GuardedTaskAdmin(TaskAdmin):
    actions = [resubmit_tasks]


class GuardedFailAdmin(FailAdmin):
    actions = [resubmit_tasks]


class GuardedAccessAttemptAdmin(AccessAttemptAdmin):
    @admin.action(description="Clean up expired attempts", permissions=["delete"])
    def cleanup_expired_attempts(self, request, queryset):
        return super().cleanup_expired_attempts(request, queryset)


for model, model_admin in (
    (Success, GuardedTaskAdmin),
    (Failure, GuardedFailAdmin),
    (AccessAttempt, GuardedAccessAttemptAdmin),
):
    admin.site.unregister(model)
    admin.site.register(model, model_admin)

"""Automations in the admin: the list with each trigger's schedule and health, "Poll now",
the automation form (automations/admin_edit.py: trigger, steps, mapping) and its Test page.

The run history is in automations/admin_runs.py.
"""

from __future__ import annotations

from django.contrib import admin, messages

from automations.admin_edit import AutomationEditMixin, _when
from automations.models import Automation
from automations.polling import subscription_due_at, subscription_poll
from automations.triggers import trigger_choices

# A poll started from the admin waits for the store while the page loads: keep it short, the
# rest is queued as a follow-up poll.
ADMIN_POLL_TIME_BUDGET = 15.0


@admin.register(Automation)
class AutomationAdmin(AutomationEditMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "enabled",
        "trigger_label",
        "connection_name",
        "next_poll",
        "last_poll",
        "last_error",
    )
    list_filter = ("enabled",)
    search_fields = ("name",)
    list_select_related = ("trigger", "trigger__connection")
    actions = ("poll_now",)

    def has_poll_permission(self, request):
        return request.user.has_perm("automations.poll_automation")

    @admin.display(description="Trigger")
    def trigger_label(self, obj):
        subscription = getattr(obj, "trigger", None)
        if subscription is None:
            return "—"
        return dict(trigger_choices()).get(subscription.trigger_id, subscription.trigger_id)

    @admin.display(description="Connection")
    def connection_name(self, obj):
        subscription = getattr(obj, "trigger", None)
        return subscription.connection.name if subscription else "—"

    @admin.display(description="Next poll")
    def next_poll(self, obj):
        subscription = getattr(obj, "trigger", None)
        if subscription is None or not obj.enabled:
            return "—"
        return _when(subscription_due_at(subscription))

    @admin.display(description="Last poll")
    def last_poll(self, obj):
        subscription = getattr(obj, "trigger", None)
        if subscription is None or subscription.last_poll_at is None:
            return "never"
        return f"{subscription.get_last_poll_outcome_display()}, {_when(subscription.last_poll_at)}"

    @admin.display(description="Last error")
    def last_error(self, obj):
        subscription = getattr(obj, "trigger", None)
        if subscription is None or not subscription.last_error:
            return "—"
        return f"{subscription.last_error} ({_when(subscription.last_error_at)})"

    @admin.action(description="Poll now", permissions=["poll"])
    def poll_now(self, request, queryset):
        for automation in queryset.select_related("trigger"):
            subscription = getattr(automation, "trigger", None)
            if subscription is None:
                self.message_user(
                    request, f"{automation.name}: it has no trigger.", messages.WARNING
                )
                continue
            result = subscription_poll(
                subscription_id=subscription.pk, time_budget=ADMIN_POLL_TIME_BUDGET
            )
            if not result.ok:
                self.message_user(request, f"{automation.name}: {result.error}", messages.ERROR)
                continue
            more = " More remains: it is being read in the background." if result.more else ""
            self.message_user(
                request,
                f"{automation.name}: {result.new_events} new event(s) from {result.fetched} "
                f"record(s) read in {result.requests} request(s).{more}",
                messages.SUCCESS,
            )


# The run history, the "Run an action" page, and permission fixes for third-party admins.
from automations import admin_runs, admin_third_party  # noqa: E402, F401

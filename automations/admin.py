"""Automations in the admin: the list with each trigger's schedule and health, and "Poll now".

Kept simple on purpose: the full automation form (steps, mapping, Test) and the run history
(automations/admin_runs.py) are built on top of this.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.formats import date_format
from django.utils.timezone import localtime

from automations.models import Automation, TriggerSubscription
from automations.polling import cursor_as_dict, subscription_due_at, subscription_poll
from automations.triggers import trigger_choices
from magento.search import KeysetPosition

# A poll started from the admin waits for the store while the page loads: keep it short, the
# rest is queued as a follow-up poll.
ADMIN_POLL_TIME_BUDGET = 15.0


def _when(value) -> str:
    return date_format(localtime(value), "DATETIME_FORMAT") if value else "—"


class TriggerSubscriptionInline(admin.StackedInline):
    model = TriggerSubscription
    can_delete = False
    extra = 0
    max_num = 1
    fields = (
        "connection",
        "trigger_id",
        "options",
        "poll_interval_minutes",
        "start_from",
        "cursor",
        "next_poll",
        "last_poll_at",
        "last_poll_outcome",
        "last_error",
        "last_error_at",
        "consecutive_failures",
        "backlog",
    )
    readonly_fields = (
        "connection",
        "trigger_id",
        "options",
        "poll_interval_minutes",
        "start_from",
        "cursor",
        "next_poll",
        "last_poll_at",
        "last_poll_outcome",
        "last_error",
        "last_error_at",
        "consecutive_failures",
        "backlog",
    )

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Cursor")
    def cursor(self, obj):
        cursor = cursor_as_dict(
            None
            if obj.cursor_timestamp is None
            else KeysetPosition(obj.cursor_timestamp, obj.cursor_entity_id)
        )
        if cursor is None:
            return "not started"
        return f"{cursor['timestamp']} UTC, id {cursor['entity_id']}"

    @admin.display(description="Next poll")
    def next_poll(self, obj):
        return _when(subscription_due_at(obj)) if obj.automation.enabled else "disabled"

    @admin.display(description="Catching up")
    def backlog(self, obj):
        if obj.backlog_remaining is None:
            return "no"
        return f"{obj.backlog_fetched} read, {obj.backlog_remaining} still to read"


@admin.register(Automation)
class AutomationAdmin(admin.ModelAdmin):
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
    fields = ("name", "enabled", "description")
    inlines = (TriggerSubscriptionInline,)
    actions = ("poll_now",)

    def has_add_permission(self, request):
        # Automations are made with their trigger (automations.services.automation_create).
        return False

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

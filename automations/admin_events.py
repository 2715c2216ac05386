"""Admin for trigger events (read-only history with Replay and CSV export) and the audit trail
(Django admin's LogEntry, read-only, for Auditors and editors)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html

from automations.admin_runs import _action_label, audit_entries, status_badge
from automations.history_admin import EXECUTE_PERMISSION, ChoicesFilter, HistoryAdmin, pretty_json
from automations.models import ActionRun, RunStatus, TriggerEvent
from automations.services import events_replay_selected
from automations.triggers import get_trigger, trigger_choices

MAX_REPLAY = 500


class TriggerFilter(ChoicesFilter):
    title = "trigger"
    parameter_name = "trigger"
    field_name = "trigger_id"
    choices_from = staticmethod(trigger_choices)


class EventRunStatusFilter(admin.SimpleListFilter):
    """Did the automation work for this record? From the event's runs.

    The list walks the events newest first (the date index) and looks each event's runs up
    through the runs' (event, status) index, stopping once the page and its bounded count
    are full: the cost follows how rare the status is, not how long the history is.
    """

    title = "run status"
    parameter_name = "run_status"
    WAITING = (RunStatus.PENDING, RunStatus.RUNNING)
    UNFINISHED = (RunStatus.FAILED, *WAITING)

    def lookups(self, request, model_admin):
        return (
            ("failed", "Failed"),
            ("waiting", "Waiting or running"),
            ("succeeded", "Succeeded"),
            ("none", "No runs"),
        )

    def queryset(self, request, queryset):
        value = self.value()
        if value == "failed":
            return queryset.filter(RunProbe(RunStatus.FAILED))
        if value == "waiting":
            return queryset.filter(RunProbe(*self.WAITING))
        if value == "succeeded":
            return queryset.filter(RunProbe(RunStatus.SUCCEEDED), ~RunProbe(*self.UNFINISHED))
        if value == "none":
            # Asking the runs would read every event to prove that none lacks runs (0.8 s on
            # SQLite, 1.7 s on PostgreSQL at a million events); the events without runs have
            # an index of their own, in the list's order.
            return queryset.filter(has_runs=False)
        return queryset


class RunProbe(Exists):
    """Whether the event (the outer row) has a run in one of `statuses`, asked once per event.

    A plain EXISTS is turned into a join by PostgreSQL, and at a million events it planned
    that join badly: a parallel walk of the events or a semi-join over every failed run (44
    to 49 ms, against 5 ms for the walk; `make bench`). `OFFSET 0` keeps the subquery apart
    (PostgreSQL never turns an EXISTS with an OFFSET into a join), so each event costs one lookup in
    the (event, status) index; SQLite runs it the same way, with or without it.
    """

    # After Exists' own LIMIT 1 (SQLite takes an OFFSET only after a LIMIT). PostgreSQL's
    # simplify_EXISTS_query (src/backend/optimizer/plan/subselect.c) refuses an OFFSET.
    template = "EXISTS(%(subquery)s OFFSET 0)"

    def __init__(self, *statuses: str):
        super().__init__(ActionRun.objects.filter(event=OuterRef("pk"), status__in=statuses))


def event_search(term: str) -> Q:
    """Whole values through an index: the record's key (e-mail, order number, SKU) as typed or
    in lower case, and for a number the Magento id or the event's number."""
    query = Q(entity_key__in=sorted({term, term.lower()}))
    if term.isdigit() and len(term) <= 18:
        query |= Q(entity_id=int(term)) | Q(pk=int(term))
    return query


def trigger_label(trigger_id: str) -> str:
    try:
        return get_trigger(trigger_id).label
    except KeyError:
        return trigger_id


@admin.register(TriggerEvent)
class TriggerEventAdmin(HistoryAdmin):
    change_list_template = "admin/automations/history_change_list.html"
    list_display = (
        "id",
        "detected_at",
        "automation_name",
        "trigger_column",
        "entity_key",
        "entity_id",
        "lag",
        "is_replay",
    )
    list_display_links = ("id",)
    list_filter = (
        EventRunStatusFilter,
        TriggerFilter,
        "automation",
        "connection",
        "is_replay",
        ("detected_at", admin.DateFieldListFilter),
    )
    search_fields = ("entity_key",)  # the search box; the search itself is event_search
    search_help_text = "A whole value: e-mail, order number, SKU, Magento id or event number."
    list_select_related = ("automation",)
    date_hierarchy = "detected_at"
    ordering = ("-detected_at", "-id")
    actions = ("replay_events", "export_csv")
    csv_name = "trigger-events"
    csv_columns = (
        ("id", "Event"),
        ("detected_at", "Detected (UTC)"),
        ("automation_name", "Automation"),
        ("trigger_id", "Trigger"),
        ("connection__name", "Connection"),
        ("entity_id", "Magento id"),
        ("entity_key", "Record"),
        ("record_timestamp", "Record time (UTC)"),
        ("lag_seconds", "Lag (s)"),
        ("is_replay", "Replay"),
        ("replay_of_id", "Replay of"),
    )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(event_search(term)), False

    @admin.display(description="Trigger", ordering="trigger_id")
    def trigger_column(self, obj):
        return trigger_label(obj.trigger_id)

    @admin.display(description="Lag", ordering="lag_seconds")
    def lag(self, obj):
        return _seconds(obj.lag_seconds)

    def get_urls(self):
        custom = [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="automations_triggerevent_export",
            ),
            path(
                "<path:object_id>/replay/",
                self.admin_site.admin_view(self.replay_view),
                name="automations_triggerevent_replay",
            ),
        ]
        return custom + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "export_url": reverse("admin:automations_triggerevent_export"),
        }
        return super().changelist_view(request, extra_context)

    @admin.action(description="Replay the selected events", permissions=["execute"])
    def replay_events(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True)[: MAX_REPLAY + 1])
        if len(ids) > MAX_REPLAY:
            self.message_user(
                request,
                f"More than {MAX_REPLAY} events are selected: filter the list down first.",
                messages.ERROR,
            )
            return
        self._report_replay(request, events_replay_selected(event_ids=ids, user=request.user))

    def _report_replay(self, request, result) -> None:
        if result.replays:
            self.message_user(
                request,
                f"Replayed {len(result.replays)} event(s) as new deliveries marked as replays; "
                "their runs are queued.",
                messages.SUCCESS,
            )
        for event_id, reason in result.refused.items():
            self.message_user(request, f"Event {event_id}: not replayed. {reason}", messages.ERROR)

    def replay_view(self, request, object_id):
        """POST: replay one event, then show the replay."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm(EXECUTE_PERMISSION):
            raise PermissionDenied
        event = get_object_or_404(TriggerEvent, pk=unquote(object_id))
        result = events_replay_selected(event_ids=[event.pk], user=request.user)
        self._report_replay(request, result)
        shown = result.replays[0].pk if result.replays else event.pk
        return HttpResponseRedirect(reverse("admin:automations_triggerevent_change", args=[shown]))

    # -- an event's page --------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        event = self.get_object(request, unquote(object_id))
        if event is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, event):
            raise PermissionDenied
        if request.method == "POST":
            raise PermissionDenied  # history is read-only: its page only shows
        runs = list(ActionRun.objects.filter(event=event).order_by("step_position"))
        changes = [
            {
                "field": name,
                "old": pretty_json(change.get("old")),
                "new": pretty_json(change.get("new")),
            }
            for name, change in sorted((event.changes or {}).items())
            if isinstance(change, dict)
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Event {event.pk}: {trigger_label(event.trigger_id)}",
            "subtitle": None,
            "opts": self.opts,
            "event": event,
            "trigger_label": trigger_label(event.trigger_id),
            "lag": _seconds(event.lag_seconds),
            "record_json": pretty_json(event.record),
            "changes": changes,
            "runs": [
                {
                    "run": run,
                    "status": status_badge(run.status, run.get_status_display()),
                    "action": _action_label(run.action_id),
                }
                for run in runs
            ],
            "replays": list(event.replays.order_by("-detected_at").only("pk", "detected_at")[:20]),
            "can_replay": not event.is_replay
            and event.automation_id is not None
            and request.user.has_perm(EXECUTE_PERMISSION),
            "audit": audit_entries(event),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/automations/triggerevent/event.html", context)


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 120:
        return f"{value:.0f} s"
    if value < 7200:
        return f"{value / 60:.0f} min"
    return f"{value / 3600:.1f} h"


ACTION_WORDS = {ADDITION: "Added", CHANGE: "Changed", DELETION: "Deleted"}


@admin.register(LogEntry)
class AuditTrailAdmin(admin.ModelAdmin):
    """Who created, changed, enabled, disabled or deleted what, and who ran, retried or
    replayed what: read-only for everyone (Auditors and editors have the view permission)."""

    list_display = ("action_time", "user", "action", "what", "object_link", "message")
    list_filter = ("action_flag", "content_type", "user")
    search_fields = ("object_repr", "change_message")
    date_hierarchy = "action_time"
    list_select_related = ("user", "content_type")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    ordering = ("-action_time", "-id")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Action", ordering="action_flag")
    def action(self, obj):
        return ACTION_WORDS.get(obj.action_flag, "")

    @admin.display(description="Kind")
    def what(self, obj):
        return obj.content_type.name if obj.content_type_id else "—"

    @admin.display(description="Object")
    def object_link(self, obj):
        if obj.action_flag == DELETION or not obj.content_type_id:
            return obj.object_repr
        try:
            url = reverse(
                f"admin:{obj.content_type.app_label}_{obj.content_type.model}_change",
                args=[obj.object_id],
            )
        except NoReverseMatch:
            return obj.object_repr
        return format_html('<a href="{}">{}</a>', url, obj.object_repr)

    @admin.display(description="What was done")
    def message(self, obj):
        return obj.get_change_message() or ACTION_WORDS.get(obj.action_flag, "")

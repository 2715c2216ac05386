"""Admin for action runs: the read-only run history, a run's page, Retry, CSV export, and the
"Run an action" page.

The list is fast on big tables (automations.history_admin). The run page tells the story of a
run: its timeline, the inputs as resolved, the request, Magento's answer and the error in
words. "Run an action" builds its form from the chosen action's declared inputs (labels, help,
required marks), runs the action once through `action_run_manual` and shows Magento's answer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from automations.actions import ActionInput, ActionInputError, action_choices, get_action
from automations.history_admin import (
    EXECUTE_PERMISSION,
    ChoicesFilter,
    HistoryAdmin,
    pretty_json,
)
from automations.models import ActionRun, RunStatus, StartedBy, TriggerEvent
from automations.runs import action_run_manual, runs_retry
from automations.triggers import trigger_choices
from connections.models import Connection

# Retry from the list works on at most this many runs at a time.
MAX_RETRY = 500
STATUS_COLOURS = {
    RunStatus.SUCCEEDED: "#1e7e34",
    RunStatus.FAILED: "#b02a37",
    RunStatus.SKIPPED: "#6c757d",
    RunStatus.PENDING: "#8a6d00",
    RunStatus.RUNNING: "#0d6efd",
}


def status_badge(status: str, label: str):
    return format_html(
        '<strong class="run-status run-status-{}" style="color:{}">{}</strong>',
        status,
        STATUS_COLOURS.get(status, "inherit"),
        label,
    )


class ActionFilter(ChoicesFilter):
    title = "action"
    parameter_name = "action"
    field_name = "action_id"
    choices_from = staticmethod(action_choices)


class RunTriggerFilter(ChoicesFilter):
    title = "trigger"
    parameter_name = "trigger"
    field_name = "event__trigger_id"
    choices_from = staticmethod(trigger_choices)


def run_search(term: str) -> Q:
    """Whole values only, each through an index: the subject (an e-mail, a SKU, "order
    000000042", "customer 7") as typed or in lower case, and for a number also the Magento id
    of the trigger record and the run's own number."""
    candidates = {
        term,
        term.lower(),
        f"order {term}",
        f"order ID {term}",
        f"customer {term}",
    }
    query = Q(subject__in=sorted(candidates))
    if term.isdigit() and len(term) <= 18:
        number = int(term)
        matching_events = TriggerEvent.objects.filter(entity_id=number).values("pk")
        query |= Q(event_id__in=matching_events) | Q(pk=number)
    return query


@admin.register(ActionRun)
class ActionRunAdmin(HistoryAdmin):
    change_list_template = "admin/automations/history_change_list.html"
    list_display = (
        "id",
        "status_column",
        "automation_column",
        "action_label",
        "subject",
        "connection_name",
        "started_by",
        "attempts",
        "queued_at",
    )
    list_display_links = ("id",)
    list_filter = (
        "status",
        ActionFilter,
        "automation",
        "connection",
        RunTriggerFilter,
        "started_by",
        ("queued_at", admin.DateFieldListFilter),
    )
    search_fields = ("subject",)  # the search box; the search itself is run_search
    search_help_text = (
        "A whole value: e-mail, SKU, order number, run number, or the Magento id of the "
        "trigger record."
    )
    list_select_related = ("event",)
    date_hierarchy = "queued_at"
    ordering = ("-queued_at", "-id")
    actions = ("retry_runs", "export_csv")
    csv_name = "action-runs"
    csv_columns = (
        ("id", "Run"),
        ("queued_at", "Queued (UTC)"),
        ("finished_at", "Finished (UTC)"),
        ("status", "Status"),
        ("automation_name", "Automation"),
        ("step_position", "Step"),
        ("action_id", "Action"),
        ("connection_name", "Connection"),
        ("subject", "Subject"),
        ("event_id", "Event"),
        ("started_by", "Started by"),
        ("user__username", "User"),
        ("attempts", "Attempts"),
        ("request_method", "Method"),
        ("request_path", "Path"),
        ("error_message", "Error"),
    )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(run_search(term)), False

    @admin.display(description="Status", ordering="status")
    def status_column(self, obj):
        return status_badge(obj.status, obj.get_status_display())

    @admin.display(description="Automation")
    def automation_column(self, obj):
        if obj.event_id is None:
            return "by hand" if obj.started_by != StartedBy.TEST else "test"
        return obj.automation_name or "—"

    @admin.display(description="Action", ordering="action_id")
    def action_label(self, obj):
        return _action_label(obj.action_id)

    @admin.action(description="Retry the selected failed runs", permissions=["execute"])
    def retry_runs(self, request, queryset):
        ids = list(
            queryset.filter(status=RunStatus.FAILED).values_list("pk", flat=True)[: MAX_RETRY + 1]
        )
        if len(ids) > MAX_RETRY:
            self.message_user(
                request,
                f"More than {MAX_RETRY} failed runs are selected: filter the list down first.",
                messages.ERROR,
            )
            return None
        selected = queryset.count() if len(ids) < MAX_RETRY else None
        self._report_retry(request, runs_retry(run_ids=ids, user=request.user))
        if selected is not None and selected > len(ids):
            self.message_user(
                request,
                f"{selected - len(ids)} selected run(s) were not failed and were left as they are.",
                messages.WARNING,
            )
        return None

    def _report_retry(self, request, result) -> None:
        for run in result.retried:
            now = (
                "queued: the worker runs it within a minute"
                if run.status == RunStatus.PENDING
                else f"now {run.get_status_display().lower()}"
            )
            self.message_user(
                request,
                f"Run {run.pk} ({run.action_id}): retried, {now}.",
                messages.SUCCESS if run.status != RunStatus.FAILED else messages.WARNING,
            )
        for run_id, reason in result.refused.items():
            self.message_user(request, f"Run {run_id}: not retried. {reason}", messages.ERROR)

    def get_urls(self):
        custom = [
            path(
                "run-action/",
                self.admin_site.admin_view(self.run_action_view),
                name="automations_actionrun_run_action",
            ),
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="automations_actionrun_export",
            ),
            path(
                "<path:object_id>/retry/",
                self.admin_site.admin_view(self.retry_view),
                name="automations_actionrun_retry",
            ),
        ]
        return custom + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_run_action": request.user.has_perm(EXECUTE_PERMISSION),
            "export_url": reverse("admin:automations_actionrun_export"),
        }
        return super().changelist_view(request, extra_context)

    # -- a run's page -----------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = self.get_object(request, unquote(object_id))
        if run is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, run):
            raise PermissionDenied
        if request.method == "POST":
            raise PermissionDenied  # history is read-only: its page only shows
        siblings = (
            list(
                ActionRun.objects.filter(event_id=run.event_id)
                .order_by("step_position")
                .only("pk", "status", "step_position", "action_id", "subject")
            )
            if run.event_id
            else []
        )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Run {run.pk}: {_action_label(run.action_id)}",
            "subtitle": None,
            "opts": self.opts,
            "run": run,
            "status": status_badge(run.status, run.get_status_display()),
            "action_label": _action_label(run.action_id),
            "timeline": run_timeline(run),
            "inputs_json": pretty_json(run.inputs),
            "mapping_json": pretty_json(run.input_mapping),
            "response_json": pretty_json(run.response),
            "output_json": pretty_json(run.output),
            "siblings": siblings,
            "can_retry": run.status == RunStatus.FAILED
            and request.user.has_perm(EXECUTE_PERMISSION)
            and run.started_by != StartedBy.TEST,
            "audit": audit_entries(run),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/automations/actionrun/run.html", context)

    def retry_view(self, request, object_id):
        """POST: retry one failed run (and the steps skipped after it), back to its page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm(EXECUTE_PERMISSION):
            raise PermissionDenied
        run = get_object_or_404(ActionRun, pk=unquote(object_id))
        self._report_retry(request, runs_retry(run_ids=[run.pk], user=request.user))
        return HttpResponseRedirect(reverse("admin:automations_actionrun_change", args=[run.pk]))

    def run_action_view(self, request):
        """Pick a connection and an action, fill its inputs, run it, see Magento's answer."""
        if not request.user.has_perm(EXECUTE_PERMISSION):
            raise PermissionDenied
        data = request.POST if request.method == "POST" else request.GET
        chooser = ChooseActionForm(data or None)
        inputs_form = None
        run = None
        if chooser.is_valid():
            action = get_action(chooser.cleaned_data["action"])
            if request.method == "POST" and "run" in request.POST:
                inputs_form = action_inputs_form(action, request.POST)
                if inputs_form.is_valid():
                    run = self._run(request, chooser, action, inputs_form)
            else:
                inputs_form = action_inputs_form(action)
        context = {
            **self.admin_site.each_context(request),
            "title": "Run an action",
            "opts": self.model._meta,
            "chooser": chooser,
            "inputs_form": inputs_form,
            "action": get_action(chooser.cleaned_data["action"]) if chooser.is_valid() else None,
            "run": run,
            "run_url": reverse("admin:automations_actionrun_change", args=[run.pk]) if run else "",
            "output_json": _pretty(run.output) if run else "",
            "response_json": _pretty(run.response) if run else "",
        }
        return TemplateResponse(request, "admin/automations/run_action.html", context)

    def _run(self, request, chooser, action, inputs_form) -> ActionRun | None:
        values = {
            name: value
            for name, value in inputs_form.cleaned_data.items()
            if value not in (None, "")
        }
        try:
            return action_run_manual(
                action_id=action.id,
                connection=chooser.cleaned_data["connection"],
                inputs=values,
                user=request.user,
                started_by=StartedBy.USER,
            )
        except ActionInputError as problem:
            for name, message in problem.errors.items():
                inputs_form.add_error(name if name in inputs_form.fields else None, message)
            return None


class ChooseActionForm(forms.Form):
    connection = forms.ModelChoiceField(queryset=Connection.objects.order_by("name"))
    action = forms.ChoiceField(choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "---------"), *action_choices()]


_BOOLEAN_CHOICES = (("", "---------"), ("yes", "Yes"), ("no", "No"))


def _field_for(item: ActionInput) -> forms.Field:
    options: dict[str, Any] = {
        "label": item.label,
        "required": item.required,
        "help_text": item.help_text,
    }
    if item.type == "choice":
        return forms.ChoiceField(choices=(("", "---------"), *item.choices), **options)
    if item.type == "boolean":
        return forms.ChoiceField(choices=_BOOLEAN_CHOICES, **options)
    if item.type in ("lines", "json") or item.multiline:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **options)
    if item.secret:
        return forms.CharField(widget=forms.PasswordInput(render_value=False), **options)
    # Text: the action converts and checks the value, so its message is the one shown.
    return forms.CharField(**options)


def action_inputs_form(action, data=None) -> forms.Form:
    """A form with one field per input of the action (its label, help and required mark)."""
    fields = {item.name: _field_for(item) for item in action.inputs}
    form_class = type(f"{type(action).__name__}Form", (forms.Form,), fields)
    return form_class(data)


def _action_label(action_id: str) -> str:
    try:
        return get_action(action_id).label
    except KeyError:
        return action_id


def _parse_time(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


OUTCOME_WORDS = {
    "succeeded": "succeeded",
    "failed": "failed",
    "retry": "failed; it will be tried again",
    "unknown_outcome": "the store's answer was lost",
}


def run_timeline(run: ActionRun) -> list[dict[str, Any]]:
    """Queued, each attempt (and each retry asked for), finished: in the order they happened."""
    entries: list[dict[str, Any]] = [{"at": run.queued_at, "what": "Queued", "detail": ""}]
    for entry in run.attempt_log or []:
        if "retried_at" in entry:
            who = entry.get("retried_by") or "someone"
            entries.append(
                {
                    "at": _parse_time(entry["retried_at"]),
                    "what": f"Retry asked by {who}",
                    "detail": "",
                }
            )
            continue
        outcome = OUTCOME_WORDS.get(entry.get("outcome", ""), entry.get("outcome", ""))
        details = []
        if entry.get("duration_ms") is not None:
            details.append(f"{entry['duration_ms']} ms")
        if entry.get("error") and entry.get("outcome") != "succeeded":
            details.append(entry["error"] if entry["error"] != "stuck" else "the worker stopped")
        if entry.get("note"):
            details.append(entry["note"])
        if entry.get("retry_at"):
            retry_at = _parse_time(entry["retry_at"])
            if retry_at is not None:
                details.append(f"next try at {retry_at:%Y-%m-%d %H:%M:%S} UTC")
        entries.append(
            {
                "at": _parse_time(entry.get("started_at")),
                "what": f"Attempt {entry.get('attempt', '?')}: {outcome}",
                "detail": "; ".join(details),
            }
        )
    if run.finished_at is not None:
        entries.append(
            {"at": run.finished_at, "what": f"Finished: {run.get_status_display()}", "detail": ""}
        )
    elif run.status == RunStatus.PENDING and run.next_attempt_at:
        entries.append({"at": run.next_attempt_at, "what": "Next try", "detail": ""})
    return entries


def audit_entries(obj) -> list[LogEntry]:
    """The audit trail of one object (who retried or replayed it)."""
    content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
    return list(
        LogEntry.objects.filter(content_type=content_type, object_id=str(obj.pk))
        .select_related("user")
        .order_by("-action_time")[:50]
    )


def _pretty(value: Any) -> str:
    return pretty_json(value)


# The trigger events and the audit trail.
from automations import admin_events  # noqa: E402, F401

"""The automation form and the Test page in the admin: thin doors onto the services.

The add and change pages are one server-rendered form (automations/admin_forms.py) with a small
script (static/automations/automation_form.js) that shows the chosen trigger's options and the
chosen action's inputs, and inserts references picked from the sample record's fields.
Saving goes through automations.services.automation_save, in one transaction.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime

from automations.admin_forms import AutomationEditor
from automations.models import Automation, TriggerSubscription
from automations.polling import cursor_as_dict, subscription_due_at
from automations.portable import automation_as_dict
from automations.selectors import action_output_fields, declared_fields, trigger_sample
from automations.services import AutomationInvalid, automation_save
from automations.testing import automation_test
from automations.triggers import get_trigger, trigger_choices
from connections.models import Connection
from magento.search import KeysetPosition

TEST_PERMISSION = "automations.test_automation"


def _when(value) -> str:
    return date_format(localtime(value), "DATETIME_FORMAT") if value else "—"


def _cursor_text(subscription: TriggerSubscription) -> str:
    cursor = cursor_as_dict(
        None
        if subscription.cursor_timestamp is None
        else KeysetPosition(subscription.cursor_timestamp, subscription.cursor_entity_id)
    )
    if cursor is None:
        return "not started"
    return f"{cursor['timestamp']} UTC, id {cursor['entity_id']}"


def schedule_rows(subscription: TriggerSubscription) -> list[tuple[str, str]]:
    """The subscription's schedule and health, as (label, value) lines for the page."""
    backlog = (
        "no"
        if subscription.backlog_remaining is None
        else f"{subscription.backlog_fetched} read, {subscription.backlog_remaining} still to read"
    )
    return [
        (
            "Next poll",
            _when(subscription_due_at(subscription))
            if subscription.automation.enabled
            else "disabled",
        ),
        (
            "Last poll",
            "never"
            if subscription.last_poll_at is None
            else f"{subscription.get_last_poll_outcome_display()}, "
            f"{_when(subscription.last_poll_at)}",
        ),
        (
            "Last error",
            f"{subscription.last_error} ({_when(subscription.last_error_at)})"
            if subscription.last_error
            else "—",
        ),
        ("Failures in a row", str(subscription.consecutive_failures)),
        (
            "Fires records from",
            _when(subscription.start_from) if subscription.start_from else "the beginning",
        ),
        ("Cursor", _cursor_text(subscription)),
        ("Catching up", backlog),
    ]


def _changed_parts(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    if before is None:
        return []
    labels = {"name": "name", "enabled": "enabled", "description": "description"}
    changed = [label for key, label in labels.items() if before.get(key) != after.get(key)]
    if before.get("trigger") != after.get("trigger"):
        changed.append("trigger")
    if before.get("steps") != after.get("steps"):
        changed.append("steps")
    return changed


class AutomationEditMixin:
    """Add/change pages built from the catalogs, the sample-fields endpoint and Test."""

    change_form_template = "admin/automations/automation/edit.html"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        custom = [
            path(
                "sample-fields/",
                wrap(self.sample_fields_view),
                name="automations_automation_sample_fields",
            ),
            path(
                "<path:object_id>/test/",
                wrap(self.test_view),
                name="automations_automation_test",
            ),
        ]
        return custom + super().get_urls()

    # -- the form ----------------------------------------------------------------------------

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        return self._edit(request, None)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        automation = self.get_object(request, object_id)
        if automation is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, automation):
            raise PermissionDenied
        return self._edit(request, automation)

    def _edit(self, request, automation: Automation | None):
        can_save = (
            self.has_add_permission(request)
            if automation is None
            else self.has_change_permission(request, automation)
        )
        if request.method == "POST":
            if not can_save:
                raise PermissionDenied
            editor = AutomationEditor(automation, request.POST)
            saved = self._save(request, editor, automation)
            if saved is not None:
                return saved
        else:
            editor = AutomationEditor(automation)
        return self._render(request, editor, automation, can_save)

    def _save(self, request, editor: AutomationEditor, automation: Automation | None):
        if not editor.is_valid():
            return None
        spec = editor.spec()
        before = automation_as_dict(automation) if automation is not None else None
        try:
            with transaction.atomic():
                saved = automation_save(spec=spec, automation=automation, user=request.user)
                after = automation_as_dict(saved)
                if automation is None:
                    self.log_addition(request, saved, [{"added": {}}])
                else:
                    changed = _changed_parts(before, after)
                    if changed:
                        self.log_change(request, saved, [{"changed": {"fields": changed}}])
        except AutomationInvalid as problem:
            editor.add_errors(problem, spec.trigger_id)
            return None
        verb = "added" if automation is None else "saved"
        self.message_user(request, f"The automation “{saved.name}” was {verb}.", messages.SUCCESS)
        if "_continue" in request.POST or automation is None:
            return HttpResponseRedirect(
                reverse("admin:automations_automation_change", args=[saved.pk])
            )
        return HttpResponseRedirect(reverse("admin:automations_automation_changelist"))

    def _render(self, request, editor: AutomationEditor, automation, can_save: bool):
        trigger_id = editor.form["trigger_id"].value() or ""
        subscription = getattr(automation, "trigger", None) if automation else None
        try:
            fields = declared_fields(trigger_id) if trigger_id else []
        except KeyError:
            fields = []
        data = {
            "sampleUrl": reverse("admin:automations_automation_sample_fields"),
            "sample": {"trigger": trigger_id, "source": "declared", "note": "", "fields": fields},
            "outputs": action_output_fields(),
            "triggerLabels": dict(trigger_choices()),
        }
        title = "Add an automation" if automation is None else f"Automation “{automation.name}”"
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "original": automation,
            "editor": editor,
            "form": editor.form,
            "slots": editor.visible_slots(),
            "errors": editor.all_errors() if editor.form.is_bound else [],
            "can_save": can_save,
            "can_test": automation is not None and request.user.has_perm(TEST_PERMISSION),
            "can_delete": automation is not None
            and self.has_delete_permission(request, automation),
            "schedule": schedule_rows(subscription) if subscription else [],
            "form_data": data,
            "has_connections": Connection.objects.exists(),
        }
        return TemplateResponse(request, self.change_form_template, context)

    # -- the sample record's fields (for the reference picker) ---------------------------------

    def sample_fields_view(self, request):
        """JSON: the fields of the newest record the chosen trigger would read."""
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        trigger_id = request.GET.get("trigger", "")
        try:
            get_trigger(trigger_id)
        except KeyError:
            raise Http404("No such trigger") from None
        connection_id = request.GET.get("connection", "")
        connection = (
            Connection.objects.filter(pk=int(connection_id)).first()
            if connection_id.isascii() and connection_id.isdigit()
            else None
        )
        sample = trigger_sample(connection=connection, trigger_id=trigger_id)
        return JsonResponse(sample.as_dict())

    # -- Test ----------------------------------------------------------------------------------

    def test_view(self, request, object_id):
        """POST: run the saved steps on the sample record and show each step."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm(TEST_PERMISSION):
            raise PermissionDenied
        automation = get_object_or_404(Automation.objects.select_related("trigger"), pk=object_id)
        send_for_real = request.POST.get("send_for_real") == "on"
        report = automation_test(
            automation=automation, send_for_real=send_for_real, user=request.user
        )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Test of “{automation.name}”",
            "opts": self.opts,
            "original": automation,
            "report": report,
            "record_json": _pretty(report.record),
            "steps": [
                {
                    "step": step,
                    "inputs_json": _pretty(step.inputs),
                    "body_json": _pretty(step.request_body),
                    "answer_json": _pretty(step.answer),
                    "run_url": reverse("admin:automations_actionrun_change", args=[step.run_id])
                    if step.run_id
                    else "",
                }
                for step in report.steps
            ],
        }
        return TemplateResponse(request, "admin/automations/automation/test.html", context)


def _pretty(value: Any) -> str:
    if value is None:
        return ""
    return json.dumps(value, indent=2, ensure_ascii=False)

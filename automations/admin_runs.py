"""Admin for action runs: the read-only run list and the "Run an action" page.

The page builds its form from the chosen action's declared inputs (labels, help, required
marks), runs the action once through `action_run_manual` and shows Magento's answer.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse

from automations.actions import ActionInput, ActionInputError, action_choices, get_action
from automations.models import ActionRun, StartedBy
from automations.runs import action_run_manual
from connections.models import Connection

EXECUTE_PERMISSION = "automations.execute_action"


@admin.register(ActionRun)
class ActionRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "status",
        "action_id",
        "connection_name",
        "subject",
        "attempts",
        "started_by",
        "queued_at",
    )
    list_filter = ("status", "action_id", "started_by")
    search_fields = ("subject", "connection_name", "automation_name")
    list_select_related = ("connection",)
    show_full_result_count = False
    date_hierarchy = "queued_at"
    ordering = ("-queued_at", "-id")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        custom = [
            path(
                "run-action/",
                self.admin_site.admin_view(self.run_action_view),
                name="automations_actionrun_run_action",
            )
        ]
        return custom + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_run_action": request.user.has_perm(EXECUTE_PERMISSION),
        }
        return super().changelist_view(request, extra_context)

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


def _pretty(value: Any) -> str:
    if value is None:
        return ""
    return json.dumps(value, indent=2, ensure_ascii=False)

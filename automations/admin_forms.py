"""The automation form's pieces: the automation and trigger form, and one form per step slot.

The fields are generated from the catalogs: each trigger's filters and options
(TriggerFilter/TriggerOption) and each action's inputs (ActionInput), so a new trigger or
action appears in the form without touching it. Every field of every trigger and action is
rendered; the page shows the chosen one's (automation_form.js, or the `hidden` attributes the
template sets from the current choice when there is no JavaScript).

Forms only read what was typed; automations.services.automation_save validates and writes,
and its errors (by path) are put back on the fields here.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms

from automations.actions import action_choices, get_action
from automations.models import (
    DEFAULT_POLL_INTERVAL_MINUTES,
    MAX_POLL_INTERVAL_MINUTES,
    MIN_POLL_INTERVAL_MINUTES,
    Automation,
)
from automations.services import (
    MAX_DESCRIPTION_LENGTH,
    MAX_INPUT_LENGTH,
    MAX_NAME_LENGTH,
    MAX_STEPS,
    AutomationInvalid,
    AutomationSpec,
    StepSpec,
)
from automations.triggers import TRIGGERS, get_trigger, trigger_choices
from automations.triggers._base import START_ALL, START_NOW, START_OPTION
from connections.models import Connection

START_DATE = "date"
START_CHOICES = (
    (START_NOW, "From now on (nothing already in the store)"),
    (START_ALL, "Everything already in the store, then new ones"),
    (START_DATE, "From a date"),
)
# Messages from automation_save already name their field; Django's own ones get its label.
_NAMED = ("Name:", "Description:", "Enabled:", "Trigger", "Step ", "Steps:")


def option_field_name(trigger_id: str, option: str) -> str:
    return f"opt__{trigger_id}__{option}"


def input_field_name(action_id: str, input_name: str) -> str:
    return f"{action_id}__{input_name}"


def _connections():
    return Connection.objects.order_by("name")


class AutomationForm(forms.Form):
    """Name, enabled, and the trigger: connection, type, start, filters, options, interval."""

    name = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"maxlength": MAX_NAME_LENGTH, "size": 60}),
        help_text="What people see in lists and run history, e.g. “Ship new orders”.",
    )
    enabled = forms.BooleanField(
        required=False,
        initial=True,
        help_text="Polls the store while enabled. A change applies at the next minute.",
    )
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": MAX_DESCRIPTION_LENGTH}),
    )
    connection = forms.ModelChoiceField(
        queryset=Connection.objects.none(),
        required=False,
        label="Store",
        help_text="The store connection the trigger watches.",
    )
    trigger_id = forms.ChoiceField(
        choices=(), required=False, label="Trigger", help_text="What starts the automation."
    )
    start = forms.ChoiceField(choices=START_CHOICES, initial=START_NOW, label="Start")
    start_date = forms.CharField(
        required=False,
        label="Start date",
        help_text="With “From a date”: e.g. 2024-05-01 or 2024-05-01T08:00:00+02:00 (UTC "
        "unless it names a zone).",
    )
    poll_interval_minutes = forms.CharField(
        label="Check every (minutes)",
        initial=DEFAULT_POLL_INTERVAL_MINUTES,
        required=False,
        help_text=f"{MIN_POLL_INTERVAL_MINUTES} to {MAX_POLL_INTERVAL_MINUTES} minutes.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 4}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["connection"].queryset = _connections()
        self.fields["trigger_id"].choices = [("", "---------"), *trigger_choices()]
        self.option_fields: dict[str, list[str]] = {}
        for trigger_id in TRIGGERS or dict(trigger_choices()):
            trigger = get_trigger(trigger_id)
            names = []
            for item in trigger.filters:
                name = option_field_name(trigger_id, item.name)
                if item.choices:
                    self.fields[name] = forms.MultipleChoiceField(
                        label=item.label,
                        required=False,
                        choices=item.choices,
                        help_text=item.help_text,
                        widget=forms.CheckboxSelectMultiple,
                    )
                else:
                    several = "ids" if item.type == "int" else "values"
                    self.fields[name] = forms.CharField(
                        label=item.label,
                        required=False,
                        help_text=f"{item.help_text} Several {several}: separate them with "
                        "commas. Empty: no filter.".strip(),
                    )
                names.append(name)
            for item in trigger.options:
                name = option_field_name(trigger_id, item.name)
                self.fields[name] = forms.BooleanField(
                    label=item.label,
                    required=False,
                    initial=bool(item.default),
                    help_text=item.help_text,
                )
                names.append(name)
            self.option_fields[trigger_id] = names

    def trigger_groups(self) -> list[dict[str, Any]]:
        """For the template: each trigger with its description and its option fields."""
        chosen = self["trigger_id"].value() or ""
        return [
            {
                "id": trigger_id,
                "label": label,
                "description": get_trigger(trigger_id).description,
                "fields": [self[name] for name in self.option_fields.get(trigger_id, [])],
                "hidden": trigger_id != chosen,
            }
            for trigger_id, label in trigger_choices()
        ]

    def options(self, trigger_id: str) -> dict[str, Any]:
        """The chosen trigger's options as the trigger reads them (filters as lists)."""
        data = self.cleaned_data
        start = data.get("start") or START_NOW
        options: dict[str, Any] = {
            START_OPTION: (data.get("start_date") or "").strip() if start == START_DATE else start
        }
        if trigger_id not in self.option_fields:
            return options
        trigger = get_trigger(trigger_id)
        for item in trigger.filters:
            value = data.get(option_field_name(trigger_id, item.name))
            if isinstance(value, list):
                values = value
            else:
                values = [part.strip() for part in (value or "").split(",") if part.strip()]
            if values:
                options[item.name] = values
        for item in trigger.options:
            options[item.name] = bool(data.get(option_field_name(trigger_id, item.name)))
        return options

    @staticmethod
    def initial_for(automation: Automation | None) -> dict[str, Any]:
        """The form's initial values for an automation (or a new one)."""
        if automation is None:
            return {
                "enabled": True,
                "start": START_NOW,
                "poll_interval_minutes": DEFAULT_POLL_INTERVAL_MINUTES,
            }
        initial: dict[str, Any] = {
            "name": automation.name,
            "enabled": automation.enabled,
            "description": automation.description,
        }
        subscription = getattr(automation, "trigger", None)
        if subscription is None:
            return initial
        options = subscription.options or {}
        start = options.get(START_OPTION, START_NOW)
        initial.update(
            connection=subscription.connection_id,
            trigger_id=subscription.trigger_id,
            poll_interval_minutes=subscription.poll_interval_minutes,
            start=start if start in (START_NOW, START_ALL) else START_DATE,
            start_date="" if start in (START_NOW, START_ALL) else start,
        )
        try:
            trigger = get_trigger(subscription.trigger_id)
        except KeyError:
            return initial
        for item in trigger.filters:
            value = options.get(item.name)
            if value:
                name = option_field_name(trigger.id, item.name)
                initial[name] = value if item.choices else ", ".join(str(v) for v in value)
        for item in trigger.options:
            initial[option_field_name(trigger.id, item.name)] = options.get(item.name, item.default)
        return initial


class StepForm(forms.Form):
    """One step slot: the action, its connection, and every action's inputs (as typed text)."""

    action = forms.ChoiceField(choices=(), required=False, label="Action")
    connection = forms.ModelChoiceField(
        queryset=Connection.objects.none(),
        required=False,
        label="Store",
        help_text="The store this step works on; it may differ from the trigger's.",
    )
    remove = forms.BooleanField(required=False, label="Remove this step")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["connection"].queryset = _connections()
        self.fields["action"].choices = [("", "---------"), *action_choices()]
        self.input_fields: dict[str, list[tuple[str, Any]]] = {}
        for action_id, _label in action_choices():
            action = get_action(action_id)
            fields = []
            for item in action.inputs:
                name = input_field_name(action_id, item.name)
                attrs = {
                    "data-input": item.name,
                    "data-input-type": item.type,
                    "maxlength": MAX_INPUT_LENGTH,
                }
                if item.type in ("lines", "json"):
                    widget = forms.Textarea(attrs={**attrs, "rows": 2})
                else:
                    widget = forms.TextInput(attrs={**attrs, "size": 50})
                help_text = item.help_text
                if item.type == "choice":
                    codes = ", ".join(f"{code} ({label})" for code, label in item.choices)
                    help_text = f"{help_text} One of: {codes}.".strip()
                elif item.type == "boolean":
                    help_text = f"{help_text} yes or no.".strip()
                if item.default is not None and item.type in ("choice", "boolean"):
                    shown = item.default if item.type == "choice" else "yes" * item.default
                    help_text = f"{help_text} Default: {shown or 'no'}."
                self.fields[name] = forms.CharField(
                    label=item.label,
                    required=False,
                    strip=False,
                    help_text=help_text,
                    widget=widget,
                )
                fields.append((name, item))
            self.input_fields[action_id] = fields

    def chosen_action(self) -> str:
        return self["action"].value() or ""

    def is_blank(self) -> bool:
        return not self.chosen_action() or bool(self.cleaned_data.get("remove"))

    def action_groups(self) -> list[dict[str, Any]]:
        """For the template: each action with its input fields (label, help, required)."""
        chosen = self.chosen_action()
        groups = []
        for action_id, label in action_choices():
            action = get_action(action_id)
            groups.append(
                {
                    "id": action_id,
                    "label": label,
                    "description": action.description,
                    "writes": action.writes,
                    "hidden": action_id != chosen,
                    "fields": [
                        {"field": self[name], "input": item}
                        for name, item in self.input_fields[action_id]
                    ],
                }
            )
        return groups

    def spec(self) -> StepSpec:
        action_id = self.cleaned_data.get("action") or ""
        inputs = {}
        for name, item in self.input_fields.get(action_id, []):
            value = self.cleaned_data.get(name)
            if value is not None and value.strip():
                inputs[item.name] = value
        return StepSpec(action_id, self.cleaned_data.get("connection"), inputs)

    @staticmethod
    def initial_for(step) -> dict[str, Any]:
        initial: dict[str, Any] = {"action": step.action_id, "connection": step.connection_id}
        for name, value in (step.inputs or {}).items():
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            initial[input_field_name(step.action_id, name)] = text
        return initial


class AutomationEditor:
    """The automation form and its step slots, bound to a request or made from an automation.

    `slots` is how many step slots the page has: the steps, then empty ones (the page shows the
    first empty one, and "Add a step" shows the next).
    """

    def __init__(self, automation: Automation | None = None, data=None):
        self.automation = automation
        steps = list(automation.steps.order_by("position")) if automation else []
        if data is not None:
            slots = _slot_count(data.get("step_slots"), len(steps))
            self.form = AutomationForm(data, initial=AutomationForm.initial_for(automation))
            self.steps = [StepForm(data, prefix=f"step{index}") for index in range(slots)]
        else:
            slots = min(MAX_STEPS, max(len(steps) + 3, 3))
            self.form = AutomationForm(initial=AutomationForm.initial_for(automation))
            self.steps = [
                StepForm(
                    prefix=f"step{index}",
                    initial=StepForm.initial_for(steps[index]) if index < len(steps) else None,
                )
                for index in range(slots)
            ]
        self.slots = slots
        # Position (1, 2, ...) of each step slot that is used, for putting errors back.
        self.slot_of_position: dict[int, StepForm] = {}

    def is_valid(self) -> bool:
        valid = self.form.is_valid()
        for step in self.steps:
            valid = step.is_valid() and valid
        return valid

    def spec(self) -> AutomationSpec:
        data = self.form.cleaned_data
        trigger_id = data.get("trigger_id") or ""
        steps = []
        self.slot_of_position = {}
        for step in self.steps:
            if step.is_blank():
                continue
            steps.append(step.spec())
            self.slot_of_position[len(steps)] = step
        interval_text = (data.get("poll_interval_minutes") or "").strip()
        interval: Any = (
            int(interval_text)
            if interval_text.isascii() and interval_text.isdigit()
            else interval_text
        )
        return AutomationSpec(
            name=data.get("name") or "",
            connection=data.get("connection"),
            trigger_id=trigger_id,
            options=self.form.options(trigger_id),
            poll_interval_minutes=interval,
            enabled=bool(data.get("enabled")),
            description=data.get("description") or "",
            steps=steps,
        )

    def add_errors(self, problem: AutomationInvalid, trigger_id: str) -> None:
        """Put the service's errors (by path) on the fields they name."""
        direct = {
            "name": "name",
            "description": "description",
            "enabled": "enabled",
            "trigger.connection": "connection",
            "trigger.type": "trigger_id",
            "trigger.poll_interval_minutes": "poll_interval_minutes",
        }
        for path, message in problem.errors.items():
            if path in direct:
                self.form.add_error(direct[path], message)
            elif path.startswith("trigger.options."):
                option = path.removeprefix("trigger.options.")
                name = option_field_name(trigger_id, option)
                if option == START_OPTION:
                    name = (
                        "start_date"
                        if self.form.cleaned_data.get("start") == START_DATE
                        else "start"
                    )
                self.form.add_error(name if name in self.form.fields else None, message)
            elif path.startswith("steps."):
                parts = path.split(".", 3)
                step = self.slot_of_position.get(int(parts[1])) if parts[1].isdigit() else None
                if step is None:
                    self.form.add_error(None, message)
                    continue
                target = None
                if len(parts) >= 3 and parts[2] in ("action", "connection"):
                    target = parts[2]
                elif len(parts) == 4:
                    name = input_field_name(step.cleaned_data.get("action") or "", parts[3])
                    target = name if name in step.fields else None
                step.add_error(target, message)
            else:
                self.form.add_error(None, message)

    def all_errors(self) -> list[str]:
        """Every error message on the page, for the summary at its top, each naming its field
        ("Step 2 (Ship an order), Order ID: ...")."""
        actions = dict(action_choices())
        messages = []
        forms_and_titles = [
            (self.form, ""),
            *((step, f"Step {number}") for number, step in enumerate(self.steps, 1)),
        ]
        for form, title in forms_and_titles:
            for name, errors in form.errors.items():
                label = "" if name == "__all__" else str(form[name].label)
                where = title
                if name.startswith("opt__"):
                    where = "Trigger"
                elif "__" in name and title:
                    action_id = name.split("__", 1)[0]
                    where = f"{title} ({actions.get(action_id, action_id)})"
                where = ", ".join(part for part in (where, label) if part)
                for message in errors:
                    named = message.startswith(_NAMED) or not where
                    messages.append(message if named else f"{where}: {message}")
        return messages

    def visible_slots(self) -> list[dict[str, Any]]:
        """Each slot for the template, with whether it is shown: used slots, then one empty."""
        shown_empty = False
        slots = []
        for index, step in enumerate(self.steps):
            used = bool(step.chosen_action()) or bool(step.errors)
            hidden = not used and shown_empty
            if not used:
                shown_empty = True
            slots.append({"number": index + 1, "form": step, "hidden": hidden})
        return slots


def _slot_count(value: Any, existing: int) -> int:
    text = str(value or "").strip()
    count = int(text) if text.isascii() and text.isdigit() else existing + 1
    return max(1, min(MAX_STEPS, count))

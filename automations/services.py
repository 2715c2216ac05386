"""Writing automations: their trigger subscriptions and their steps.

Admin pages, commands and the import are doors onto these services: they validate what a
person gives, fix the subscription's start point when it is enabled, and keep the schedule's
fields consistent.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from automations.actions import ActionInputError, action_choices, get_action
from automations.actions._base import convert
from automations.audit import CHANGE, audit_log
from automations.mapping import check_mapping, references
from automations.models import (
    DEFAULT_LOOKBACK_SECONDS,
    DEFAULT_POLL_INTERVAL_MINUTES,
    MAX_POLL_INTERVAL_MINUTES,
    MIN_POLL_INTERVAL_MINUTES,
    Automation,
    AutomationStep,
    TriggerEvent,
    TriggerSubscription,
)
from automations.runs import automation_steps, runs_create_for_events, runs_enqueue_for_events
from automations.triggers import get_trigger, trigger_choices
from automations.triggers._base import (
    START_NOW,
    START_OPTION,
    OptionsError,
    shown,
    start_moment,
)
from connections.models import Connection
from connections.validation import unseen_character, unseen_character_message

MAX_LOOKBACK_SECONDS = 3600
MAX_NAME_LENGTH = Automation._meta.get_field("name").max_length


def _clean_interval(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            {"poll_interval_minutes": "The poll interval must be a whole number of minutes."}
        )
    if not MIN_POLL_INTERVAL_MINUTES <= value <= MAX_POLL_INTERVAL_MINUTES:
        raise ValidationError(
            {
                "poll_interval_minutes": f"Poll every {MIN_POLL_INTERVAL_MINUTES} to "
                f"{MAX_POLL_INTERVAL_MINUTES} minutes (got {value})."
            }
        )
    return value


def _clean_trigger(trigger_id: str, options: Any) -> dict[str, Any]:
    try:
        if not isinstance(trigger_id, str):
            raise KeyError(trigger_id)
        trigger = get_trigger(trigger_id)
    except KeyError:
        raise ValidationError({"trigger_id": f"There is no trigger {shown(trigger_id)}."}) from None
    try:
        return trigger.clean_options(options)
    except OptionsError as error:
        raise ValidationError(
            {"options": [f"{name}: {text}" for name, text in error.errors.items()]}
        ) from None


def _subscription_start(
    automation: Automation,
    *,
    connection: Connection,
    trigger_id: str,
    options: dict[str, Any],
    poll_interval_minutes: int,
    now: dt.datetime,
    lookback_seconds: int = DEFAULT_LOOKBACK_SECONDS,
) -> TriggerSubscription:
    """A new walk for `automation`: its start point fixed now from the "start" option (so
    nothing made before the first poll is missed, and nothing older fires), due at once."""
    return TriggerSubscription.objects.create(
        automation=automation,
        connection=connection,
        trigger_id=trigger_id,
        options=options,
        poll_interval_minutes=poll_interval_minutes,
        lookback_seconds=lookback_seconds,
        start_from=start_moment(options.get(START_OPTION, START_NOW), now),
        next_poll_at=now,
    )


@transaction.atomic
def subscription_start_over(*, automation: Automation, now: dt.datetime | None = None) -> None:
    """Walk the automation's store again from its start option, as if just enabled (its store
    was replaced, e.g. a new sandbox); past events stay in the history, unlinked."""
    subscription = TriggerSubscription.objects.filter(automation=automation).first()
    if subscription is None:
        return
    subscription.delete()
    _subscription_start(
        automation,
        connection=subscription.connection,
        trigger_id=subscription.trigger_id,
        options=subscription.options,
        poll_interval_minutes=subscription.poll_interval_minutes,
        now=now or timezone.now(),
        lookback_seconds=subscription.lookback_seconds,
    )


@transaction.atomic
def automation_create(
    *,
    name: str,
    connection: Connection,
    trigger_id: str,
    options: dict[str, Any] | None = None,
    poll_interval_minutes: int = DEFAULT_POLL_INTERVAL_MINUTES,
    lookback_seconds: int = DEFAULT_LOOKBACK_SECONDS,
    enabled: bool = True,
    user: Any = None,
    now: dt.datetime | None = None,
) -> Automation:
    """Create an automation and its trigger subscription (steps are added separately).

    Validates the trigger id, its options and the interval (ValidationError names the field).
    An enabled subscription's start point is fixed now, so records made before its first poll
    still fire and nothing older does (for "start": "now").
    """
    if not isinstance(name, str | None):
        raise ValidationError({"name": "The name must be text."})
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the automation a name."})
    if char := unseen_character(name):
        raise ValidationError({"name": unseen_character_message("name", char)})
    if len(name) > MAX_NAME_LENGTH:
        too_long = f"The name is too long ({len(name)} characters); use at most {MAX_NAME_LENGTH}."
        raise ValidationError({"name": too_long})
    if Automation.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": f"An automation named {name!r} already exists."})
    cleaned = _clean_trigger(trigger_id, options)
    interval = _clean_interval(poll_interval_minutes)
    if (
        isinstance(lookback_seconds, bool)
        or not isinstance(lookback_seconds, int)
        or not 0 <= lookback_seconds <= MAX_LOOKBACK_SECONDS
    ):
        raise ValidationError(
            {"lookback_seconds": f"The look-back window is 0 to {MAX_LOOKBACK_SECONDS} seconds."}
        )
    now = now or timezone.now()
    user = user if getattr(user, "pk", None) else None
    automation = Automation.objects.create(
        name=name, enabled=enabled, created_by=user, updated_by=user
    )
    _subscription_start(
        automation,
        connection=connection,
        trigger_id=trigger_id,
        options=cleaned,
        poll_interval_minutes=interval,
        now=now,
        lookback_seconds=lookback_seconds,
    )
    return automation


@transaction.atomic
def automation_set_enabled(
    *, automation: Automation, enabled: bool, user: Any = None, now: dt.datetime | None = None
) -> Automation:
    """Switch an automation's polling on or off (takes effect at the next minute's dispatch).

    Enabling with "start": "now" moves the start point to now: records made while it was
    disabled do not fire. With "all" or a date it continues from its cursor.
    """
    now = now or timezone.now()
    automation = Automation.objects.select_for_update().get(pk=automation.pk)
    if automation.enabled == enabled:
        return automation
    automation.enabled = enabled
    if getattr(user, "pk", None):
        automation.updated_by = user
    automation.save(update_fields=["enabled", "updated_by", "updated_at"])
    audit_log(
        user=user,
        obj=automation,
        action_flag=CHANGE,
        message="Enabled: polling from the next minute." if enabled else "Disabled.",
    )
    subscription = TriggerSubscription.objects.filter(automation=automation).first()
    if enabled and subscription is not None:
        start = (subscription.options or {}).get(START_OPTION, "now")
        fields: dict[str, Any] = {"next_poll_at": now, "consecutive_failures": 0}
        if start == "now":
            fields["start_from"] = start_moment(start, now)
            fields["backlog_remaining"] = None
        TriggerSubscription.objects.filter(pk=subscription.pk).update(**fields)
    return automation


@transaction.atomic
def subscription_update(
    *,
    subscription: TriggerSubscription,
    poll_interval_minutes: int | None = None,
    options: dict[str, Any] | None = None,
) -> TriggerSubscription:
    """Change how often and what a subscription polls (its cursor and start stay)."""
    fields: dict[str, Any] = {}
    if poll_interval_minutes is not None:
        fields["poll_interval_minutes"] = _clean_interval(poll_interval_minutes)
    if options is not None:
        cleaned = _clean_trigger(subscription.trigger_id, options)
        # The start point is fixed when enabled; a changed start option applies on enabling.
        fields["options"] = cleaned
    if fields:
        TriggerSubscription.objects.filter(pk=subscription.pk).update(**fields)
        subscription.refresh_from_db()
    return subscription


@transaction.atomic
def events_replay(
    *,
    automation: Automation,
    detected_from: dt.datetime,
    detected_until: dt.datetime,
    user: Any = None,
) -> list[TriggerEvent]:
    """Deliver the automation's events detected in [from, until) again, as new replay events.

    Each replay is a new event marked `is_replay` (pointing at the original), with its own runs
    of the automation's current steps, queued when this commits. Replays are never replayed.
    """
    if detected_until <= detected_from:
        raise ValidationError("The end of the replay window must be after its start.")
    originals = list(
        TriggerEvent.objects.filter(
            automation=automation,
            is_replay=False,
            detected_at__gte=detected_from,
            detected_at__lt=detected_until,
        ).order_by("record_timestamp", "entity_id")
    )
    replays = _replay(automation, originals, user)
    audit_log(
        user=user,
        obj=automation,
        action_flag=CHANGE,
        message=f"Replayed {len(replays)} event(s) detected from {detected_from:%Y-%m-%d %H:%M} "
        f"to {detected_until:%Y-%m-%d %H:%M} UTC.",
    )
    return replays


@transaction.atomic
def events_replay_selected(*, event_ids: Iterable[int], user: Any = None) -> ReplayResult:
    """Deliver chosen events again (the history's "Replay" action), as events_replay does.

    Replays are not replayed again (replay the original), and events whose automation was
    deleted cannot be: both are refused with the reason.
    """
    result = ReplayResult()
    chosen = list(
        TriggerEvent.objects.filter(pk__in=list(event_ids))
        .select_related("automation")
        .order_by("record_timestamp", "entity_id")
    )
    by_automation: dict[int, list[TriggerEvent]] = {}
    for event in chosen:
        if event.is_replay:
            result.refused[event.pk] = "It is a replay: replay the original event instead."
        elif event.automation is None:
            result.refused[event.pk] = "Its automation was deleted."
        else:
            by_automation.setdefault(event.automation_id, []).append(event)
    for originals in by_automation.values():
        automation = originals[0].automation
        replays = _replay(automation, originals, user)
        result.replays.extend(replays)
        for original, replay in zip(originals, replays, strict=True):
            audit_log(
                user=user,
                obj=original,
                action_flag=CHANGE,
                message=f"Replayed as event {replay.pk} of automation {automation.name!r}.",
            )
    return result


@dataclass
class ReplayResult:
    replays: list[TriggerEvent] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


def _replay(automation: Automation, originals: list[TriggerEvent], user: Any) -> list[TriggerEvent]:
    now = timezone.now()
    user = user if getattr(user, "pk", None) else None
    steps = automation_steps([automation.pk])
    replays = [
        TriggerEvent(
            subscription_id=original.subscription_id,
            automation=automation,
            automation_name=automation.name,
            connection_id=original.connection_id,
            trigger_id=original.trigger_id,
            entity_id=original.entity_id,
            entity_key=original.entity_key,
            dedup_key=original.dedup_key,
            record=original.record,
            changes=original.changes,
            record_timestamp=original.record_timestamp,
            detected_at=now,
            lag_seconds=original.lag_seconds,
            is_replay=True,
            has_runs=bool(steps),
            replay_of=original,
            replayed_by=user,
        )
        for original in originals
    ]
    if not replays:
        return []
    TriggerEvent.objects.bulk_create(replays)
    runs = runs_create_for_events(replays, steps)
    with_runs = sorted({run.event_id for run in runs})
    if with_runs:
        transaction.on_commit(lambda: runs_enqueue_for_events(with_runs))
    return replays


# -- the whole automation: name, trigger and steps, saved together ---------------------------

MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 2000
MAX_STEPS = 20
# One step input as typed (text, or JSON for lists and objects): a long comment fits, a file
# pasted by mistake does not.
MAX_INPUT_LENGTH = 5000
# Inputs that hold several lines (street lines) or JSON may contain line breaks and tabs.
_MULTILINE_TYPES = ("lines", "json")
_ALLOWED_IN_MULTILINE = {"\n", "\r", "\t"}


@dataclass
class StepSpec:
    """One step as a form or a file gives it: the action, its connection and the input mapping."""

    action_id: str
    connection: Connection | None
    inputs: dict[str, Any] = field(default_factory=dict)


@dataclass
class AutomationSpec:
    """An automation as a form or a file gives it; `automation_save` validates and writes it."""

    name: str
    connection: Connection | None
    trigger_id: str
    options: dict[str, Any] = field(default_factory=dict)
    poll_interval_minutes: Any = DEFAULT_POLL_INTERVAL_MINUTES
    enabled: bool = True
    description: str = ""
    steps: list[StepSpec] = field(default_factory=list)


class AutomationInvalid(ValidationError):
    """What is wrong with an automation: `errors` maps a field path to a message that names it.

    Paths: "name", "description", "enabled", "trigger.connection", "trigger.type",
    "trigger.poll_interval_minutes", "trigger.options.<option>", "steps", "steps.<n>.action",
    "steps.<n>.connection", "steps.<n>.inputs", "steps.<n>.inputs.<input>" (n counts from 1).
    """

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__({path: [message] for path, message in self.errors.items()})


def _unseen(value: str, *, multiline: bool = False) -> str | None:
    for char in value:
        if multiline and char in _ALLOWED_IN_MULTILINE:
            continue
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            return char
    return None


def _unseen_words(char: str) -> str:
    if char in "\r\n":
        return "a line break"
    if char == "\t":
        return "a tab"
    name = unicodedata.name(char, "")
    return f"an invisible or control character (U+{ord(char):04X}{' ' + name if name else ''})"


def _clean_text(
    errors: dict[str, str], path: str, label: str, value: Any, limit: int, *, multiline=False
) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[path] = f"{label}: expected text, got {type(value).__name__}."
        return ""
    value = value.strip()
    if len(value) > limit:
        errors[path] = f"{label}: at most {limit} characters (this one has {len(value)})."
    elif (char := _unseen(value, multiline=multiline)) is not None:
        errors[path] = f"{label}: it contains {_unseen_words(char)}; type it again without it."
    return value


def _text_problem(value: Any, *, multiline: bool) -> str | None:
    """What is wrong with the text parts of a mapping value (length, control characters)."""
    if isinstance(value, str):
        if len(value) > MAX_INPUT_LENGTH:
            return f"at most {MAX_INPUT_LENGTH} characters (this one has {len(value)})"
        char = _unseen(value, multiline=multiline)
        if char is not None:
            return f"it contains {_unseen_words(char)}; type it again without it"
        return None
    if isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        items = value
    elif value is None or isinstance(value, bool | int | float):
        return None
    else:
        return f"expected text or JSON, got {type(value).__name__}"
    if len(json.dumps(value, ensure_ascii=False, default=str)) > MAX_INPUT_LENGTH:
        return f"at most {MAX_INPUT_LENGTH} characters of JSON"
    for item in items:
        problem = _text_problem(item, multiline=multiline)
        if problem:
            return problem
    return None


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def clean_step(position: int, step: StepSpec) -> tuple[dict[str, Any], dict[str, str]]:
    """A step's mapping with empty inputs left out, and its problems by path.

    Checks before any data is seen: the action and connection exist, each input is one the
    action has, required inputs are given, references are plain and point at earlier steps,
    and a literal value fits its input's type. Messages name the step and the input.
    """
    errors: dict[str, str] = {}
    base = f"steps.{position}"
    try:
        action = get_action(step.action_id) if isinstance(step.action_id, str) else None
    except KeyError:
        action = None
    if action is None:
        shown = step.action_id if isinstance(step.action_id, str) else "(none)"
        known = ", ".join(action_id for action_id, _label in action_choices())
        what = f"there is no action {shown[:80]!r}" if shown else "choose an action"
        errors[f"{base}.action"] = f"Step {position}: {what} (actions: {known})."
        return {}, errors
    title = f"Step {position} ({action.label})"
    if step.connection is None:
        errors[f"{base}.connection"] = f"{title}: choose the store connection it runs on."
    if not isinstance(step.inputs, dict):
        errors[f"{base}.inputs"] = f"{title}: inputs must be an object of input names and values."
        return {}, errors
    declared = {item.name: item for item in action.inputs}
    mapping: dict[str, Any] = {}
    for name, value in step.inputs.items():
        item = declared.get(name)
        if item is None:
            known = ", ".join(declared)
            errors[f"{base}.inputs.{str(name)[:80]}"] = (
                f"{title}: the action has no input {str(name)[:80]!r} (its inputs: {known})."
            )
            continue
        if _empty(value):
            continue
        where = f"{title}, {item.label}"
        problem = _text_problem(value, multiline=item.type in _MULTILINE_TYPES)
        if problem is None:
            problem = check_mapping({name: value}, position=position).get(name)
        if problem is None and not references(value):
            try:
                convert(item, value)
            except ValueError as wrong:
                problem = str(wrong)
        if problem:
            errors[f"{base}.inputs.{name}"] = f"{where}: {problem.rstrip('.')}."
            continue
        mapping[name] = value.strip() if isinstance(value, str) and item.type != "lines" else value
    for item in action.inputs:
        if item.required and item.default is None and item.name not in mapping:
            path = f"{base}.inputs.{item.name}"
            errors.setdefault(path, f"{title}, {item.label}: this input is required.")
    if not errors and not any(references(value) for value in mapping.values()):
        # All literal: the action's own checks across inputs can run now.
        try:
            action.validate(dict(mapping))
        except ActionInputError as problem:
            for name, text in problem.errors.items():
                label = declared[name].label if name in declared else name
                errors[f"{base}.inputs.{name}"] = f"{title}, {label}: {text.rstrip('.')}."
    return mapping, errors


def automation_validate(spec: AutomationSpec, *, automation: Automation | None = None):
    """The spec with clean values (name stripped, options with defaults, empty inputs left
    out), or AutomationInvalid naming every field that is wrong."""
    errors: dict[str, str] = {}
    name = _clean_text(errors, "name", "Name", spec.name, MAX_NAME_LENGTH)
    if not name and "name" not in errors:
        errors["name"] = "Name: give the automation a name."
    elif "name" not in errors:
        clash = Automation.objects.filter(name__iexact=name)
        if automation is not None:
            clash = clash.exclude(pk=automation.pk)
        if clash.exists():
            errors["name"] = f"Name: an automation named {name!r} already exists."
    description = _clean_text(
        errors,
        "description",
        "Description",
        spec.description,
        MAX_DESCRIPTION_LENGTH,
        multiline=True,
    )
    if not isinstance(spec.enabled, bool):
        errors["enabled"] = "Enabled: must be true or false."
    if spec.connection is None:
        errors["trigger.connection"] = "Trigger: choose the store connection it watches."
    options: dict[str, Any] = {}
    trigger = None
    if not isinstance(spec.trigger_id, str) or not spec.trigger_id:
        errors["trigger.type"] = "Trigger: choose what starts the automation."
    else:
        try:
            trigger = get_trigger(spec.trigger_id)
        except KeyError:
            known = ", ".join(trigger_id for trigger_id, _label in trigger_choices())
            errors["trigger.type"] = (
                f"Trigger: there is no trigger {spec.trigger_id[:80]!r} (triggers: {known})."
            )
    if trigger is not None:
        try:
            options = trigger.clean_options(spec.options)
        except OptionsError as problem:
            labels = {item.name: item.label for item in (*trigger.filters, *trigger.options)}
            labels["start"] = "Start"
            for option, text in problem.errors.items():
                label = labels.get(option, str(option)[:80])
                errors[f"trigger.options.{str(option)[:80]}"] = f"Trigger, {label}: {text}."
    try:
        interval = _clean_interval(spec.poll_interval_minutes)
    except ValidationError as problem:
        interval = DEFAULT_POLL_INTERVAL_MINUTES
        errors["trigger.poll_interval_minutes"] = (
            f"Trigger: {problem.message_dict['poll_interval_minutes'][0]}"
        )
    steps: list[StepSpec] = []
    if not isinstance(spec.steps, list) or not spec.steps:
        errors["steps"] = "Steps: add at least one step (what to do when the trigger fires)."
    elif len(spec.steps) > MAX_STEPS:
        errors["steps"] = f"Steps: at most {MAX_STEPS} steps (this one has {len(spec.steps)})."
    else:
        for position, step in enumerate(spec.steps, start=1):
            mapping, step_errors = clean_step(position, step)
            errors.update(step_errors)
            steps.append(StepSpec(step.action_id, step.connection, mapping))
    if errors:
        raise AutomationInvalid(errors)
    return AutomationSpec(
        name=name,
        connection=spec.connection,
        trigger_id=spec.trigger_id,
        options=options,
        poll_interval_minutes=interval,
        enabled=spec.enabled,
        description=description,
        steps=steps,
    )


@transaction.atomic
def automation_update(
    *,
    automation: Automation,
    name: str,
    description: str,
    enabled: bool,
    connection: Connection,
    trigger_id: str,
    options: dict[str, Any],
    poll_interval_minutes: int,
    user: Any = None,
    now: dt.datetime | None = None,
) -> Automation:
    """Change an automation's name and trigger (values already validated by automation_validate).

    A new trigger type or connection starts a new subscription (the old walk means nothing
    there; past events stay, unlinked). Same trigger: the cursor stays, options and interval
    change. Interval and enabled take effect at the next minute's dispatch.
    """
    now = now or timezone.now()
    automation = Automation.objects.select_for_update().get(pk=automation.pk)
    user = user if getattr(user, "pk", None) else None
    automation.name, automation.description = name, description
    if user is not None:
        automation.updated_by = user
    automation.save(update_fields=["name", "description", "updated_by", "updated_at"])
    subscription = TriggerSubscription.objects.filter(automation=automation).first()
    if (
        subscription is None
        or subscription.trigger_id != trigger_id
        or subscription.connection_id != connection.pk
    ):
        if subscription is not None:
            subscription.delete()
        _subscription_start(
            automation,
            connection=connection,
            trigger_id=trigger_id,
            options=options,
            poll_interval_minutes=poll_interval_minutes,
            now=now,
        )
    elif subscription.options != options or (
        subscription.poll_interval_minutes != poll_interval_minutes
    ):
        subscription_update(
            subscription=subscription,
            poll_interval_minutes=poll_interval_minutes,
            options=options,
        )
    return automation_set_enabled(automation=automation, enabled=enabled, user=user, now=now)


@transaction.atomic
def automation_steps_save(*, automation: Automation, steps: list[StepSpec]) -> bool:
    """Make the automation's steps these, in this order (validated by automation_validate).

    Steps are changed in place by position, so runs keep pointing at their step; extra old
    steps are deleted. Returns whether anything changed. Runs already created keep the
    mapping they were created with.
    """
    existing = {step.position: step for step in automation.steps.all()}
    changed = False
    for position, step in enumerate(steps, start=1):
        row = existing.pop(position, None)
        if row is None:
            AutomationStep.objects.create(
                automation=automation,
                position=position,
                action_id=step.action_id,
                connection=step.connection,
                inputs=step.inputs,
            )
            changed = True
        elif (row.action_id, row.connection_id, row.inputs) != (
            step.action_id,
            step.connection.pk,
            step.inputs,
        ):
            row.action_id, row.connection, row.inputs = step.action_id, step.connection, step.inputs
            row.save(update_fields=["action_id", "connection", "inputs", "updated_at"])
            changed = True
    if existing:
        AutomationStep.objects.filter(pk__in=[row.pk for row in existing.values()]).delete()
        changed = True
    return changed


@transaction.atomic
def automation_save(
    *,
    spec: AutomationSpec,
    automation: Automation | None = None,
    user: Any = None,
    now: dt.datetime | None = None,
) -> Automation:
    """Validate and write a whole automation (name, trigger, steps) in one transaction.

    Raises AutomationInvalid (nothing written) naming each wrong field; the form and the
    import are doors onto this.
    """
    clean = automation_validate(spec, automation=automation)
    if automation is None:
        automation = automation_create(
            name=clean.name,
            connection=clean.connection,
            trigger_id=clean.trigger_id,
            options=clean.options,
            poll_interval_minutes=clean.poll_interval_minutes,
            enabled=clean.enabled,
            user=user,
            now=now,
        )
        if clean.description:
            Automation.objects.filter(pk=automation.pk).update(description=clean.description)
    else:
        automation = automation_update(
            automation=automation,
            name=clean.name,
            description=clean.description,
            enabled=clean.enabled,
            connection=clean.connection,
            trigger_id=clean.trigger_id,
            options=clean.options,
            poll_interval_minutes=clean.poll_interval_minutes,
            user=user,
            now=now,
        )
    automation_steps_save(automation=automation, steps=clean.steps)
    automation.refresh_from_db()
    return automation

"""Automations as JSON, for configuration as code: export_automations and import_automations.

The format (the issue's, with description and each step's inputs):

    {"automations": [{"name": "Ship new orders", "enabled": true, "description": "",
      "trigger": {"connection": "Main store", "type": "order_created",
                  "poll_interval_minutes": 5, "options": {"start": "now"}},
      "steps": [{"action": "create_shipment", "connection": "Main store",
                 "inputs": {"order_increment_id": "{{ trigger.increment_id }}"}}]}]}

Connections are named, never described: no store address, key or password is ever in a file.
A literal value of a secret input (a new customer's password) is left out of an export, and an
import keeps the one the automation already has. Import matches automations by name (case
does not matter), changes only what differs, and is all or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from automations.actions import get_action
from automations.mapping import references
from automations.models import Automation
from automations.services import (
    AutomationInvalid,
    AutomationSpec,
    StepSpec,
    automation_save,
    automation_validate,
)
from connections.models import Connection
from connections.selectors import connection_get_by_name

AUTOMATION_KEYS = {"name", "enabled", "description", "trigger", "steps"}
TRIGGER_KEYS = {"connection", "type", "poll_interval_minutes", "options"}
STEP_KEYS = {"action", "connection", "inputs"}


class ImportFileError(ValueError):
    """The file is not what import_automations reads; each message names where (exit 2)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class MissingConnections(ValueError):
    """The file names connections this portal does not have (exit 1: the file may be fine)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


# -- export --------------------------------------------------------------------------------------


def _secret_literals(action_id: str, inputs: dict[str, Any]) -> set[str]:
    try:
        action = get_action(action_id)
    except KeyError:
        return set()
    secret = {item.name for item in action.inputs if item.secret}
    return {name for name in secret & set(inputs) if not references(inputs[name])}


def _as_dict(spec: AutomationSpec, left_out: list[str] | None = None) -> dict[str, Any]:
    steps = []
    for position, step in enumerate(spec.steps, start=1):
        hidden = _secret_literals(step.action_id, step.inputs)
        if hidden and left_out is not None:
            left_out.extend(
                f"{spec.name!r} step {position}: {name} (a password) is left out"
                for name in sorted(hidden)
            )
        steps.append(
            {
                "action": step.action_id,
                "connection": step.connection.name if step.connection else None,
                "inputs": {k: v for k, v in step.inputs.items() if k not in hidden},
            }
        )
    data: dict[str, Any] = {"name": spec.name, "enabled": spec.enabled}
    if spec.description:
        data["description"] = spec.description
    data["trigger"] = {
        "connection": spec.connection.name if spec.connection else None,
        "type": spec.trigger_id,
        "poll_interval_minutes": spec.poll_interval_minutes,
        "options": spec.options,
    }
    data["steps"] = steps
    return data


def automation_spec(automation: Automation) -> AutomationSpec:
    """An automation as saved, as a spec (what the form and the import give)."""
    subscription = getattr(automation, "trigger", None)
    return AutomationSpec(
        name=automation.name,
        enabled=automation.enabled,
        description=automation.description,
        connection=subscription.connection if subscription else None,
        trigger_id=subscription.trigger_id if subscription else "",
        options=dict(subscription.options or {}) if subscription else {},
        poll_interval_minutes=subscription.poll_interval_minutes if subscription else None,
        steps=[
            StepSpec(step.action_id, step.connection, dict(step.inputs or {}))
            for step in automation.steps.select_related("connection").order_by("position")
        ],
    )


def automation_as_dict(automation: Automation, left_out: list[str] | None = None) -> dict:
    """One automation in the file format (secret literals left out, noted in `left_out`)."""
    return _as_dict(automation_spec(automation), left_out)


def automations_export() -> tuple[dict[str, Any], list[str]]:
    """Every automation in the file format, and notes on what was left out (passwords)."""
    left_out: list[str] = []
    automations = [
        automation_as_dict(automation, left_out)
        for automation in Automation.objects.select_related("trigger__connection").order_by("name")
    ]
    return {"automations": automations}, left_out


# -- import --------------------------------------------------------------------------------------


def _where(index: int, entry: Any) -> str:
    name = entry.get("name") if isinstance(entry, dict) else None
    if isinstance(name, str) and name.strip():
        shown = name.strip()
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        return f"Automation {shown!r} (automations[{index}])"
    return f"Automation automations[{index}]"


def _object(value: Any, where: str, keys: set[str], problems: list[str]) -> dict | None:
    if not isinstance(value, dict):
        problems.append(f"{where}: must be an object, got {_kind(value)}.")
        return None
    unknown = sorted(str(key)[:80] for key in value if key not in keys)
    if unknown:
        problems.append(
            f"{where}: unknown key {', '.join(map(repr, unknown))} "
            f"(keys: {', '.join(sorted(keys))})."
        )
    return value


def _kind(value: Any) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "text",
        bool: "true/false",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _connection(value: Any, where: str, problems: list[str], missing: list[str]):
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: give the connection's name as text, got {_kind(value)}.")
        return None
    connection = connection_get_by_name(value.strip())
    if connection is None:
        missing.append(
            f"{where}: there is no connection named {value.strip()[:100]!r}: add it first "
            "(connections are referred to by name; their keys are never in a file)."
        )
    return connection


def _read_spec(index: int, entry: Any, problems: list[str], missing: list[str]):
    where = _where(index, entry)
    entry = _object(entry, where, AUTOMATION_KEYS, problems)
    if entry is None:
        return None
    trigger = _object(entry.get("trigger"), f"{where}, trigger", TRIGGER_KEYS, problems) or {}
    connection: Connection | None = None
    if "connection" in trigger:
        connection = _connection(
            trigger["connection"], f"{where}, trigger.connection", problems, missing
        )
    steps_given = entry.get("steps")
    steps: list[StepSpec] = []
    if not isinstance(steps_given, list):
        problems.append(f"{where}, steps: must be a list of steps, got {_kind(steps_given)}.")
        steps_given = []
    for number, step in enumerate(steps_given, start=1):
        step_where = f"{where}, steps[{number - 1}] (step {number})"
        step = _object(step, step_where, STEP_KEYS, problems)
        if step is None:
            continue
        step_connection = connection
        if "connection" in step:
            step_connection = _connection(
                step["connection"], f"{step_where}.connection", problems, missing
            )
        action = step.get("action")
        steps.append(
            StepSpec(
                action if isinstance(action, str) else "",
                step_connection,
                step.get("inputs", {}),
            )
        )
    return AutomationSpec(
        name=entry.get("name"),
        enabled=entry.get("enabled", True),
        description=entry.get("description", ""),
        connection=connection,
        trigger_id=trigger.get("type", ""),
        options=trigger.get("options", {}),
        poll_interval_minutes=trigger.get("poll_interval_minutes", 5),
        steps=steps,
    )


def _file_path(path: str) -> str:
    """A service error path as the file names it: steps.2.inputs.sku -> steps[1].inputs.sku."""
    parts = path.split(".")
    if parts[0] == "steps" and len(parts) > 1 and parts[1].isdigit():
        rest = ".".join(parts[2:])
        return f"steps[{int(parts[1]) - 1}]" + (f".{rest}" if rest else "")
    return path


def _keep_secrets(spec: AutomationSpec, existing: Automation) -> None:
    """Literal passwords the file cannot carry stay as the automation has them."""
    saved = {step.position: step for step in existing.steps.all()}
    for position, step in enumerate(spec.steps, start=1):
        old = saved.get(position)
        if old is None or old.action_id != step.action_id or not isinstance(step.inputs, dict):
            continue
        for name in _secret_literals(old.action_id, old.inputs or {}):
            step.inputs.setdefault(name, old.inputs[name])


def automations_import(data: Any, *, user: Any = None) -> ImportResult:
    """Create or update the file's automations by name, all or nothing (see _import)."""
    try:
        return _import(data, user=user)
    except RecursionError:
        raise ImportFileError(
            ["The file is nested too deeply to be an automations file."]
        ) from None


def _import(data: Any, *, user: Any = None) -> ImportResult:
    """Create or update the file's automations by name, all or nothing.

    Raises ImportFileError (the file's shape or values are wrong; every problem, each naming
    the automation and the field) or MissingConnections; in both cases nothing is written.
    """
    problems: list[str] = []
    missing: list[str] = []
    if not isinstance(data, dict) or not isinstance(data.get("automations"), list):
        raise ImportFileError(['The file must be a JSON object with a list "automations".'])
    unknown = sorted(str(key)[:80] for key in data if key != "automations")
    if unknown:
        problems.append(f"The file has unknown key(s) {', '.join(map(repr, unknown))}.")
    specs = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(data["automations"]):
        spec = _read_spec(index, entry, problems, missing)
        if spec is None:
            continue
        if isinstance(spec.name, str) and spec.name.strip():
            key = spec.name.strip().casefold()
            if key in seen:
                problems.append(
                    f"{_where(index, entry)}: the name is used twice in the file (also "
                    f"automations[{seen[key]}])."
                )
            seen[key] = index
        specs.append((index, entry, spec))
    if missing and not problems:
        raise MissingConnections(missing)
    result = ImportResult()
    with transaction.atomic():
        for index, entry, spec in specs:
            existing = None
            if isinstance(spec.name, str) and spec.name.strip():
                existing = Automation.objects.filter(name__iexact=spec.name.strip()).first()
            try:
                if existing is not None:
                    _keep_secrets(spec, existing)
                    clean = automation_validate(spec, automation=existing)
                    if _as_dict(clean) == automation_as_dict(existing):
                        result.unchanged.append(clean.name)
                        continue
                if problems or missing:
                    automation_validate(spec, automation=existing)
                    continue
                saved = automation_save(spec=spec, automation=existing, user=user)
            except AutomationInvalid as invalid:
                where = _where(index, entry)
                problems.extend(
                    f"{where}, {_file_path(path)}: {message}"
                    for path, message in invalid.errors.items()
                )
                continue
            (result.updated if existing else result.created).append(saved.name)
        if problems:
            transaction.set_rollback(True)
            raise ImportFileError(problems)
        if missing:
            transaction.set_rollback(True)
            raise MissingConnections(missing)
    return result

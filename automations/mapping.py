"""Input mapping: literal values and references to the trigger record and earlier steps' output.

A reference is `{{ trigger.<path> }}` or `{{ steps.<position>.<path> }}`, where a path is keys
and list indexes separated by dots: `{{ trigger.email }}`, `{{ trigger.items.0.sku }}`,
`{{ steps.1.id }}`. References are looked up in JSON data, never evaluated: there are no
filters, calls, attributes or expressions, and a `{{ ... }}` that is not a plain reference is an
error (so a typo is reported instead of being sent to the store as text). `{%` and other braces
are plain text.

- A value that is exactly one reference (spaces around it allowed) keeps its JSON type: a
  number stays a number, a list stays a list, null stays null.
- Text around or between references gives text: strings are inserted as they are, numbers and
  booleans as JSON writes them (`true`), null as nothing, lists and objects as JSON.
- Lists and objects in a mapping are resolved item by item.
- A path that does not exist fails, naming the path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "MappingError",
    "check_mapping",
    "references",
    "resolve_inputs",
    "resolve_value",
]

# Anything between double braces; what is inside must then be a plain reference.
_BRACES = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_SEGMENT = r"(?:[A-Za-z_][A-Za-z0-9_\-]*|[0-9]+)"
_REFERENCE = re.compile(rf"^\s*(trigger|steps)((?:\.{_SEGMENT})*)\s*$")
MAX_TEXT_LENGTH = 100_000


class MappingError(ValueError):
    """A mapping that cannot be resolved: {input name: message} (the message names the path)."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{name}: {message}" for name, message in self.errors.items()))


class _Problem(Exception):
    pass


def _parse(inner: str) -> tuple[str, list[str]]:
    match = _REFERENCE.match(inner)
    if not match:
        raise _Problem(
            f"{{{{{inner}}}}} is not a reference: write {{{{ trigger.field }}}} or "
            "{{ steps.1.field }} (references are looked up, never evaluated)"
        )
    root, rest = match.group(1), match.group(2)
    segments = rest.split(".")[1:] if rest else []
    if root == "steps" and (not segments or not segments[0].isdigit()):
        raise _Problem(f"{{{{{inner}}}}}: name the step by its number, e.g. {{{{ steps.1.id }}}}")
    return root, segments


def references(value: Any) -> list[str]:
    """Every reference in a mapping value, as written inside the braces ("trigger.email")."""
    found: list[str] = []
    if isinstance(value, str):
        found.extend(match.group(1).strip() for match in _BRACES.finditer(value))
    elif isinstance(value, Mapping):
        for item in value.values():
            found.extend(references(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(references(item))
    return found


def check_mapping(mapping: Mapping[str, Any], *, position: int | None = None) -> dict[str, str]:
    """Problems a mapping has before any data is seen: {input name: message}.

    Catches what is not a plain reference, and (with the step's `position`) references to
    steps that do not run before this one.
    """
    problems: dict[str, str] = {}
    for name, value in mapping.items():
        for inner in references(value):
            try:
                root, segments = _parse(inner)
            except _Problem as problem:
                problems[name] = str(problem)
                break
            if root == "steps" and position is not None and int(segments[0]) >= position:
                problems[name] = (
                    f"{{{{ {inner} }}}} refers to step {segments[0]}, which does not run before "
                    f"step {position}: a step can use the output of earlier steps only"
                )
                break
    return problems


def _lookup(root: str, segments: list[str], context: Mapping[str, Any], shown: str) -> Any:
    if root == "trigger":
        if "trigger" not in context:
            raise _Problem(f"{{{{ {shown} }}}}: there is no trigger record here (a manual run)")
        current: Any = context["trigger"]
        walked = "trigger"
        path = segments
    else:
        steps = context.get("steps") or {}
        number = int(segments[0])
        if number not in steps:
            raise _Problem(
                f"{{{{ {shown} }}}}: step {number} has no output here (only earlier steps' "
                "output can be used)"
            )
        current = steps[number]
        walked = f"steps.{number}"
        path = segments[1:]
    for segment in path:
        if isinstance(current, Mapping) and segment in current:
            current = current[segment]
        elif isinstance(current, list) and segment.isdigit() and int(segment) < len(current):
            current = current[int(segment)]
        else:
            if isinstance(current, list):
                why = f"{walked} is a list of {len(current)}"
            elif isinstance(current, Mapping):
                why = f"{walked} has no {segment!r}"
            else:
                why = f"{walked} is {json.dumps(current)}, not an object or list"
            raise _Problem(f"{{{{ {shown} }}}}: the path {shown} does not exist ({why})")
        walked = f"{walked}.{segment}"
    return current


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _resolve(value: Any, context: Mapping[str, Any]) -> Any:
    if isinstance(value, Mapping):
        return {key: _resolve(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, context) for item in value]
    if not isinstance(value, str) or "{{" not in value:
        return value
    matches = list(_BRACES.finditer(value))
    if len(matches) == 1 and matches[0].group(0) == value.strip():
        inner = matches[0].group(1)
        root, segments = _parse(inner)
        return _lookup(root, segments, context, inner.strip())
    pieces = []
    last = 0
    for match in matches:
        pieces.append(value[last : match.start()])
        root, segments = _parse(match.group(1))
        pieces.append(_as_text(_lookup(root, segments, context, match.group(1).strip())))
        last = match.end()
    pieces.append(value[last:])
    text = "".join(pieces)
    if len(text) > MAX_TEXT_LENGTH:
        raise _Problem(f"the text made from {value!r} is longer than {MAX_TEXT_LENGTH} characters")
    return text


def resolve_value(value: Any, *, trigger: Any = None, steps: Mapping[int, Any] | None = None):
    """One mapping value resolved against the trigger record and earlier steps' output.

    Raises MappingError (keyed "value") when a reference is malformed or its path is missing.
    """
    try:
        return _resolve(value, _context(trigger, steps))
    except _Problem as problem:
        raise MappingError({"value": str(problem)}) from None


def resolve_inputs(
    mapping: Mapping[str, Any],
    *,
    trigger: Any = None,
    steps: Mapping[int, Any] | None = None,
    has_trigger: bool = True,
) -> dict[str, Any]:
    """Every input of a step resolved; MappingError names each input that failed and its path.

    `has_trigger=False` (a manual run) makes any trigger reference an error.
    """
    context = _context(trigger, steps) if has_trigger else {"steps": dict(steps or {})}
    resolved: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for name, value in mapping.items():
        try:
            resolved[name] = _resolve(value, context)
        except _Problem as problem:
            problems[name] = str(problem)
    if problems:
        raise MappingError(problems)
    return resolved


def _context(trigger: Any, steps: Mapping[int, Any] | None) -> dict[str, Any]:
    return {"trigger": trigger, "steps": dict(steps or {})}

"""The trigger catalog: one module per trigger; `TRIGGERS` maps each id to its class."""

from __future__ import annotations

from automations.registry import discover
from automations.triggers._base import Trigger, TriggerFilter, TriggerOption

__all__ = [
    "TRIGGERS",
    "Trigger",
    "TriggerFilter",
    "TriggerOption",
    "get_trigger",
    "trigger_choices",
]


def _load():
    import automations.triggers as package

    return discover(package, Trigger)


TRIGGERS: dict[str, type[Trigger]] = {}


def _catalog() -> dict[str, type[Trigger]]:
    if not TRIGGERS:
        TRIGGERS.update(_load())
    return TRIGGERS


def get_trigger(trigger_id: str) -> Trigger:
    """The trigger with this id; KeyError names the unknown id."""
    try:
        return _catalog()[trigger_id]()
    except KeyError:
        raise KeyError(f"Unknown trigger {trigger_id!r}") from None


def trigger_choices() -> list[tuple[str, str]]:
    """(id, label) pairs for forms, in catalog order."""
    return [(trigger_id, cls.label) for trigger_id, cls in _catalog().items()]

"""The action catalog: one module per action; `ACTIONS` maps each id to its class."""

from __future__ import annotations

from automations.actions._base import (
    Action,
    ActionInput,
    ActionInputError,
    ActionRefused,
    ActionResult,
    PlannedRequest,
)
from automations.registry import discover

__all__ = [
    "ACTIONS",
    "Action",
    "ActionInput",
    "ActionInputError",
    "ActionRefused",
    "ActionResult",
    "PlannedRequest",
    "action_choices",
    "get_action",
]

ACTIONS: dict[str, type[Action]] = {}


def _catalog() -> dict[str, type[Action]]:
    if not ACTIONS:
        import automations.actions as package

        ACTIONS.update(discover(package, Action))
    return ACTIONS


def get_action(action_id: str) -> Action:
    """The action with this id; KeyError names the unknown id."""
    try:
        return _catalog()[action_id]()
    except KeyError:
        raise KeyError(f"Unknown action {action_id!r}") from None


def action_choices() -> list[tuple[str, str]]:
    """(id, label) pairs for forms, in catalog order."""
    return [(action_id, cls.label) for action_id, cls in _catalog().items()]

"""What every action declares. One module per action in this package; see the registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class ActionInput:
    """One typed input of an action; `name` is Magento's own field name.

    `type`: "string", "email", "integer", "number", "boolean", "date", "choice", "lines"
    (a list of strings, e.g. street lines), "json" (an object or list, e.g. custom_attributes
    or shipment items). `group` puts inputs under a heading in forms ("Address" ...).
    """

    name: str
    label: str
    type: str = "string"
    required: bool = False
    help_text: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    default: Any = None
    group: str = ""


class ActionInputError(ValueError):
    """Inputs that do not fit the action: {input name: message}, raised before any request."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{name}: {message}" for name, message in self.errors.items()))


@dataclass
class ActionResult:
    """What an action did: its JSON output for later steps, and the request and answer."""

    output: Any
    request_method: str = ""
    request_path: str = ""
    response: Any = None


@dataclass(frozen=True)
class PlannedRequest:
    """What a write action would send (the "Test" button shows it instead of sending)."""

    method: str
    path: str
    body: Any = None
    notes: list[str] = field(default_factory=list)


class Action:
    """An action: validates its inputs, then calls the store through a MagentoClient."""

    id: ClassVar[str] = ""
    label: ClassVar[str] = ""
    description: ClassVar[str] = ""
    inputs: ClassVar[tuple[ActionInput, ...]] = ()
    # Writes change the store: a test shows the request unless told to send it.
    writes: ClassVar[bool] = False
    # Creates may leave an unknown outcome (timeout after sending): find_existing resolves it.
    creates: ClassVar[bool] = False

    def validate(self, values: dict[str, Any]) -> dict[str, Any]:
        """Cleaned values, or ActionInputError naming each bad input."""
        raise NotImplementedError

    def run(self, client: Any, values: dict[str, Any]) -> ActionResult:
        """Call the store with cleaned values; raise magento.errors on failure."""
        raise NotImplementedError

    def plan(self, client: Any, values: dict[str, Any]) -> PlannedRequest:
        """The request a write would send (reads may look things up to build it)."""
        raise NotImplementedError

    def find_existing(self, client: Any, values: dict[str, Any]) -> ActionResult | None:
        """After an unknown outcome: the record the create made, if the store has it."""
        return None

    def subject(self, values: dict[str, Any]) -> str:
        """What a person recognises the run by (e-mail, SKU, order number)."""
        return ""

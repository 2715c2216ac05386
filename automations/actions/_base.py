"""What every action declares. One module per action in this package; see the registry."""

from __future__ import annotations

import datetime as dt
import json
import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from magento.resources._base import checked_email

REDACTED = "[hidden]"


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
    # A value never stored in a run nor shown back (a new customer's password).
    secret: bool = False
    # Text that may hold line breaks and tabs (a description, a comment); others are one line.
    multiline: bool = False
    # The longest text accepted; None takes the type's limit (TEXT_LIMITS).
    max_length: int | None = None

    @property
    def length_limit(self) -> int:
        """The most characters a value of this input may have (as typed, before converting)."""
        if self.max_length is not None:
            return self.max_length
        if self.multiline:
            return MULTILINE_LIMIT
        return TEXT_LIMITS.get(self.type, DEFAULT_TEXT_LIMIT)


# Magento keeps most text in varchar(255) columns; descriptions and comments in text (64 KB).
DEFAULT_TEXT_LIMIT = 255
MULTILINE_LIMIT = 65_535
TEXT_LIMITS = {"integer": 20, "number": 40, "date": 30, "boolean": 10, "json": 65_535}
# Characters nobody means to send to a store: controls (NUL, ESC, ...), line breaks outside
# multi-line text, surrogates, separators, and the invisible ones that change how text reads
# (direction overrides, zero-width space, BOM). Zero-width (non-)joiners stay: scripts such as
# Persian and emoji need them.
_INVISIBLE = frozenset("\u200b\u2060\ufeff") | {chr(c) for c in range(0x202A, 0x202F)}
_INVISIBLE |= {chr(c) for c in range(0x2066, 0x206A)}
_LINE_CHARACTERS = frozenset("\n\r\t")


class ActionInputError(ValueError):
    """Inputs that do not fit the action: {input name: message}, raised before any request."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{name}: {message}" for name, message in self.errors.items()))


class ActionRefused(Exception):
    """The action will not do this, said in plain words (e.g. nothing left to ship).

    A permanent failure: repeating it gives the same answer. `status` and `response` keep the
    store's answer when the refusal came from the store.
    """

    def __init__(self, message: str, *, status: int | None = None, response: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.response = response


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
    # Fields of the output that later steps usually refer to ({{ steps.N.<field> }}): offered
    # in the automation form's reference picker.
    output_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        # Facts a create notes before it sends (e.g. the order's shipments so far), which
        # find_existing uses after an unknown outcome; runs keep them between attempts.
        self.memo: dict[str, Any] = {}
        # Set by the run: keeps the memo in the run record (see save_memo).
        self.memo_saver: Callable[[dict[str, Any]], None] | None = None

    def save_memo(self) -> None:
        """Keep the memo in the run record now, before a write is sent: a worker killed while
        waiting for the answer leaves it for the recovery to look with."""
        if self.memo_saver is not None:
            self.memo_saver(dict(self.memo))

    def validate(self, values: dict[str, Any]) -> dict[str, Any]:
        """Cleaned values, or ActionInputError naming each bad input.

        Values may come as text (a template, the command line, a form): each is converted to
        its input's type. Empty values count as not given; defaults fill what is not given.
        """
        declared = {item.name: item for item in self.inputs}
        errors: dict[str, str] = {}
        for name in values:
            if name not in declared:
                errors[name] = f"{self.label} has no input {shown(name)}."
        cleaned: dict[str, Any] = {}
        for item in self.inputs:
            value = values.get(item.name)
            if _is_empty(value):
                if item.default is not None:
                    cleaned[item.name] = item.default
                elif item.required:
                    errors[item.name] = "This input is required."
                continue
            try:
                check_text(item, value)
                cleaned[item.name] = convert(item, value)
            except ValueError as problem:
                errors[item.name] = str(problem)
        if errors:
            raise ActionInputError(errors)
        self.clean(cleaned)
        return cleaned

    def clean(self, values: dict[str, Any]) -> None:
        """Checks across inputs (raise ActionInputError); may fill in derived values."""

    def redacted(self, values: dict[str, Any]) -> dict[str, Any]:
        """The values with secret inputs hidden, for records and pages."""
        secret = {item.name for item in self.inputs if item.secret}
        return {
            name: (REDACTED if name in secret and not _is_empty(value) else value)
            for name, value in values.items()
        }

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


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _unseen(text: str, allowed: frozenset[str]) -> str | None:
    for char in text:
        if char in allowed:
            continue
        if unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp") or char in _INVISIBLE:
            return char
    return None


def _strings(value: Any):
    """Every string in a value, keys of objects included (JSON inputs hold nested text)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def check_text(item: ActionInput, value: Any) -> None:
    """ValueError when text is too long or holds control or invisible characters.

    HTML, SQL, braces and "../" are plain text to the store and pass: the portal never
    interprets them, and the store keeps them as typed.
    """
    size = len(value) if isinstance(value, str) else len(json.dumps(value, ensure_ascii=False))
    if isinstance(value, str | list | dict) and size > item.length_limit:
        raise ValueError(
            f"Too long ({size} characters); {item.label} takes at most {item.length_limit}."
        )
    allowed = _LINE_CHARACTERS if item.multiline or item.type in ("lines", "json") else frozenset()
    for text in _strings(value):
        if item.type == "lines" and any(
            len(line) > DEFAULT_TEXT_LIMIT for line in text.splitlines()
        ):
            raise ValueError(f"A line is too long; each line takes at most {DEFAULT_TEXT_LIMIT}.")
        char = _unseen(text, allowed)
        if char is None:
            continue
        if char in _LINE_CHARACTERS:
            which = "a line break" if char != "\t" else "a tab"
        elif item.secret:
            which = "such as a zero-width space"
        else:
            name = unicodedata.name(char, "")
            which = f"U+{ord(char):04X}{' ' + name if name else ''}"
        raise ValueError(
            f"{item.label} contains an invisible or control character ({which}): type it again "
            "without it."
        )


def shown(value: Any) -> str:
    """A value quoted in a message: short, with control characters escaped."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def convert(item: ActionInput, value: Any) -> Any:
    """`value` as `item`'s type, or ValueError saying in plain words what was expected."""
    kind = item.type
    if kind in ("string", "choice", "email", "date") and isinstance(value, bool):
        raise ValueError(f"Expected text, got {json.dumps(value)}.")
    if kind == "string":
        if isinstance(value, int | float):
            return str(value)
        if not isinstance(value, str):
            raise ValueError("Expected text, got a list or an object.")
        return value
    if kind == "email":
        if not isinstance(value, str):
            raise ValueError("Expected an e-mail address.")
        try:
            return checked_email(value)
        except ValueError:
            raise ValueError(f"{shown(value.strip())} is not a valid e-mail address.") from None
    if kind == "integer":
        if isinstance(value, bool):
            raise ValueError(f"Expected a whole number, got {json.dumps(value)}.")
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            text = value.strip()
            digits = text.removeprefix("-")
            if digits.isascii() and digits.isdigit():
                return int(text)
        raise ValueError(f"Expected a whole number, got {shown(value)}.")
    if kind == "number":
        if isinstance(value, bool):
            raise ValueError(f"Expected a number, got {json.dumps(value)}.")
        if isinstance(value, int | float):
            number = value
        elif isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                raise ValueError(f"Expected a number, got {shown(value)}.") from None
            number = int(number) if number.is_integer() and "." not in value else number
        else:
            raise ValueError("Expected a number.")
        if isinstance(number, float) and not math.isfinite(number):
            raise ValueError(f"Expected a number, got {shown(value)}.")
        return number
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ValueError(f"Expected yes or no (true/false), got {shown(value)}.")
    if kind == "date":
        text = str(value).strip()
        # Magento writes dates with a time ("1980-05-17 00:00:00"); the date part counts.
        if len(text) > 10 and text[10] in " T":
            text = text[:10]
        try:
            if len(text) != 10:
                raise ValueError(text)
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError(f"Expected a date as YYYY-MM-DD, got {shown(value)}.") from None
    if kind == "choice":
        text = str(value).strip()
        allowed = [code for code, _label in item.choices]
        if text not in allowed:
            raise ValueError(f"Choose one of {', '.join(allowed)}; got {shown(text)}.")
        return text
    if kind == "lines":
        if isinstance(value, str):
            lines = [line.strip() for line in value.splitlines() if line.strip()]
        elif isinstance(value, list) and all(isinstance(line, str) for line in value):
            lines = [line for line in value if line.strip()]
        else:
            raise ValueError("Expected lines of text.")
        if not lines:
            raise ValueError("Expected at least one line of text.")
        return lines
    if kind == "json":
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise ValueError("Expected JSON (an object or a list).") from None
        if not isinstance(value, dict | list):
            raise ValueError("Expected an object or a list.")
        return value
    raise ValueError(f"Unknown input type {kind!r}.")

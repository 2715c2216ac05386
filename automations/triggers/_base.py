"""What every trigger declares. One module per trigger in this package; see the registry."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from typing import Any, ClassVar

from magento.search import SearchCriteria, is_int

# Filter values are Magento codes and ids: short, printable, and a bounded list of them.
MAX_FILTER_TEXT = 255
MAX_FILTER_VALUES = 100
MAX_ID = 2**63 - 1
_UNSEEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

# Options every trigger has: where it starts. "now" (default), "all", or an ISO date-time.
START_OPTION = "start"
START_NOW = "now"
START_ALL = "all"


def shown(value: Any) -> str:
    """A value quoted in a message: short, with control characters escaped."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


class OptionsError(ValueError):
    """Options a trigger cannot use; `errors` maps each option name to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{name}: {text}" for name, text in errors.items()))


@dataclass(frozen=True)
class TriggerFilter:
    """An option of a trigger that is sent to Magento as a search filter (never applied after).

    `field` is Magento's searchCriteria field, `condition` its condition type ("eq", "in").
    `type` is "int", "str" or "choice"; a list of values is sent with condition "in".
    """

    name: str
    label: str
    field: str
    type: str = "str"
    condition: str = "eq"
    help_text: str = ""
    choices: tuple[tuple[str, str], ...] = ()

    def clean(self, value: Any) -> list[Any]:
        """The option's values as a non-empty list (one value or several); ValueError if bad."""
        values = list(value) if isinstance(value, list | tuple) else [value]
        if len(values) > MAX_FILTER_VALUES:
            raise ValueError(f"give at most {MAX_FILTER_VALUES} values")
        if not values:
            raise ValueError("give at least one value, or leave the filter out")
        cleaned = []
        for item in values:
            if self.type == "int":
                if isinstance(item, str) and item.strip().isascii() and item.strip().isdigit():
                    item = int(item.strip())
                if not is_int(item) or item < 0 or item > MAX_ID:
                    raise ValueError(f"{shown(item)} is not a whole number (a Magento id)")
            else:
                if not isinstance(item, str) or not item.strip():
                    raise ValueError(f"{shown(item)} is not a non-empty text")
                item = item.strip()
                if len(item) > MAX_FILTER_TEXT:
                    raise ValueError(
                        f"a value is too long; use at most {MAX_FILTER_TEXT} characters"
                    )
                if any(unicodedata.category(char) in _UNSEEN for char in item):
                    raise ValueError(
                        f"{shown(item)} contains an invisible or control character; type it "
                        "again without it"
                    )
                if "," in item:
                    raise ValueError(
                        f"{shown(item)} contains a comma, which Magento cannot filter on"
                    )
                if self.choices and item not in {key for key, _ in self.choices}:
                    known = ", ".join(key for key, _ in self.choices)
                    raise ValueError(f"{shown(item)} is not one of: {known}")
            cleaned.append(item)
        return cleaned

    def apply(self, criteria: SearchCriteria, values: list[Any]) -> SearchCriteria:
        """AND this filter to the criteria (one value: `condition`; several: "in")."""
        if len(values) == 1 and self.condition != "in":
            return criteria.where(self.field, self.condition, values[0])
        return criteria.where(self.field, "in", values)


@dataclass(frozen=True)
class TriggerOption:
    """An option that changes what the trigger fires, not what it asks the store for."""

    name: str
    label: str
    type: str = "bool"
    default: Any = None
    help_text: str = ""


class Trigger:
    """A polling trigger: walks one resource by (timestamp_field, id_field) in the store's UTC."""

    id: ClassVar[str] = ""
    label: ClassVar[str] = ""
    description: ClassVar[str] = ""
    # The client resource read (`client.orders`) and its REST search endpoint ("/V1/orders").
    resource: ClassVar[str] = ""
    search_path: ClassVar[str] = ""
    timestamp_field: ClassVar[str] = "created_at"
    # The id's name in filters, and its key in the records Magento returns.
    id_field: ClassVar[str] = "entity_id"
    id_key: ClassVar[str] = "id"
    # The field a person recognises the record by: email, increment_id, sku.
    key_field: ClassVar[str] = ""
    filters: ClassVar[tuple[TriggerFilter, ...]] = ()
    options: ClassVar[tuple[TriggerOption, ...]] = ()
    # Fields offered in the mapping picker when the store has no record yet to sample.
    sample_fields: ClassVar[tuple[str, ...]] = ()
    # Keep the last version of each record seen, to report changed fields.
    keeps_snapshots: ClassVar[bool] = False

    def entity_id(self, record: dict[str, Any]) -> int:
        """The record's Magento id."""
        return int(record[self.id_key])

    def dedup_key(self, record: dict[str, Any]) -> str:
        """The key that makes an event unique per subscription (the entity id by default)."""
        return str(self.entity_id(record))

    def entity_key(self, record: dict[str, Any]) -> str:
        """What a person recognises: the e-mail, order number or SKU."""
        value = record.get(self.key_field)
        return "" if value is None else str(value)[:255]

    def fires_for(self, record: dict[str, Any], options: dict[str, Any]) -> bool:
        """Whether this record makes an event (a trigger may leave some out, by option)."""
        return True

    # ------------------------------------------------------------------ options

    def clean_options(self, options: Any) -> dict[str, Any]:
        """Validated options, with defaults filled in; OptionsError names each problem."""
        if options is None:
            options = {}
        if not isinstance(options, dict):
            raise OptionsError({"options": "must be an object of option names and values"})
        errors: dict[str, str] = {}
        cleaned: dict[str, Any] = {}
        start = options.get(START_OPTION, START_NOW)
        try:
            cleaned[START_OPTION] = clean_start(start)
        except ValueError as error:
            errors[START_OPTION] = str(error)
        by_name = {f.name: f for f in self.filters}
        flags = {o.name: o for o in self.options}
        for name, value in options.items():
            if name == START_OPTION:
                continue
            if name in by_name:
                if value in (None, "", []):
                    continue
                try:
                    cleaned[name] = by_name[name].clean(value)
                except ValueError as error:
                    errors[name] = str(error)
            elif name in flags:
                if not isinstance(value, bool):
                    errors[name] = "must be true or false"
                else:
                    cleaned[name] = value
            else:
                known = ", ".join([START_OPTION, *by_name, *flags])
                key = name if name.isprintable() and len(name) <= 60 else shown(name)
                errors[key] = f"is not an option of {self.label!r} (options: {known})"
        for option in self.options:
            cleaned.setdefault(option.name, option.default)
        if errors:
            raise OptionsError(errors)
        return cleaned

    def criteria(self, options: dict[str, Any]) -> SearchCriteria:
        """The search filters the options ask for (sent to Magento, never applied after)."""
        criteria = SearchCriteria()
        for search_filter in self.filters:
            values = options.get(search_filter.name)
            if values:
                criteria = search_filter.apply(criteria, search_filter.clean(values))
        return criteria


def clean_start(value: Any) -> str:
    """ "now", "all", or an ISO date-time (a date alone means its midnight, UTC), normalised."""
    if value in (START_NOW, START_ALL):
        return value
    if isinstance(value, str) and value.strip():
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.UTC)
            return parsed.astimezone(dt.UTC).isoformat()
    raise ValueError(
        f'{shown(value)} is not a start: use "now", "all" or a date-time such as '
        '"2024-05-01T00:00:00Z" (UTC unless it names a zone)'
    )


def start_moment(start: str, now: dt.datetime) -> dt.datetime | None:
    """The earliest record timestamp that may fire for a start option (None for "all")."""
    if start == START_ALL:
        return None
    if start == START_NOW:
        return now.astimezone(dt.UTC).replace(microsecond=0)
    return dt.datetime.fromisoformat(start).astimezone(dt.UTC)

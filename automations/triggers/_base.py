"""What every trigger declares. One module per trigger in this package; see the registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


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
    # The REST search endpoint read, e.g. "/V1/orders", and the record's fields.
    search_path: ClassVar[str] = ""
    timestamp_field: ClassVar[str] = "created_at"
    id_field: ClassVar[str] = "entity_id"
    # The field a person recognises the record by: email, increment_id, sku.
    key_field: ClassVar[str] = ""
    filters: ClassVar[tuple[TriggerFilter, ...]] = ()
    options: ClassVar[tuple[TriggerOption, ...]] = ()
    # Fields offered in the mapping picker when the store has no record yet to sample.
    sample_fields: ClassVar[tuple[str, ...]] = ()

    def dedup_key(self, record: dict[str, Any]) -> str:
        """The key that makes an event unique per subscription (the entity id by default)."""
        return str(record[self.id_field])

    def entity_key(self, record: dict[str, Any]) -> str:
        """What a person recognises: the e-mail, order number or SKU."""
        value = record.get(self.key_field)
        return "" if value is None else str(value)[:255]

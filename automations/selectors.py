"""Reading for the automation form and its Test: a sample record and the fields to pick from.

The sample is the newest record the trigger would read (its search, with its filters, newest
first, one row). When the store has none yet, or cannot be asked, the picker offers the
trigger's declared `sample_fields` instead, and says why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from automations.actions import action_choices, get_action
from automations.triggers import get_trigger
from automations.triggers._base import OptionsError
from connections import diagnosis as dx
from connections.clients import PlainHttpNotAllowed, connection_client, connection_secrets
from connections.models import Connection
from magento.errors import MagentoError
from magento.search import SearchCriteria

SOURCE_STORE = "store"
SOURCE_DECLARED = "declared"
# The picker lists paths down to this depth (items.0.sku is 3) and at most this many.
MAX_PATH_DEPTH = 4
MAX_PATHS = 300
EXAMPLE_LENGTH = 60
# A sample is fetched while the form waits: no client retries, the connection's timeout.
SAMPLE_CLIENT_OPTIONS = {"max_retries": 0}


@dataclass
class Sample:
    """A sample record of a trigger (None when the store has none) and its pickable fields.

    `fields` are (path, example) pairs: "items.0.sku", "MH01-XS-Black". `note` says where
    they come from in words.
    """

    trigger_id: str
    record: dict[str, Any] | None = None
    source: str = SOURCE_DECLARED
    note: str = ""
    fields: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "trigger": self.trigger_id,
            "source": self.source,
            "note": self.note,
            "fields": [list(pair) for pair in self.fields],
        }


def record_paths(record: Any, *, prefix: str = "", depth: int = 0) -> list[tuple[str, str]]:
    """Every path in a record a reference can name, with an example value, lists by their
    first item: [("increment_id", "000000042"), ("items", "list of 2"), ("items.0.sku", ...)].
    """
    found: list[tuple[str, str]] = []
    if isinstance(record, dict):
        entries = [(str(key), value) for key, value in record.items()]
    elif isinstance(record, list):
        entries = [("0", record[0])] if record else []
    else:
        return found
    for key, value in entries:
        if len(found) >= MAX_PATHS:
            break
        path = f"{prefix}.{key}" if prefix else key
        found.append((path, _example(value)))
        if isinstance(value, dict | list) and depth + 1 < MAX_PATH_DEPTH:
            found.extend(record_paths(value, prefix=path, depth=depth + 1))
    return found[:MAX_PATHS]


def _example(value: Any) -> str:
    if isinstance(value, list):
        return f"list of {len(value)}"
    if isinstance(value, dict):
        return "object"
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= EXAMPLE_LENGTH else text[: EXAMPLE_LENGTH - 1] + "…"


def declared_fields(trigger_id: str) -> list[tuple[str, str]]:
    """The trigger's declared sample fields, without examples."""
    return [(name, "") for name in get_trigger(trigger_id).sample_fields]


def trigger_sample(
    *, connection: Connection | None, trigger_id: str, options: dict[str, Any] | None = None
) -> Sample:
    """The newest record the trigger would read from the store, with its fields.

    Never raises for the store's sake: when it cannot be read (no connection, an error, no
    record yet) the sample has no record, the declared fields, and a note saying why.
    """
    trigger = get_trigger(trigger_id)
    sample = Sample(trigger_id=trigger_id, fields=declared_fields(trigger_id))
    if connection is None:
        sample.note = "Choose a connection to see a real record's fields."
        return sample
    try:
        criteria = trigger.criteria(trigger.clean_options(options or {}))
    except OptionsError:
        criteria = SearchCriteria()
    criteria = (
        criteria.sort_by(trigger.timestamp_field, "DESC")
        .sort_by(trigger.id_field, "DESC")
        .with_page_size(1)
        .with_current_page(1)
    )
    secrets: list[str] = []
    try:
        secrets = connection_secrets(connection)
        client = connection_client(connection, **SAMPLE_CLIENT_OPTIONS)
    except (PlainHttpNotAllowed, ValueError, *dx.UNREADABLE_ERRORS) as problem:
        sample.note = (
            f"The store could not be asked for a sample ({_scrubbed(problem, secrets)}); "
            "these are the fields such records usually have."
        )
        return sample
    try:
        result = getattr(client, trigger.resource).search(criteria)
    except MagentoError as problem:
        sample.note = (
            f"The store could not be asked for a sample ({_scrubbed(problem.message, secrets)}); "
            "these are the fields such records usually have."
        )
        return sample
    finally:
        client.close()
    if not result.items:
        sample.note = (
            f"{connection.name} has no {trigger.label.lower()} record yet; these are the fields "
            "such records usually have."
        )
        return sample
    record = result.items[0]
    sample.record = record
    sample.source = SOURCE_STORE
    key = trigger.entity_key(record) or str(record.get(trigger.id_key, ""))
    sample.note = f"Fields of the newest record in {connection.name}: {key}."
    sample.fields = record_paths(record)
    return sample


def _scrubbed(problem: Any, secrets: list[str]) -> str:
    return dx.scrub(str(problem), secrets) if secrets else str(problem)


def action_output_fields() -> dict[str, list[str]]:
    """For each action id, the output fields later steps usually refer to."""
    return {
        action_id: list(get_action(action_id).output_fields) for action_id, _ in action_choices()
    }

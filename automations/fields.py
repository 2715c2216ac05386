"""Model fields of the automations."""

from __future__ import annotations

from typing import Any

from django.db import models


class StoredJSONField(models.JSONField):
    """JSON kept as the text it was written with: on PostgreSQL a `json` column, not `jsonb`.

    For a record as the store sent it, which the portal reads whole and never queries inside:
    PostgreSQL checks and stores `json` text as it is, where `jsonb` takes it apart into its
    binary form (with keys sorted and duplicates dropped), about half of the work of writing a
    polled page of orders (`make bench`). Elsewhere it is an ordinary JSONField (SQLite keeps
    JSON as text anyway). Lookups inside the value (`record__sku`) are not for this field.
    """

    def db_type(self, connection) -> str | None:
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def from_db_value(self, value: Any, expression, connection) -> Any:
        # psycopg decodes `json` columns itself (Django only asks it not to for `jsonb`): the
        # value is the decoded record already (a JSON string is a str, not text to decode).
        if connection.vendor == "postgresql":
            return value
        return super().from_db_value(value, expression, connection)

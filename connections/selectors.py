"""Read-only queries about connections."""

from __future__ import annotations

from django.db.models import QuerySet

from connections.models import SECRET_FIELDS, Connection, ConnectionStatus, connection_name_key


def automations_relation():
    """The reverse relation from automations to a connection, once the automations app adds it."""
    for relation in Connection._meta.related_objects:
        if relation.get_accessor_name() == "automations":
            return relation
    return None


def connection_get_by_name(name: str) -> Connection | None:
    """The connection with this name (compared by key: regardless of case), or None.

    Credentials are read when first used, so a row saved under other keys still loads and the
    check can record why its credentials cannot be read.
    """
    return (
        Connection.objects.defer(*SECRET_FIELDS, "admin_token")
        .filter(name_key=connection_name_key(name))
        .first()
    )


def connection_list_verified() -> QuerySet[Connection]:
    """Connections automations may use: verified ones."""
    return Connection.objects.filter(status=ConnectionStatus.VERIFIED)

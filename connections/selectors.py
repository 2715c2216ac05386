"""Read-only queries about connections."""

from __future__ import annotations

from django.db.models import QuerySet
from django.db.models.functions import Lower

from connections.models import (
    SECRET_FIELDS,
    Connection,
    ConnectionStatus,
    CredentialsUnreadable,
)

# Every encrypted column of a connection: the credentials and the cached admin token.
ENCRYPTED_FIELDS = (*SECRET_FIELDS, "admin_token")


def automations_relation():
    """The reverse relation from automations to a connection, once the automations app adds it."""
    for relation in Connection._meta.related_objects:
        if relation.get_accessor_name() == "automations":
            return relation
    return None


def connection_get_by_name(name: str) -> Connection | None:
    """The connection with this name (names are unique regardless of case), or None.

    Credentials are read when first used, so a row saved under other keys still loads and the
    check can record why its credentials cannot be read.
    """
    return (
        Connection.objects.defer(*SECRET_FIELDS, "admin_token")
        .annotate(lower_name=Lower("name"))
        .filter(lower_name=name.strip().lower())
        .first()
    )


def connection_load_credentials(connection: Connection) -> bool:
    """Read the connection's credentials now; False when they cannot be decrypted.

    Unreadable credentials (the keys changed since they were saved) are set empty on this
    instance, and it is marked `credentials_unreadable`, so a form can take new ones over them.
    Nothing is written to the database.
    """
    try:
        connection.refresh_from_db(fields=list(ENCRYPTED_FIELDS))
    except CredentialsUnreadable:
        for name in ENCRYPTED_FIELDS:
            setattr(connection, name, "")
        connection.admin_token_key = ""
        connection.admin_token_expires_at = None
        connection.credentials_unreadable = True
        return False
    return True


def connection_list_verified() -> QuerySet[Connection]:
    """Connections automations may use: verified ones."""
    return Connection.objects.filter(status=ConnectionStatus.VERIFIED)

"""Read-only queries about connections."""

from __future__ import annotations

from django.apps import apps
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from connections.models import (
    SECRET_FIELDS,
    Connection,
    ConnectionStatus,
    CredentialsUnreadable,
    connection_name_key,
)

# Every encrypted column of a connection: the credentials and the cached admin token.
ENCRYPTED_FIELDS = (*SECRET_FIELDS, "admin_token")


def with_automation_counts(queryset: QuerySet[Connection]) -> QuerySet[Connection]:
    """Annotate `automation_count`: automations whose trigger or any step uses the connection.

    The automations app is looked up by name (it builds on connections, not the other way).
    """
    try:
        automation = apps.get_model("automations", "Automation")
    except LookupError:
        return queryset
    using = (
        automation.objects.filter(
            Q(trigger__connection=OuterRef("pk")) | Q(steps__connection=OuterRef("pk"))
        )
        .order_by()
        .annotate(group=Value(1))
        .values("group")
        .annotate(count=Count("pk", distinct=True))
        .values("count")[:1]
    )
    return queryset.annotate(automation_count=Coalesce(Subquery(using), 0))


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

"""Services that create and change connections (saving only).

Building clients lives in connections.clients, checking a connection against its store in
connections.verification. A save verifies first (outside any transaction), then writes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from connections.models import (
    DEFAULT_STORE_CODE,
    DEFAULT_TIMEOUT_SECONDS,
    EDITABLE_FIELDS,
    OAUTH_FIELDS,
    SECRET_FIELDS,
    AuthMethod,
    Connection,
    ConnectionStatus,
)
from connections.validation import (
    connection_validate,
    name_taken,
    name_taken_message,
    normalise_totp_secret,
)
from connections.verification import VerificationResult, apply_verification, connection_check
from magento.store_domain import parse_store_domain

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SaveOutcome:
    """What connection_create / connection_update did."""

    connection: Connection | None
    verification: VerificationResult | None

    @property
    def saved(self) -> bool:
        """True when the connection was stored (a failed check alone stores nothing)."""
        return self.connection is not None


def _clear_unused_credentials(connection: Connection) -> None:
    # Credentials of the other method would only be a liability.
    if connection.auth_method == AuthMethod.SESSION:
        for name in ("access_token", *OAUTH_FIELDS):
            setattr(connection, name, "")
    else:
        connection.admin_username = ""
        connection.admin_password = ""
        connection.totp_secret = ""


def _normalise(connection: Connection) -> None:
    connection.name = (connection.name or "").strip()
    connection.store_domain = parse_store_domain(connection.store_domain).display
    connection.totp_secret = normalise_totp_secret(connection.totp_secret or "")
    # Tokens are not trimmed: validation has already refused any with spaces (the form strips
    # them; other callers get a message rather than a silent change).


def connection_save(
    *,
    connection: Connection,
    user: Any = None,
    verify: bool = True,
    save_unverified: bool = False,
    verification: VerificationResult | None = None,
    client_overrides: dict[str, Any] | None = None,
) -> SaveOutcome:
    """Validate, verify (unless given a verification or verify=False), then save atomically.

    Used by connection_create / connection_update and by the admin, whose form has already
    verified. Raises django ValidationError (by field) for bad values, also for a name another
    save took meanwhile, and Connection.DoesNotExist when the connection was deleted meanwhile.
    A failed verification saves nothing unless `save_unverified` (it is then saved as "failed").
    """
    connection_validate(connection)
    _normalise(connection)
    _clear_unused_credentials(connection)
    if verify and verification is None:
        verification = connection_check(connection=connection, **(client_overrides or {}))
    if verification is not None and not verification.ok and not save_unverified:
        return SaveOutcome(connection=None, verification=verification)

    try:
        _write_connection(connection, user=user, verification=verification)
    except IntegrityError:
        # Another save took the name between validation and this insert (the unique index on
        # the lower-case name is the final judge): the same answer validation gives.
        if not name_taken(connection.name, other_than=connection.pk):
            raise
        raise ValidationError({"name": [name_taken_message(connection.name)]}) from None
    logger.info("Connection %s (%s) saved: %s", connection.pk, connection.name, connection.status)
    return SaveOutcome(connection=connection, verification=verification)


def _write_connection(
    connection: Connection, *, user: Any, verification: VerificationResult | None
) -> None:
    """Write a validated connection in one transaction, keeping what workers changed meanwhile."""
    with transaction.atomic():
        if connection.pk:
            # What workers changed since this object was read (it may be minutes old: a form).
            current = (
                Connection.objects.select_for_update()
                .filter(pk=connection.pk)
                .values(*_WORKER_FIELDS)
                .first()
            )
            if current is None:
                raise Connection.DoesNotExist(
                    "This connection was deleted while it was being edited; nothing was saved."
                )
            for name, value in current.items():
                setattr(connection, name, value)
        # Saved by a person: new credentials, so the next sign-in may try them.
        connection.credentials_version += 1
        connection.sign_in_refused_at = None
        connection.sign_in_refusal = ""
        if verification is not None:
            apply_verification(connection, verification)
        else:
            connection.status = ConnectionStatus.UNVERIFIED
            connection.last_error_code = ""
            connection.last_error_message = ""
        if user is not None and getattr(user, "pk", None):
            if not connection.pk:
                connection.created_by = user
            connection.updated_by = user
        if connection.pk and connection.credentials_unreadable:
            # New credentials typed over unreadable ones: the cached token is unreadable too.
            connection.save(update_fields=[*_SAVED_FIELDS, *_TOKEN_FIELDS])
        elif connection.pk:
            # The admin token may have been renewed in the database while verifying.
            connection.save(update_fields=_SAVED_FIELDS)
        else:
            connection.save()
        connection.credentials_unreadable = False


def connection_create(
    *,
    name: str,
    store_domain: str,
    auth_method: str,
    access_token: str = "",
    consumer_key: str = "",
    consumer_secret: str = "",
    access_token_secret: str = "",
    admin_username: str = "",
    admin_password: str = "",
    totp_secret: str = "",
    store_code: str = DEFAULT_STORE_CODE,
    verify_tls: bool = True,
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS,
    allow_plain_http: bool = False,
    user: Any = None,
    verify: bool = True,
    save_unverified: bool = False,
    verification: VerificationResult | None = None,
    client_overrides: dict[str, Any] | None = None,
) -> SaveOutcome:
    """Validate, verify against the store, then save a new connection.

    Raises django ValidationError (by field) for bad values. When verification fails the
    connection is not saved unless `save_unverified` (it is then saved with status "failed");
    `verify=False` saves it as "not verified" without calling the store.
    """
    connection = Connection(
        name=name,
        store_domain=store_domain,
        auth_method=auth_method,
        access_token=access_token,
        consumer_key=consumer_key,
        consumer_secret=consumer_secret,
        access_token_secret=access_token_secret,
        admin_username=admin_username,
        admin_password=admin_password,
        totp_secret=totp_secret,
        store_code=store_code,
        verify_tls=verify_tls,
        timeout_seconds=timeout_seconds,
        allow_plain_http=allow_plain_http,
    )
    return connection_save(
        connection=connection,
        user=user,
        verify=verify,
        save_unverified=save_unverified,
        verification=verification,
        client_overrides=client_overrides,
    )


def connection_update(
    *,
    connection: Connection,
    changes: dict[str, Any],
    user: Any = None,
    verify: bool = True,
    save_unverified: bool = False,
    verification: VerificationResult | None = None,
    client_overrides: dict[str, Any] | None = None,
) -> SaveOutcome:
    """Apply changes to a connection, verify, and save (same rules as connection_create).

    A blank secret in `changes` keeps the saved one. The cached admin token needs no care: its
    key covers store and user, a check signs in afresh, and a refused token is renewed once.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    for name, value in changes.items():
        if name in SECRET_FIELDS and not value:
            continue
        setattr(connection, name, value)
    return connection_save(
        connection=connection,
        user=user,
        verify=verify,
        save_unverified=save_unverified,
        verification=verification,
        client_overrides=client_overrides,
    )


# Fields the token cache writes from worker processes (see ConnectionTokenCache).
_WORKER_FIELDS = (
    "oauth_path_signing",
    "consecutive_signin_failures",
    "sign_in_refused_at",
    "sign_in_refusal",
    "credentials_version",
)

_TOKEN_FIELDS = ("admin_token", "admin_token_key", "admin_token_expires_at")

_SAVED_FIELDS = [
    f.name
    for f in Connection._meta.concrete_fields
    if not f.primary_key and f.name not in (*_TOKEN_FIELDS, "created_at")
]

"""Building the Magento client for a connection: the one door the rest of the portal uses.

`connection_client` serves a person's request (a check, a manual run); background work uses
`connection_client_for_task(connection_id)`, which raises one `ConnectionUnusable` (with a
diagnosis code) for every reason a connection cannot be used, so a task catches one exception.
The admin token of a session connection is cached encrypted on the connection row and shared
by the web and worker processes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from connections import diagnosis as dx
from connections.models import (
    DEFAULT_STORE_CODE,
    DEFAULT_TIMEOUT_SECONDS,
    SECRET_FIELDS,
    AuthMethod,
    Connection,
    ConnectionStatus,
)
from connections.validation import StoreTarget, normalise_totp_secret
from magento import errors as magento_errors
from magento.auth import AdminSessionAuth, IntegrationTokenAuth, MagentoAuth, OAuth1Auth
from magento.client import MagentoClient
from magento.store_domain import InvalidStoreDomain, parse_store_domain

logger = logging.getLogger(__name__)

# The longest a connect may take; the read timeout is the connection's own setting.
MAX_CONNECT_TIMEOUT = 10.0


class ConnectionTokenCache:
    """Admin-token cache kept encrypted on the connection row (shared by web and workers).

    Only the hash of the cache key is stored, so the admin user name is not repeated in clear.
    It also remembers a refused sign-in (magento.RefusalMemory): once the store has refused the
    saved password, no unattended sign-in is tried again until the connection is saved or
    tested, so workers running task after task cannot walk into Magento's lockout.
    """

    def __init__(self, connection_id: int, *, version: int = 0, write_only: bool = False) -> None:
        self.connection_id = connection_id
        # The credentials_version the caller's credentials belong to.
        self.version = version
        # Write-only: a check asked for by a person. It always signs in (a check must prove
        # the password) and shares the token; whether a refusal pauses sign-ins is recorded
        # with the check's outcome, and only for saved credentials.
        self.write_only = write_only

    @staticmethod
    def _key_hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    def _rows(self):
        return Connection.objects.filter(pk=self.connection_id)

    def get(self, key: str) -> str | None:
        """The cached admin token for key, or None if missing, for another key, or expired."""
        if self.write_only:
            return None
        try:
            row = (
                self._rows()
                .values("admin_token", "admin_token_key", "admin_token_expires_at")
                .first()
            )
        except dx.UNREADABLE_ERRORS:
            return None  # saved under other keys: sign in afresh, which replaces it
        if not row or not row["admin_token"] or row["admin_token_key"] != self._key_hash(key):
            return None
        expires_at = row["admin_token_expires_at"]
        if expires_at is None or expires_at <= timezone.now():
            return None
        return row["admin_token"]

    def set(self, key: str, token: str, expires_at: float) -> None:
        """Keep the token until expires_at (epoch seconds); an unattended sign-in that worked
        also ends a pause (there is none to end when it was paused for these credentials)."""
        token_fields = {
            "admin_token": token,
            "admin_token_key": self._key_hash(key),
            "admin_token_expires_at": dt.datetime.fromtimestamp(expires_at, tz=dt.UTC),
        }
        if self.write_only:
            self._rows().update(**token_fields)
            return
        self._rows().filter(credentials_version=self.version).update(
            **token_fields,
            consecutive_signin_failures=0,
            sign_in_refused_at=None,
            sign_in_refusal="",
        )

    def refusal(self, key: str) -> str | None:
        """The store's message if it refused these credentials (None for checks)."""
        if self.write_only:
            return None  # a check is asked for by a person: it may sign in once more
        row = (
            self._rows()
            .filter(credentials_version=self.version, sign_in_refused_at__isnull=False)
            .values("sign_in_refusal")
            .first()
        )
        if row is None:
            return None
        return row["sign_in_refusal"] or "The store refused the admin sign-in."

    def remember_refusal(self, key: str, refusal: magento_errors.MagentoError) -> None:
        """Pause unattended sign-ins and show the failure on the connection."""
        if self.write_only:
            return  # checks record their outcome themselves, and only for saved credentials
        code = (
            dx.TWO_FACTOR_CODE_REJECTED
            if isinstance(refusal, magento_errors.InvalidTwoFactorCodeError)
            else dx.ADMIN_SIGNIN_REJECTED
        )
        diagnosis = dx.make_diagnosis(code, detail=str(refusal))
        now = timezone.now()
        # Only for the credentials this refusal was met with: a person may have saved new ones.
        paused = (
            self._rows()
            .filter(credentials_version=self.version)
            .update(
                admin_token="",
                admin_token_expires_at=None,
                sign_in_refused_at=now,
                sign_in_refusal=refusal.raw_message[:2000],
                status=ConnectionStatus.FAILED,
                last_checked_at=now,
                last_error_code=diagnosis.code,
                last_error_message=diagnosis.message[:2000],
                consecutive_signin_failures=F("consecutive_signin_failures") + 1,
                updated_at=now,
            )
        )
        if paused:
            logger.warning(
                "Connection %s: the store refused the admin sign-in; unattended sign-ins are "
                "paused until the connection is saved or tested again.",
                self.connection_id,
            )

    def __repr__(self) -> str:
        return f"ConnectionTokenCache(connection_id={self.connection_id})"


def connection_secrets(connection: Connection) -> list[str]:
    """Every credential value of the connection (for scrubbing text that leaves the portal)."""
    values = [getattr(connection, name) or "" for name in SECRET_FIELDS]
    values.append(connection.admin_token or "")
    return [v for v in values if v]


def connection_auth(connection: Connection, *, fresh_sign_in: bool = False) -> MagentoAuth:
    """The client authentication for the connection's method (OAuth 1.0a wins when complete).

    `fresh_sign_in` ignores a cached admin token (used when checking the password).
    """
    if connection.auth_method == AuthMethod.SESSION:
        cache = (
            ConnectionTokenCache(
                connection.pk, version=connection.credentials_version, write_only=fresh_sign_in
            )
            if connection.pk
            else None
        )
        return AdminSessionAuth(
            connection.admin_username,
            connection.admin_password,
            totp_secret=normalise_totp_secret(connection.totp_secret) or None,
            token_cache=cache,
        )
    if connection.uses_oauth:
        return OAuth1Auth(
            connection.consumer_key,
            connection.consumer_secret,
            connection.access_token,
            connection.access_token_secret,
            path_signing=connection.oauth_path_signing or None,
            on_signing_learned=_path_signing_recorder(connection),
        )
    return IntegrationTokenAuth(connection.access_token)


def _path_signing_recorder(connection: Connection):
    """Keep the way the store signs OAuth paths on the connection, for every later client."""

    def record(path_signing: str) -> None:
        connection.oauth_path_signing = path_signing
        if connection.pk:
            Connection.objects.filter(pk=connection.pk).update(oauth_path_signing=path_signing)
            logger.info(
                "Connection %s: the store signs OAuth paths the %s way", connection.pk, path_signing
            )

    return record


class PlainHttpNotAllowed(ValueError):
    """The connection uses http:// to a public store without the per-connection opt-in."""


def connection_client(
    connection: Connection, *, fresh_sign_in: bool = False, **overrides: Any
) -> MagentoClient:
    """The one way to build a MagentoClient for a connection (settings, timeouts, tokens).

    Outbound safety follows ALLOW_PRIVATE_NETWORK_TARGETS; `overrides` are passed to
    MagentoClient (tests inject `sleep` or `session`; verification uses fewer retries).
    Raises PlainHttpNotAllowed for http:// to a public store without the opt-in, also when
    the name resolved to a private address when the connection was saved.
    """
    address = parse_store_domain(connection.store_domain)
    if StoreTarget(address, allow_plain_http=connection.allow_plain_http).plain_http_refused:
        raise PlainHttpNotAllowed(
            f"Connection {connection.name!r} uses plain http:// without 'Allow plain http://'."
        )
    timeout = float(connection.timeout_seconds or DEFAULT_TIMEOUT_SECONDS)
    options: dict[str, Any] = {
        "store_code": connection.store_code or DEFAULT_STORE_CODE,
        "verify_tls": connection.verify_tls,
        "connect_timeout": min(MAX_CONNECT_TIMEOUT, timeout),
        "read_timeout": timeout,
        "allow_private_network": bool(settings.ALLOW_PRIVATE_NETWORK_TARGETS),
    }
    options.update(overrides)
    auth = connection_auth(connection, fresh_sign_in=fresh_sign_in)
    return MagentoClient(address, auth, **options)


class ConnectionUnusable(Exception):
    """A connection that background work cannot use as it is; `code` is a diagnosis code.

    Raised before anything is sent to the store: the connection does not exist (any more), its
    credentials cannot be read (the keys changed), its Store Domain is not valid, or it uses
    plain http:// without the opt-in. The message is in a shop owner's words.
    """

    def __init__(self, code: str, message: str, *, connection_id: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.connection_id = connection_id


CONNECTION_GONE = "connection_gone"


def connection_client_for_task(connection_id: int, **overrides: Any) -> MagentoClient:
    """The client a background task uses for connection `connection_id`.

    Raises ConnectionUnusable for every reason the connection cannot be used; errors from the
    store itself come later, from the client's calls, as magento.errors.
    """
    gone = ConnectionUnusable(
        CONNECTION_GONE,
        "The store connection no longer exists: it was deleted. Choose another connection.",
        connection_id=connection_id,
    )
    shown = Connection.objects.filter(pk=connection_id).values("name", "store_domain").first()
    if shown is None:
        raise gone
    name = shown["name"]
    try:
        # Credentials are decrypted as the row is read: a changed key fails here.
        connection = Connection.objects.get(pk=connection_id)
        return connection_client(connection, **overrides)
    except Connection.DoesNotExist:
        raise gone from None
    except dx.UNREADABLE_ERRORS:
        code = dx.CREDENTIALS_UNREADABLE
    except InvalidStoreDomain as error:
        raise ConnectionUnusable(
            dx.UNEXPECTED,
            f"The Store Domain of connection {name!r} is not valid: {error}",
            connection_id=connection_id,
        ) from None
    except PlainHttpNotAllowed:
        code = dx.PLAIN_HTTP
    except ValueError as error:
        # The client refuses malformed saved values (a token with a line break ...), and says
        # so without repeating the value.
        raise ConnectionUnusable(
            dx.UNEXPECTED,
            f"Connection {name!r} cannot be used: {error}",
            connection_id=connection_id,
        ) from None
    diagnosis = dx.make_diagnosis(code, host=shown["store_domain"])
    raise ConnectionUnusable(
        code, f"Connection {name!r}: {diagnosis.message}", connection_id=connection_id
    )

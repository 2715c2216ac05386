"""Building the Magento client for a connection: the one door the rest of the portal uses.

`connection_client` serves a person's request (a check, a manual run); background work uses
`connection_client_for_task(connection_id)`, which raises one `ConnectionUnusable` (with a
diagnosis code) for every reason a connection cannot be used, so a task catches one exception.
A worker runs task after task on the same few connections: their clients are kept per process
and thread (`connection_task_client`), checked against the row with one query each time, so a
run neither decrypts the credentials nor opens a new HTTP connection to the store again.
The admin token of a session connection is cached encrypted on the connection row and shared
by the web and worker processes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection as db_connection
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
    store itself come later, from the client's calls, as magento.errors. The client may be one
    kept from an earlier task (closing it only closes its pooled HTTP connections).
    """
    return connection_task_client(connection_id, **overrides).client


@dataclass
class TaskClient:
    """A connection's client for background work, and what to scrub from what comes back."""

    client: MagentoClient
    # Every credential saved on the connection when the client was built (one decryption).
    saved_secrets: tuple[str, ...]
    kept: bool = False

    def secrets(self) -> list[str]:
        """The saved credentials and those the client's auth holds now (an admin token got
        since), for scrubbing text that leaves the portal."""
        live = self.client.auth.secrets() if self.client.auth is not None else ()
        return [value for value in dict.fromkeys((*self.saved_secrets, *live)) if value]

    def release(self) -> None:
        """Done with it for now: a kept client stays open for the next task."""
        if not self.kept:
            self.client.close()


# Clients kept per process: few connections serve many runs. One per connection, client options
# and thread (a requests.Session is not meant to be shared by threads).
TASK_CLIENTS_KEPT = 32
_KEEPABLE_OPTION_TYPES = (bool, int, float, str, type(None))


class TaskClientCache:
    """A bounded, thread-safe store of TaskClients, each valid for one fingerprint of its
    connection's row (see `_fingerprint`): a changed row builds a new client."""

    def __init__(self, size: int = TASK_CLIENTS_KEPT) -> None:
        self.size = size
        self._entries: OrderedDict[tuple, tuple[str, TaskClient]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, fingerprint: str) -> TaskClient | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] != fingerprint:
                del self._entries[key]
                stale = entry[1]
            else:
                self._entries.move_to_end(key)
                return entry[1]
        stale.client.close()
        return None

    def put(self, key: tuple, fingerprint: str, task_client: TaskClient) -> None:
        dropped: list[TaskClient] = []
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                dropped.append(previous[1])
            self._entries[key] = (fingerprint, task_client)
            while len(self._entries) > self.size:
                dropped.append(self._entries.popitem(last=False)[1][1])
        for old in dropped:
            if old is not task_client:
                old.client.close()

    def clear(self) -> None:
        with self._lock:
            entries = list(self._entries.values())
            self._entries.clear()
        for _, task_client in entries:
            task_client.client.close()

    def __len__(self) -> int:
        return len(self._entries)


task_clients = TaskClientCache()

# What a client is built from, besides the credentials (read as stored, never decrypted here).
_CLIENT_COLUMNS = (
    "name",
    "store_domain",
    "store_code",
    "verify_tls",
    "timeout_seconds",
    "allow_plain_http",
    "auth_method",
    "credentials_version",
    "updated_at",
)


def _client_row(connection_id: int) -> tuple[str, str, str] | None:
    """(name, store domain, fingerprint) of the connection, or None when it is gone.

    The fingerprint covers what a kept client depends on: the client settings, the credentials
    version and the encrypted credential columns as stored (every write of a credential, by a
    save or an UPDATE, encrypts afresh, so it changes them even when the value is the same).
    One plain query: it runs before every task, and the ORM would cost more than the database.
    """
    meta = Connection._meta
    quote = db_connection.ops.quote_name
    columns = [meta.get_field(name).column for name in (*_CLIENT_COLUMNS, *SECRET_FIELDS)]
    # Quoted names from the model; the id is a parameter.
    sql = (
        f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(meta.db_table)} "  # noqa: S608
        f"WHERE {quote(meta.pk.column)} = %s"
    )
    with db_connection.cursor() as cursor:
        cursor.execute(sql, [connection_id])
        row = cursor.fetchone()
    if row is None:
        return None
    digest = hashlib.sha256()
    for value in row:
        digest.update(
            b"\0"
            + (bytes(value) if isinstance(value, bytes | memoryview) else repr(value).encode())
        )
    return row[0], row[1], digest.hexdigest()


def connection_task_client(connection_id: int, **overrides: Any) -> TaskClient:
    """The client (kept or new) for connection `connection_id`, with its secrets to scrub.

    One query checks the kept client against the connection's row; only a changed or new
    row is decrypted and gets a new client. Options that are not plain values (a test's
    `sleep` or `session`) always get a new client, closed by `release()`.
    """
    found = _client_row(connection_id)
    if found is None:
        raise _gone(connection_id)
    name, store_domain, fingerprint = found
    keepable = all(isinstance(value, _KEEPABLE_OPTION_TYPES) for value in overrides.values())
    key = (connection_id, threading.get_ident(), tuple(sorted(overrides.items())))
    if keepable:
        kept = task_clients.get(key, fingerprint)
        if kept is not None:
            return kept
    task_client = _task_client_build(connection_id, name, store_domain, overrides)
    if keepable:
        task_client.kept = True
        task_clients.put(key, fingerprint, task_client)
    return task_client


def _gone(connection_id: int) -> ConnectionUnusable:
    return ConnectionUnusable(
        CONNECTION_GONE,
        "The store connection no longer exists: it was deleted. Choose another connection.",
        connection_id=connection_id,
    )


def _task_client_build(connection_id: int, name: str, store_domain: str, overrides) -> TaskClient:
    try:
        # Credentials are decrypted as the row is read: a changed key fails here.
        connection = Connection.objects.get(pk=connection_id)
        client = connection_client(connection, **overrides)
        return TaskClient(client, tuple(connection_secrets(connection)))
    except Connection.DoesNotExist:
        raise _gone(connection_id) from None
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
    diagnosis = dx.make_diagnosis(code, host=store_domain)
    raise ConnectionUnusable(
        code, f"Connection {name!r}: {diagnosis.message}", connection_id=connection_id
    )

"""Services that create, change and verify connections, and build the client for a connection.

Verification calls the store first and only then writes the outcome in a short transaction:
a database transaction is never held open while waiting for Magento.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from connections import diagnosis as dx
from connections.models import (
    DEFAULT_STORE_CODE,
    DEFAULT_TIMEOUT_SECONDS,
    OAUTH_FIELDS,
    SECRET_FIELDS,
    AuthMethod,
    Connection,
    ConnectionStatus,
)
from connections.validation import (
    StoreTarget,
    connection_validate,
    name_taken,
    name_taken_message,
    normalise_totp_secret,
)
from magento import errors as magento_errors
from magento.auth import AdminSessionAuth, IntegrationTokenAuth, MagentoAuth, OAuth1Auth
from magento.client import MagentoClient
from magento.urls import InvalidStoreDomain, parse_store_domain

logger = logging.getLogger(__name__)

# The longest a connect may take; the read timeout is the connection's own setting.
MAX_CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True)
class PermissionProbe:
    """One cheap read the automations depend on, and where the permission lives in Magento."""

    key: str
    label: str
    path: str
    resource: str
    acl_label: str
    # A read of a record that cannot exist: "no such record" proves the call was allowed.
    by_missing_record: bool = False


PERMISSION_PROBES = (
    PermissionProbe(
        "customers",
        "Customers",
        "/V1/customers/search",
        "Magento_Customer::customer",
        "Customers > All Customers",
    ),
    PermissionProbe(
        "products",
        "Products",
        "/V1/products",
        "Magento_Catalog::products",
        "Catalog > Inventory > Products",
    ),
    PermissionProbe(
        "orders",
        "Orders",
        "/V1/orders",
        "Magento_Sales::actions_view",
        "Sales > Operations > Orders > Actions > View",
    ),
    PermissionProbe(
        "shipments",
        "Shipments",
        "/V1/shipment/0",
        "Magento_Sales::shipment",
        "Sales > Operations > Shipments",
        by_missing_record=True,
    ),
)
STORE_CONFIG_PROBE = PermissionProbe(
    "store",
    "Store settings",
    "/V1/store/storeConfigs",
    "Magento_Backend::store",
    "Stores > Settings > All Stores",
)
PROBE_PARAMS = [("searchCriteria[pageSize]", "1"), ("searchCriteria[currentPage]", "1")]

OK = "ok"
DENIED = "denied"


@dataclass(frozen=True)
class StoreFacts:
    """What the store told us about itself (from storeConfigs)."""

    base_url: str = ""
    timezone: str = ""
    currency: str = ""


@dataclass(frozen=True)
class VerificationResult:
    """The outcome of checking a connection against its store."""

    diagnosis: dx.Diagnosis
    checked_at: dt.datetime
    store: StoreFacts = field(default_factory=StoreFacts)
    permissions: dict[str, str] = field(default_factory=dict)
    # Set by connection_verify when the connection was deleted, or saved with other
    # credentials, while the store was being called: the outcome was not recorded.
    outdated: bool = False

    @property
    def ok(self) -> bool:
        return self.diagnosis.ok


@dataclass(frozen=True)
class SaveOutcome:
    """What connection_create / connection_update did."""

    connection: Connection | None
    verification: VerificationResult | None

    @property
    def saved(self) -> bool:
        """True when the connection was stored (a failed check alone stores nothing)."""
        return self.connection is not None


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
        row = (
            self._rows().values("admin_token", "admin_token_key", "admin_token_expires_at").first()
        )
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
        )
    return IntegrationTokenAuth(connection.access_token)


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


def _preflight(connection: Connection) -> dx.Diagnosis | None:
    """Address checks that need no request: private targets and plain http."""
    address = parse_store_domain(connection.store_domain)
    target = StoreTarget(address, allow_plain_http=connection.allow_plain_http)
    if target.private_refused:
        return dx.make_diagnosis(dx.PRIVATE_ADDRESS, detail=str(target.private), host=address.host)
    if target.unresolved is not None:
        return dx.make_diagnosis(dx.DNS_FAILED, detail=str(target.unresolved), host=address.host)
    if target.plain_http_refused:
        return dx.make_diagnosis(dx.PLAIN_HTTP, host=address.host)
    return None


def _store_facts(configs: list, store_code: str) -> StoreFacts | None:
    """Facts for the chosen store code (or the default view for 'all'); None if unknown code."""
    by_code = {c.get("code"): c for c in configs if isinstance(c, dict)}
    if store_code == DEFAULT_STORE_CODE:
        chosen = by_code.get("default") or next(iter(by_code.values()), {})
    elif store_code in by_code:
        chosen = by_code[store_code]
    else:
        return None
    return StoreFacts(
        base_url=str(chosen.get("secure_base_url") or chosen.get("base_url") or "")[:500],
        timezone=str(chosen.get("timezone") or "")[:64],
        currency=str(chosen.get("base_currency_code") or "")[:8],
    )


def _auth_failure(error: Exception, connection: Connection) -> dx.Diagnosis | None:
    """Diagnoses for a refused sign-in (admin password, lockout, 2FA)."""
    detail = str(error)
    if isinstance(error, magento_errors.InvalidTwoFactorCodeError):
        return dx.make_diagnosis(dx.TWO_FACTOR_CODE_REJECTED, detail=detail)
    if isinstance(error, magento_errors.TwoFactorRequiredError):
        raw = error.raw_message or ""
        if magento_errors.TFA_PROVIDER_ENDPOINTS in raw and not connection.totp_secret:
            return dx.make_diagnosis(dx.TWO_FACTOR_REQUIRED, detail=detail)
        if magento_errors.TFA_PROVIDER_ENDPOINTS in raw:
            return dx.make_diagnosis(dx.TWO_FACTOR_CODE_REJECTED, detail=detail)
        return dx.make_diagnosis(dx.TWO_FACTOR_NOT_CONFIGURED, detail=detail)
    if isinstance(error, magento_errors.InvalidCredentialsError):
        failures = connection.consecutive_signin_failures + 1
        if connection.pk and failures >= dx.LOCKOUT_AFTER_FAILURES:
            return dx.make_diagnosis(dx.ADMIN_LOCKED, detail=detail, failures=failures)
        return dx.make_diagnosis(dx.ADMIN_SIGNIN_REJECTED, detail=detail)
    return None


def _two_factor_route_missing(error: Exception, connection: Connection) -> bool:
    """Magento without its 2FA module has no route for signing in with a code."""
    return (
        connection.auth_method == AuthMethod.SESSION
        and bool(connection.totp_secret)
        and isinstance(error, magento_errors.RouteNotFoundError)
        and (getattr(error, "path", "") or "").startswith("/V1/tfa/")
    )


def _missing_permissions_fix(connection: Connection) -> str:
    if connection.auth_method == AuthMethod.SESSION:
        return (
            "Give the admin user's role these resources (System > Permissions > User Roles > "
            "Role Resources), or set Resource Access to All."
        )
    return (
        "Edit the integration (System > Extensions > Integrations), set Resource Access on the "
        "API tab to All, save, and re-authorize it (then copy the new tokens)."
    )


# Every variable, in this frame and in each one it calls (the client's request bodies carry
# the admin password): an error report must not list a credential.
@sensitive_variables()
def connection_check(*, connection: Connection, **client_overrides: Any) -> VerificationResult:
    """Call the store with the connection's settings and diagnose the outcome (no DB writes).

    Works on unsaved connections, so a form can verify before anything is stored.
    """
    checked_at = timezone.now()
    try:
        host = parse_store_domain(connection.store_domain).host
    except InvalidStoreDomain as error:
        return VerificationResult(
            diagnosis=dx.make_diagnosis(dx.UNEXPECTED, detail=str(error)), checked_at=checked_at
        )
    timeout = connection.timeout_seconds or DEFAULT_TIMEOUT_SECONDS
    try:
        secrets = connection_secrets(connection)
    except dx.UNREADABLE_ERRORS:
        # Saved with other SECRET_KEY / CRYPTOGRAPHY_KEY: nothing to send to the store.
        return VerificationResult(
            diagnosis=dx.make_diagnosis(dx.CREDENTIALS_UNREADABLE), checked_at=checked_at
        )

    def finish(diagnosis: dx.Diagnosis, **kwargs: Any) -> VerificationResult:
        if diagnosis.detail:
            diagnosis = replace(diagnosis, detail=dx.scrub(diagnosis.detail, secrets))
        if diagnosis.code == dx.TLS_ERROR and "://" not in (connection.store_domain or ""):
            # The likelier cause: a store that only speaks plain http, typed without http://.
            diagnosis = replace(
                diagnosis, explanation=f"{diagnosis.explanation} {dx.HTTPS_ASSUMED}"
            )
        return VerificationResult(diagnosis=diagnosis, checked_at=checked_at, **kwargs)

    early = _preflight(connection)
    if early is not None:
        return finish(early)

    client_overrides.setdefault("max_retries", 0)
    try:
        client = connection_client(connection, fresh_sign_in=True, **client_overrides)
    except ValueError as error:
        # The client refuses malformed credentials before sending anything.
        return finish(dx.make_diagnosis(dx.UNEXPECTED, detail=str(error)))

    permissions: dict[str, str] = {}
    first_refusal = ""
    store_code = connection.store_code or DEFAULT_STORE_CODE
    with client:
        # storeConfigs without a store code: it answers for every store view, so the chosen
        # store code can be looked up even if it does not exist.
        facts: StoreFacts | None = StoreFacts()
        try:
            configs = client.request("GET", STORE_CONFIG_PROBE.path, store_code=None)
        except magento_errors.AuthenticationError as error:
            failure = _auth_failure(error, connection)
            if failure is not None:
                return finish(failure)
            permissions[STORE_CONFIG_PROBE.key] = DENIED
            first_refusal = str(error)
        except magento_errors.NotFoundError as error:
            if _two_factor_route_missing(error, connection):
                return finish(dx.make_diagnosis(dx.TWO_FACTOR_NOT_USED, detail=str(error)))
            return finish(dx.make_diagnosis(dx.NOT_MAGENTO, detail=str(error), host=host))
        except magento_errors.ValidationError as error:
            if connection.uses_oauth:
                # Magento answers a malformed OAuth request (token length, signature method)
                # with a 400 input error: nothing else in a plain GET can be invalid.
                return finish(dx.make_diagnosis(dx.OAUTH_REJECTED, detail=str(error)))
            return finish(_general_failure(error, host=host, timeout=timeout))
        except magento_errors.MagentoError as error:
            return finish(_general_failure(error, host=host, timeout=timeout))
        else:
            if not isinstance(configs, list):
                return finish(
                    dx.make_diagnosis(
                        dx.NOT_MAGENTO,
                        detail="The store configuration answer was not a list of store views.",
                        host=host,
                    )
                )
            permissions[STORE_CONFIG_PROBE.key] = OK
            facts = _store_facts(configs, store_code)
            if facts is None:
                return finish(
                    dx.make_diagnosis(
                        dx.STORE_CODE_UNKNOWN,
                        detail=f"Store codes on this store: {_codes(configs)}",
                        store_code=store_code,
                    ),
                    permissions=permissions,
                )

        for probe in PERMISSION_PROBES:
            try:
                client.request(
                    "GET", probe.path, params=None if probe.by_missing_record else PROBE_PARAMS
                )
            except magento_errors.AuthenticationError as error:
                failure = _auth_failure(error, connection)
                if failure is not None:
                    return finish(failure)
                permissions[probe.key] = DENIED
                first_refusal = first_refusal or str(error)
            except (magento_errors.NotFoundError, magento_errors.ValidationError) as error:
                if probe.by_missing_record and not isinstance(
                    error, magento_errors.RouteNotFoundError
                ):
                    # Magento checks access before looking for the record.
                    permissions[probe.key] = OK
                    continue
                if isinstance(error, magento_errors.ValidationError):
                    return finish(_general_failure(error, host=host, timeout=timeout))
                if permissions.get(STORE_CONFIG_PROBE.key) is not None:
                    # /rest/V1 answered but /rest/<code>/V1 does not: the code is unknown.
                    return finish(
                        dx.make_diagnosis(
                            dx.STORE_CODE_UNKNOWN, detail=str(error), store_code=store_code
                        ),
                        permissions=permissions,
                    )
                return finish(dx.make_diagnosis(dx.NOT_MAGENTO, detail=str(error), host=host))
            except magento_errors.MagentoError as error:
                return finish(_general_failure(error, host=host, timeout=timeout))
            else:
                permissions[probe.key] = OK

    denied = [
        p for p in (STORE_CONFIG_PROBE, *PERMISSION_PROBES) if permissions.get(p.key) == DENIED
    ]
    facts = facts or StoreFacts()
    if not denied:
        return finish(dx.make_diagnosis(dx.VERIFIED), store=facts, permissions=permissions)
    if len(denied) == 1 + len(PERMISSION_PROBES) and connection.auth_method != AuthMethod.SESSION:
        code = dx.OAUTH_REJECTED if connection.uses_oauth else dx.TOKEN_REJECTED
        return finish(
            dx.make_diagnosis(
                code, detail=f"Every request answered HTTP 401. The first answer: {first_refusal}"
            ),
            permissions=permissions,
        )
    missing = ", ".join(f"{p.label} ({p.acl_label}; {p.resource})" for p in denied)
    return finish(
        dx.make_diagnosis(
            dx.PERMISSIONS_MISSING,
            detail="HTTP 401 for: " + ", ".join(p.path for p in denied),
            missing=missing,
            fix=_missing_permissions_fix(connection),
        ),
        store=facts,
        permissions=permissions,
    )


def _codes(configs: Any) -> str:
    codes = [str(c.get("code")) for c in configs if isinstance(c, dict)] if configs else []
    return ", ".join(codes) or "none"


def _general_failure(error: Exception, *, host: str, timeout: int) -> dx.Diagnosis:
    found = dx.diagnose_transport_error(error, host=host, timeout=timeout)
    return found or dx.make_diagnosis(dx.UNEXPECTED, detail=str(error))


def _apply_verification(connection: Connection, result: VerificationResult) -> None:
    diagnosis = result.diagnosis
    connection.last_checked_at = result.checked_at
    connection.permission_results = dict(result.permissions)
    if diagnosis.code in SIGN_IN_REFUSALS:
        connection.consecutive_signin_failures += 1
        connection.sign_in_refused_at = result.checked_at
        connection.sign_in_refusal = (diagnosis.detail or diagnosis.message)[:2000]
    elif diagnosis.code in SIGN_IN_ACCEPTED:
        connection.consecutive_signin_failures = 0
        connection.sign_in_refused_at = None
        connection.sign_in_refusal = ""
    # Otherwise (a timeout, a DNS failure ...) no sign-in happened: a pause stays as it was.
    if result.ok:
        connection.status = ConnectionStatus.VERIFIED
        connection.last_verified_at = result.checked_at
        connection.last_error_code = ""
        connection.last_error_message = ""
        connection.base_url = result.store.base_url
        connection.timezone = result.store.timezone
        connection.currency = result.store.currency
    else:
        connection.status = ConnectionStatus.FAILED
        connection.last_error_code = diagnosis.code
        connection.last_error_message = diagnosis.message[:2000]
        if result.store.base_url:
            connection.base_url = result.store.base_url
            connection.timezone = result.store.timezone
            connection.currency = result.store.currency


# Refusals that count towards Magento's lockout (a refused password or one-time code).
SIGN_IN_REFUSALS = (dx.ADMIN_SIGNIN_REJECTED, dx.ADMIN_LOCKED, dx.TWO_FACTOR_CODE_REJECTED)
# Outcomes that prove the store accepted the password (the check got past the sign-in).
SIGN_IN_ACCEPTED = (
    dx.VERIFIED,
    dx.PERMISSIONS_MISSING,
    dx.STORE_CODE_UNKNOWN,
    dx.TWO_FACTOR_REQUIRED,
    dx.TWO_FACTOR_NOT_CONFIGURED,
)

VERIFICATION_FIELDS = [
    "status",
    "last_verified_at",
    "last_checked_at",
    "last_error_code",
    "last_error_message",
    "permission_results",
    "consecutive_signin_failures",
    "sign_in_refused_at",
    "sign_in_refusal",
    "base_url",
    "timezone",
    "currency",
    "updated_at",
]


def connection_verify(
    *, connection: Connection, user: Any = None, **client_overrides: Any
) -> VerificationResult:
    """Check a saved connection against its store and record the outcome on it."""
    result = connection_check(connection=connection, **client_overrides)
    with transaction.atomic():
        # Re-read inside the transaction so a concurrent edit of other fields is not undone.
        # Credentials stay deferred: they are not changed here (and may be unreadable).
        fresh = (
            Connection.objects.select_for_update()
            .only("pk", *VERIFICATION_FIELDS, "credentials_version", "updated_by")
            .filter(pk=connection.pk)
            .first()
        )
        if fresh is None or fresh.credentials_version != connection.credentials_version:
            # Deleted, or saved with other credentials while the store was being called: this
            # outcome belongs to credentials that no longer exist, so it is not recorded.
            logger.info("Connection %s changed during its check; outcome not kept", connection.pk)
            return replace(result, outdated=True)
        _apply_verification(fresh, result)
        if user is not None and getattr(user, "pk", None):
            fresh.updated_by = user
        fresh.save(update_fields=[*VERIFICATION_FIELDS, "updated_by"])
    for name in VERIFICATION_FIELDS:
        setattr(connection, name, getattr(fresh, name))
    logger.info(
        "Connection %s (%s) checked: %s", connection.pk, connection.name, result.diagnosis.code
    )
    return result


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
        _store(connection, user=user, verification=verification)
    except IntegrityError:
        # Another save took the name between validation and this insert (the unique index on
        # the lower-case name is the final judge): the same answer validation gives.
        if not name_taken(connection.name, other_than=connection.pk):
            raise
        raise ValidationError({"name": [name_taken_message(connection.name)]}) from None
    logger.info("Connection %s (%s) saved: %s", connection.pk, connection.name, connection.status)
    return SaveOutcome(connection=connection, verification=verification)


def _store(connection: Connection, *, user: Any, verification: VerificationResult | None) -> None:
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
            _apply_verification(connection, verification)
        else:
            connection.status = ConnectionStatus.UNVERIFIED
            connection.last_error_code = ""
            connection.last_error_message = ""
        if user is not None and getattr(user, "pk", None):
            if not connection.pk:
                connection.created_by = user
            connection.updated_by = user
        if connection.pk:
            # The admin token may have been renewed in the database while verifying.
            connection.save(update_fields=_SAVED_FIELDS)
        else:
            connection.save()


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
    unknown = set(changes) - _EDITABLE_FIELDS
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
    "consecutive_signin_failures",
    "sign_in_refused_at",
    "sign_in_refusal",
    "credentials_version",
)

_SAVED_FIELDS = [
    f.name
    for f in Connection._meta.concrete_fields
    if not f.primary_key
    and f.name not in ("admin_token", "admin_token_key", "admin_token_expires_at", "created_at")
]

_EDITABLE_FIELDS = {
    "name",
    "store_domain",
    "auth_method",
    *SECRET_FIELDS,
    "admin_username",
    "store_code",
    "verify_tls",
    "timeout_seconds",
    "allow_plain_http",
}

"""Verifying a connection: cheap probes against the store, and a diagnosis in plain words.

The check calls the store first and only then records the outcome in a short transaction: a
database transaction is never held open while waiting for Magento.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from connections import diagnosis as dx
from connections.clients import connection_client, connection_secrets
from connections.models import (
    DEFAULT_STORE_CODE,
    DEFAULT_TIMEOUT_SECONDS,
    AuthMethod,
    Connection,
    ConnectionStatus,
)
from connections.validation import StoreTarget
from magento import errors as magento_errors
from magento.store_domain import InvalidStoreDomain, parse_store_domain

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PermissionProbe:
    """One cheap call the automations depend on, and where the permission lives in Magento.

    Reads ask for one row. Writes are sent so that they can never change anything: Magento
    checks the route's ACL resource before it reads the input or looks the record up
    (`InputParamsResolver::resolve` runs `RequestValidator::validate` first,
    app/code/Magento/Webapi/Controller/Rest/InputParamsResolver.php), so the answer is 401
    without the permission and a refused input or "no such record" with it.
    """

    key: str
    label: str
    path: str
    resource: str
    acl_label: str
    method: str = "GET"
    body: dict | None = None
    writes: bool = False
    # A call Magento refuses after the ACL check (no such record, a missing input): that
    # refusal proves the call was allowed.
    refusal_proves_access: bool = False

    @property
    def params(self) -> list[tuple[str, str]] | None:
        """Query parameters: searches ask for a single row, other calls need none."""
        return None if self.refusal_proves_access or self.method != "GET" else PROBE_PARAMS


# The ACL resource of each route is the one declared in Magento 2.4's etc/webapi.xml of
# app/code/Magento/{Customer,Catalog,Sales,Store}; the titles are those of their acl.xml.
PERMISSION_PROBES = (
    PermissionProbe(
        "customers",
        "Read customers",
        "/V1/customers/search",
        "Magento_Customer::customer",
        "Customers",
    ),
    # Updating a customer (PUT /V1/customers/:id) needs Magento_Customer::manage. That route
    # cannot be probed safely (CustomerRepository::save treats id 0 as a new customer), so
    # the probe is GET /V1/customers/:customerId/confirm, guarded by the same resource:
    # AccountManagement::getConfirmationStatus only reads, and customer 0 cannot exist
    # (CustomerRepository::getById answers "No such entity with customerId = 0").
    PermissionProbe(
        "customers_update",
        "Update customers",
        "/V1/customers/0/confirm",
        "Magento_Customer::manage",
        "Customers > All Customers",
        writes=True,
        refusal_proves_access=True,
    ),
    PermissionProbe(
        "products",
        "Read products",
        "/V1/products",
        "Magento_Catalog::products",
        "Catalog > Inventory > Products",
    ),
    # POST /V1/products (ProductRepositoryInterface::save) without its required "product"
    # argument: ServiceInputProcessor::process refuses it ('"product" is required') before
    # the service is called, so nothing can be saved even when the permission is there.
    PermissionProbe(
        "products_save",
        "Save products",
        "/V1/products",
        "Magento_Catalog::products",
        "Catalog > Inventory > Products",
        method="POST",
        body={},
        writes=True,
        refusal_proves_access=True,
    ),
    PermissionProbe(
        "orders",
        "Read orders",
        "/V1/orders",
        "Magento_Sales::actions_view",
        "Sales > Operations > Orders > Actions > View",
    ),
    # POST /V1/order/0/ship: ShipOrder::createShipment first loads the order
    # (app/code/Magento/Sales/Model/ShipOrder.php), and OrderRepository::get refuses id 0
    # ("An ID is needed. Set the ID and try again.") before any shipment is built.
    PermissionProbe(
        "orders_ship",
        "Ship orders",
        "/V1/order/0/ship",
        "Magento_Sales::ship",
        "Sales > Operations > Orders > Actions > Ship",
        method="POST",
        body={},
        writes=True,
        refusal_proves_access=True,
    ),
    PermissionProbe(
        "shipments",
        "Read shipments",
        "/V1/shipment/0",
        "Magento_Sales::shipment",
        "Sales > Operations > Shipments",
        refusal_proves_access=True,
    ),
)
STORE_CONFIG_PROBE = PermissionProbe(
    "store",
    "Read the store settings",
    "/V1/store/storeConfigs",
    "Magento_Backend::store",
    "Stores > Settings > All Stores",
)
ALL_PROBES = (STORE_CONFIG_PROBE, *PERMISSION_PROBES)
PROBE_PARAMS = [("searchCriteria[pageSize]", "1"), ("searchCriteria[currentPage]", "1")]


@dataclass(frozen=True)
class RequiredPermission:
    """One Magento ACL resource and what the portal does with it."""

    resource: str
    acl_label: str
    uses: tuple[str, ...]

    def __str__(self) -> str:
        uses = ", ".join(use[0].lower() + use[1:] for use in self.uses)
        return f"{self.acl_label} ({self.resource}) to {uses}"


def required_permissions(probes=ALL_PROBES) -> list[RequiredPermission]:
    """The ACL resources behind `probes`, each once, in probe order (for guides and messages)."""
    uses: dict[str, list[PermissionProbe]] = {}
    for probe in probes:
        uses.setdefault(probe.resource, []).append(probe)
    return [
        RequiredPermission(resource, group[0].acl_label, tuple(p.label for p in group))
        for resource, group in uses.items()
    ]


OK = "ok"
DENIED = "denied"
NOT_CHECKED = "not_checked"


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
        if error.reason == error.NOT_CONFIGURED:
            return dx.make_diagnosis(dx.TWO_FACTOR_NOT_CONFIGURED, detail=detail)
        if not connection.totp_secret:
            return dx.make_diagnosis(dx.TWO_FACTOR_REQUIRED, detail=detail)
        return dx.make_diagnosis(dx.TWO_FACTOR_CODE_REJECTED, detail=detail)
    if isinstance(error, magento_errors.InvalidCredentialsError):
        failures = connection.consecutive_signin_failures + 1
        if connection.pk and failures >= dx.LOCKOUT_AFTER_FAILURES:
            return dx.make_diagnosis(dx.ADMIN_LOCKED, detail=detail, failures=failures)
        return dx.make_diagnosis(dx.ADMIN_SIGNIN_REJECTED, detail=detail)
    return None


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
            if isinstance(error, magento_errors.TwoFactorUnavailableError):
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
                client.request(probe.method, probe.path, params=probe.params, json=probe.body)
            except magento_errors.AuthenticationError as error:
                failure = _auth_failure(error, connection)
                if failure is not None:
                    return finish(failure)
                permissions[probe.key] = DENIED
                first_refusal = first_refusal or str(error)
            except (magento_errors.NotFoundError, magento_errors.ValidationError) as error:
                if probe.refusal_proves_access and not isinstance(
                    error, magento_errors.RouteNotFoundError
                ):
                    # Magento checks access before the input or the record.
                    permissions[probe.key] = OK
                    continue
                if isinstance(error, magento_errors.ValidationError):
                    return finish(_general_failure(error, host=host, timeout=timeout))
                if len(permissions) > 1:
                    # Other calls under this store code were answered: one route is missing.
                    return finish(
                        dx.make_diagnosis(dx.UNEXPECTED, detail=str(error)),
                        permissions=permissions,
                    )
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

    denied = [p for p in ALL_PROBES if permissions.get(p.key) == DENIED]
    facts = facts or StoreFacts()
    if not denied:
        return finish(dx.make_diagnosis(dx.VERIFIED), store=facts, permissions=permissions)
    if len(denied) == len(ALL_PROBES) and connection.auth_method != AuthMethod.SESSION:
        # Every call refused: the token itself was, so no permission could be checked.
        code = dx.OAUTH_REJECTED if connection.uses_oauth else dx.TOKEN_REJECTED
        return finish(
            dx.make_diagnosis(
                code, detail=f"Every request answered HTTP 401. The first answer: {first_refusal}"
            ),
            permissions=dict.fromkeys(permissions, NOT_CHECKED),
        )
    missing = "; ".join(str(permission) for permission in required_permissions(denied))
    return finish(
        dx.make_diagnosis(
            dx.PERMISSIONS_MISSING,
            detail="HTTP 401 for: " + ", ".join(f"{p.method} {p.path}" for p in denied),
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


def apply_verification(connection: Connection, result: VerificationResult) -> None:
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
        apply_verification(fresh, result)
        if user is not None and getattr(user, "pk", None):
            fresh.updated_by = user
        fresh.save(update_fields=[*VERIFICATION_FIELDS, "updated_by"])
    for name in VERIFICATION_FIELDS:
        setattr(connection, name, getattr(fresh, name))
    logger.info(
        "Connection %s (%s) checked: %s", connection.pk, connection.name, result.diagnosis.code
    )
    return result

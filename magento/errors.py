"""One typed error hierarchy for everything that can go wrong talking to a Magento store.

Reading an answer into one of these errors lives in `magento.responses`. Every error says
whether trying again later can help (`transient`, read through `is_transient`), so the
portal's pollers and action runs decide retries in one place. Every error carries Magento's
message with its `%1` / `%name` placeholders filled in, the HTTP status, the method and the
path (never the query string), and never a credential: not in str(), repr(), args, nor in the
excerpt of a non-JSON body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "AmbiguousMatchError",
    "AuthenticationError",
    "BlockedAddressError",
    "InvalidCredentialsError",
    "InvalidTwoFactorCodeError",
    "MagentoError",
    "MaintenanceError",
    "NameNotFoundError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RedirectedError",
    "RequestTimeoutError",
    "RouteNotFoundError",
    "StoreUnavailableError",
    "TLSError",
    "TransportError",
    "TwoFactorRequiredError",
    "TwoFactorUnavailableError",
    "UnexpectedResponseError",
    "UnknownOutcomeError",
    "ValidationError",
    "is_transient",
    "retry_after",
]


class MagentoError(Exception):
    """Base of every error raised by the Magento client."""

    default_message = "The Magento store returned an error."
    # Whether the same call may succeed if simply tried again later (see is_transient).
    transient = False

    def __init__(
        self,
        message: str | None = None,
        *,
        raw_message: str | None = None,
        parameters: Any = None,
        status: int | None = None,
        method: str | None = None,
        path: str | None = None,
        errors: list[str] | None = None,
        body_excerpt: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.raw_message = raw_message if raw_message is not None else self.message
        self.parameters = parameters
        self.status = status
        self.method = method
        self.path = path
        self.errors = list(errors or [])
        self.body_excerpt = body_excerpt
        # Seconds the store asked us to wait (Retry-After), when it said so.
        self.retry_after = retry_after
        super().__init__(self.message)

    def __str__(self) -> str:
        text = self.message
        if self.errors:
            text = f"{text} ({'; '.join(self.errors)})"
        context = []
        if self.status is not None:
            context.append(f"HTTP {self.status}")
        if self.method and self.path:
            context.append(f"{self.method} {self.path}")
        elif self.path:
            context.append(self.path)
        if context:
            text = f"{text} [{', '.join(context)}]"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __reduce__(self):
        # Keyword-only constructors do not survive pickling by default (task queues pickle).
        return (_rebuild_error, (type(self), self.__dict__.copy()))


def _rebuild_error(cls: type[MagentoError], state: dict) -> MagentoError:
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("message"))
    error.__dict__.update(state)
    return error


_LOCKOUT = "after 6 failed sign-ins Magento locks an admin account for 30 minutes (by default)"
USE_AN_INTEGRATION = (
    "connect with an integration (System > Extensions > Integrations), the way meant for "
    "unattended use."
)


class AuthenticationError(MagentoError):
    """401: the store did not accept the credentials for this call."""

    default_message = (
        "The store did not accept the credentials for this call: the token may be wrong, "
        "expired or revoked, the integration or admin role may lack access to this resource, "
        "or (for an integration access token used as a Bearer token) the store setting 'Allow "
        "OAuth Access Tokens to be used as standalone Bearer tokens' may be off."
    )

    @property
    def resources(self) -> str | None:
        """The ACL resource(s) Magento named in the 401, e.g. "Magento_Customer::customer"."""
        if isinstance(self.parameters, Mapping):
            value = self.parameters.get("resources")
            return None if value is None else str(value)
        return None


class InvalidCredentialsError(AuthenticationError):
    """The admin user name or password is wrong, or the account is locked for a while."""

    default_message = (
        "Either the admin user name or password is wrong, or the account is locked: "
        f"{_LOCKOUT}. The portal never retries a sign-in, so it does not add to a lockout."
    )


class InvalidTwoFactorCodeError(InvalidCredentialsError):
    """The store refused the one-time code made from the TOTP secret."""

    default_message = (
        "The store refused the two-factor code (Invalid code.). Check the authenticator "
        "(TOTP) secret saved for this connection and that this server's clock is correct."
    )


class SignInWithheldError(InvalidCredentialsError):
    """No sign-in was attempted: the token cache remembers that the store refused this one."""

    default_message = (
        f"The store refused this admin sign-in before, so no new attempt was made: {_LOCKOUT}, "
        "and attempts made unattended would walk into that lockout. Correct the password, or "
        "check the sign-in again explicitly."
    )


class TwoFactorRequiredError(AuthenticationError):
    """Two-factor authentication blocks an admin token without a one-time code.

    `reason` says which refusal it was: CODE_NEEDED (the plain admin-token route is closed to
    2FA accounts: use the provider's route with a code) or NOT_CONFIGURED (the admin user has
    not set up a provider, or the provider is not allowed: no code can help).
    """

    CODE_NEEDED = "code_needed"
    NOT_CONFIGURED = "not_configured"

    default_message = (
        "This admin account uses two-factor authentication, so the store will not issue a "
        "token from a user name and password alone. Give the account's Google Authenticator "
        f"(TOTP) secret as well, or better, {USE_AN_INTEGRATION}"
    )

    def __init__(self, message: str | None = None, *, reason: str = CODE_NEEDED, **kw) -> None:
        super().__init__(message, **kw)
        self.reason = reason

    @property
    def providers(self) -> list[str]:
        """The 2FA providers Magento named as active for the account (e.g. ["google"])."""
        if isinstance(self.parameters, Mapping):
            value = self.parameters.get("active_providers") or []
            return [str(item) for item in value] if isinstance(value, list) else [str(value)]
        return []


class PermissionDeniedError(MagentoError):
    """403: the store understood the credentials but does not allow this call."""

    default_message = "The store does not allow this call (permission denied)."


class NotFoundError(MagentoError):
    """404: the customer, product, order or shipment does not exist."""

    default_message = "The store has no such record."


class RouteNotFoundError(NotFoundError):
    """404 "Request does not match any route.": the REST endpoint does not exist on this store."""


class TwoFactorUnavailableError(RouteNotFoundError):
    """The two-factor sign-in route does not exist: the store runs without Magento's 2FA module,
    so a one-time code cannot be used (sign in with user name and password alone)."""


class ValidationError(MagentoError):
    """400: the store rejected the data sent."""


class RateLimitedError(MagentoError):
    """429: the store (or a proxy in front of it) asks us to slow down."""

    default_message = "The store asked the portal to slow down (Too Many Requests)."
    transient = True


class StoreUnavailableError(MagentoError):
    """500/502/503/504: the store or a proxy in front of it failed to answer properly."""

    default_message = "The store is not available right now."
    transient = True


class MaintenanceError(StoreUnavailableError):
    """503 with Magento's maintenance page: the store is in maintenance mode."""

    default_message = (
        "The store is in maintenance mode (Error 503: Service Unavailable). Try again once "
        "the maintenance is over."
    )


class TransportError(MagentoError):
    """The connection failed: name lookup, refused, reset or dropped."""

    default_message = "Could not reach the store."
    # A refused or dropped connection, or a name that did not resolve, can be a passing fault.
    transient = True


class RequestTimeoutError(TransportError):
    """The store did not answer within the time allowed."""

    default_message = "The store did not answer in time."


class TLSError(TransportError):
    """The HTTPS connection could not be made secure (certificate or TLS handshake problem)."""

    default_message = "The store's HTTPS certificate could not be verified."
    transient = False  # the certificate will not fix itself between two tries


class BlockedAddressError(TransportError):
    """Outbound safety refused to connect to a private, loopback or otherwise internal address."""

    default_message = "The store address points to an internal network address."
    transient = False  # refused by the portal itself, every time


class NameNotFoundError(TransportError):
    """The store's host name could not be resolved (DNS lookup failed)."""

    default_message = "The store address could not be found (DNS lookup failed)."


class UnexpectedResponseError(MagentoError):
    """The answer was not what Magento's REST API sends: HTML, malformed JSON, redirect, shape."""

    default_message = "The store sent an answer the portal did not expect."
    # Broken JSON or an error page in place of an answer usually comes from a proxy's bad moment.
    transient = True


class RedirectedError(UnexpectedResponseError):
    """A 3xx answer: the portal never follows redirects (the store lives at another address)."""

    transient = False

    def __init__(self, message: str | None = None, *, location: str = "", **kw) -> None:
        super().__init__(message, **kw)
        # Where it pointed, without query, fragment or user info ("" when it named nowhere).
        self.location = location


_MAY_OR_MAY_NOT_HAVE_BEEN_DONE = (
    "so the store may or may not have carried it out. Check the store before trying again."
)


class UnknownOutcomeError(MagentoError):
    """A request that is not safe to repeat may have reached the store; check before retrying."""

    default_message = (
        f"The connection failed after the request was sent, {_MAY_OR_MAY_NOT_HAVE_BEEN_DONE}"
    )

    @classmethod
    def because(cls, what_happened: str, **context: Any) -> UnknownOutcomeError:
        """The error for `what_happened` (one clause, no full stop) and what to do about it."""
        return cls(f"{what_happened}, {_MAY_OR_MAY_NOT_HAVE_BEEN_DONE}", **context)


class AmbiguousMatchError(MagentoError):
    """Several records match where exactly one was expected (e.g. customers with one e-mail)."""


def is_transient(error: BaseException) -> bool:
    """True when the same call may succeed if tried again later: the one place that says so.

    Rate limits, an unavailable store (5xx, maintenance), timeouts, dropped connections and
    garbled answers are transient. A refused token or password, missing permissions, bad input,
    a missing record, a redirect, a TLS failure and a blocked address are not: repeating them
    only repeats the failure (and a refused password walks into Magento's lockout). An
    UnknownOutcomeError is not transient either: whether the write happened must be checked
    before anything is sent again. Anything that is not a MagentoError is a bug, not a fault
    of the store, and is not retried.
    """
    return isinstance(error, MagentoError) and type(error).transient


def retry_after(error: BaseException) -> float | None:
    """Seconds the store asked the portal to wait before trying again, or None."""
    value = getattr(error, "retry_after", None) if isinstance(error, MagentoError) else None
    return value if isinstance(value, int | float) and value >= 0 else None

"""One typed error hierarchy for everything that can go wrong talking to a Magento store.

Every error carries Magento's message with its `%1` / `%name` placeholders filled in, the HTTP
status, the method and the path (never the query string), and never a credential: not in
str(), repr(), args, nor in the excerpt of a non-JSON body.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import html
import json
import re
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
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RequestTimeoutError",
    "RouteNotFoundError",
    "StoreUnavailableError",
    "TLSError",
    "TransportError",
    "TwoFactorRequiredError",
    "UnexpectedResponseError",
    "UnknownOutcomeError",
    "ValidationError",
    "error_from_response",
    "parse_retry_after",
    "render_message",
]

EXCERPT_LENGTH = 200

# Magento's own texts (Magento_Integration and Magento_TwoFactorAuth), matched to pick a class.
SIGN_IN_INCORRECT = "The account sign-in was incorrect or your account is disabled temporarily"
OLD_SIGN_IN_INCORRECT = "You did not sign in correctly or your account is temporarily disabled"
TFA_PROVIDER_ENDPOINTS = "Please use the 2fa provider-specific endpoints to obtain a token."
TFA_CONFIGURE_FIRST = "configure 2FA first"
TFA_CONFIGURE_PERSONAL = "required to configure personal Two-Factor Authorization"
# The Google provider's sign-in route, for an admin who has not set it up or may not use it.
TFA_PROVIDER_NOT_CONFIGURED = "Provider is not configured."
TFA_PROVIDER_NOT_ALLOWED = "Provider is not allowed."
ROUTE_NOT_FOUND = "Request does not match any route."
MAINTENANCE_TITLE = "Error 503: Service Unavailable"

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


class MagentoError(Exception):
    """Base of every error raised by the Magento client."""

    default_message = "The Magento store returned an error."

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
    ) -> None:
        self.message = message or self.default_message
        self.raw_message = raw_message if raw_message is not None else self.message
        self.parameters = parameters
        self.status = status
        self.method = method
        self.path = path
        self.errors = list(errors or [])
        self.body_excerpt = body_excerpt
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
_USE_AN_INTEGRATION = (
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
    """Two-factor authentication blocks an admin token without a one-time code."""

    default_message = (
        "This admin account uses two-factor authentication, so the store will not issue a "
        "token from a user name and password alone. Give the account's Google Authenticator "
        f"(TOTP) secret as well, or better, {_USE_AN_INTEGRATION}"
    )

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


class ValidationError(MagentoError):
    """400: the store rejected the data sent."""


class RateLimitedError(MagentoError):
    """429: the store (or a proxy in front of it) asks us to slow down."""

    default_message = "The store asked the portal to slow down (Too Many Requests)."

    def __init__(self, message: str | None = None, *, retry_after: float | None = None, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class StoreUnavailableError(MagentoError):
    """500/502/503/504: the store or a proxy in front of it failed to answer properly."""

    default_message = "The store is not available right now."


class MaintenanceError(StoreUnavailableError):
    """503 with Magento's maintenance page: the store is in maintenance mode."""

    default_message = (
        "The store is in maintenance mode (Error 503: Service Unavailable). Try again once "
        "the maintenance is over."
    )


class TransportError(MagentoError):
    """The connection failed: name lookup, refused, reset or dropped."""

    default_message = "Could not reach the store."


class RequestTimeoutError(TransportError):
    """The store did not answer within the time allowed."""

    default_message = "The store did not answer in time."


class TLSError(TransportError):
    """The HTTPS connection could not be made secure (certificate or TLS handshake problem)."""

    default_message = "The store's HTTPS certificate could not be verified."


class BlockedAddressError(TransportError):
    """Outbound safety refused to connect to a private, loopback or otherwise internal address."""

    default_message = "The store address points to an internal network address."


class UnexpectedResponseError(MagentoError):
    """The answer was not what Magento's REST API sends: HTML, malformed JSON, redirect, shape."""

    default_message = "The store sent an answer the portal did not expect."


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


def render_message(message: str, parameters: Any) -> str:
    """Fill Magento's placeholders: `%1`, `%2` from a parameters list, `%name` from an object."""
    if not isinstance(message, str):
        return "" if message is None else str(message)
    if isinstance(parameters, Mapping):
        replacements = {f"%{key}": _display_value(value) for key, value in parameters.items()}
    elif isinstance(parameters, list | tuple):
        replacements = {f"%{index}": _display_value(v) for index, v in enumerate(parameters, 1)}
    else:
        return message
    if not replacements:
        return message
    # Longest placeholder first so "%10" wins over "%1" and "%fieldName" over "%field".
    pattern = re.compile(
        "|".join(re.escape(p) for p in sorted(replacements, key=len, reverse=True))
    )
    return pattern.sub(lambda match: replacements[match.group(0)], message)


def _display_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(_display_value(item) for item in value)
    if isinstance(value, Mapping):
        return json.dumps(value, sort_keys=True)
    return str(value)


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    # isdigit() alone also accepts digits such as "²" that float() refuses.
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        # HTTP dates are always GMT; the asctime form ("Sun Nov  6 08:49:37 1994") just omits it.
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - now)


def html_title(text: str) -> str | None:
    """The <title> of an HTML page, whitespace-collapsed, or None."""
    match = _TITLE.search(text)
    if not match:
        return None
    title = _SPACES.sub(" ", html.unescape(_TAG.sub("", match.group(1)))).strip()
    return title[:120] or None


def body_excerpt(text: str) -> str:
    """A short, single-line excerpt of a non-JSON body for error messages and logs."""
    title = html_title(text)
    if title:
        return title
    plain = _SPACES.sub(" ", html.unescape(_TAG.sub(" ", text))).strip()
    if len(plain) > EXCERPT_LENGTH:
        return plain[: EXCERPT_LENGTH - 1] + "…"
    return plain


def _looks_like_html(text: str, content_type: str) -> bool:
    return "html" in content_type.lower() or text.lstrip().startswith("<")


def error_from_unreadable_body(
    status: int, body: bytes, *, content_type: str = "", method: str | None, path: str | None
) -> UnexpectedResponseError:
    """Build the error for a 2xx answer whose body is empty or not JSON."""
    context = {"status": status, "method": method, "path": path}
    if not body.strip():
        return UnexpectedResponseError(
            f"The store answered HTTP {status} with an empty body where Magento sends JSON.",
            **context,
        )
    text = body.decode("utf-8", errors="replace")
    kind = "an HTML page" if _looks_like_html(text, content_type) else "malformed JSON"
    return _expected_json_error(
        status,
        kind,
        body_excerpt(text),
        " Check the Store Domain and that nothing (a login page, a proxy, a maintenance page) "
        "stands in front of the REST API.",
        context,
    )


def _status_shown(status: int, excerpt: str | None) -> str:
    """The status with the page's excerpt; a page titled "404 Not Found" is not said twice."""
    if excerpt and excerpt.startswith(str(status)):
        return f"(HTTP {excerpt})"
    return f"(HTTP {status}) ({excerpt})" if excerpt else f"(HTTP {status})"


def _expected_json_error(
    status: int, kind: str, excerpt: str | None, hint: str, context: dict
) -> UnexpectedResponseError:
    return UnexpectedResponseError(
        "Expected a JSON answer from Magento's REST API but got "
        f"{kind} {_status_shown(status, excerpt)}.{hint}",
        body_excerpt=excerpt,
        **context,
    )


def error_from_response(
    status: int,
    body: bytes,
    *,
    content_type: str = "",
    method: str | None = None,
    path: str | None = None,
    retry_after: float | None = None,
) -> MagentoError:
    """Build (not raise) the error for a non-2xx answer, from Magento's JSON or whatever came."""
    context = {"status": status, "method": method, "path": path}
    text = body.decode("utf-8", errors="replace") if body else ""
    if not text.strip():
        return _error_without_json(status, "", "an empty answer", context, retry_after)
    try:
        document = json.loads(text)
    except ValueError:
        kind = "an HTML page" if _looks_like_html(text, content_type) else "a non-JSON answer"
        return _error_without_json(status, text, kind, context, retry_after)
    if not isinstance(document, dict) or not isinstance(document.get("message"), str):
        return UnexpectedResponseError(
            f"The store answered HTTP {status} with JSON that is not a Magento error.",
            body_excerpt=body_excerpt(text),
            **context,
        )

    raw_message = document["message"]
    parameters = document.get("parameters")
    message = render_message(raw_message, parameters)
    sub_errors = [
        render_message(item.get("message"), item.get("parameters"))
        for item in document.get("errors") or []
        if isinstance(item, dict) and isinstance(item.get("message"), str)
    ]
    fields = {"raw_message": raw_message, "parameters": parameters, "errors": sub_errors}
    fields.update(context)
    error_class = _class_for(status, raw_message)
    if error_class is TwoFactorRequiredError and is_provider_refusal(raw_message):
        message = f"{message} {_provider_refused_explanation}"
    elif issubclass(error_class, AuthenticationError):
        # Magento's own text says little; the class's explanation says what to check.
        message = f"{message} {error_class.default_message}"
    if error_class is RateLimitedError:
        return RateLimitedError(message, retry_after=retry_after, **fields)
    return error_class(message, **fields)


def _class_for(status: int, raw_message: str) -> type[MagentoError]:
    if is_two_factor_message(raw_message) and status in (400, 401):
        return TwoFactorRequiredError
    if status == 401:
        if raw_message.startswith((SIGN_IN_INCORRECT, OLD_SIGN_IN_INCORRECT)):
            return InvalidCredentialsError
        return AuthenticationError
    if status == 400:
        return ValidationError
    if status == 403:
        return PermissionDeniedError
    if status == 404:
        return RouteNotFoundError if raw_message.strip() == ROUTE_NOT_FOUND else NotFoundError
    if status == 429:
        return RateLimitedError
    if status >= 500:
        return StoreUnavailableError
    return MagentoError


def is_two_factor_message(raw_message: str) -> bool:
    """True for the answers Magento_TwoFactorAuth gives instead of an admin token: the three of
    the plain admin token route, and the provider refusals of a provider's own route."""
    return (
        raw_message.strip() == TFA_PROVIDER_ENDPOINTS
        or TFA_CONFIGURE_FIRST in raw_message
        or TFA_CONFIGURE_PERSONAL in raw_message
        or is_provider_refusal(raw_message)
    )


def is_provider_refusal(raw_message: str) -> bool:
    """True when the 2FA provider route refuses before the code: not set up, or not allowed."""
    return raw_message.strip() in (TFA_PROVIDER_NOT_CONFIGURED, TFA_PROVIDER_NOT_ALLOWED)


_provider_refused_explanation = (
    "The store did not look at the two-factor code: this admin user has not set up Google "
    "Authenticator yet, or the store does not allow it as a 2FA provider. Sign in to the "
    f"Magento admin once as this user and set it up, or {_USE_AN_INTEGRATION}"
)


def _error_without_json(
    status: int, text: str, kind: str, context: dict, retry_after: float | None
) -> MagentoError:
    excerpt = body_excerpt(text) if text else None
    answer = _status_shown(status, excerpt)
    if status == 429:
        return RateLimitedError(
            f"The store or a proxy in front of it asked to slow down {answer}.",
            retry_after=retry_after,
            body_excerpt=excerpt,
            **context,
        )
    if status == 503 and excerpt and MAINTENANCE_TITLE.lower() in excerpt.lower():
        return MaintenanceError(body_excerpt=excerpt, **context)
    if status >= 500:
        return StoreUnavailableError(
            f"The store is not available: it answered with {kind} {answer}.",
            body_excerpt=excerpt,
            **context,
        )
    hint = ""
    if status in (401, 403):
        hint = (
            " A web server, proxy or firewall in front of Magento refused the request before "
            "it reached Magento."
        )
    elif status == 404 and "%2f" in (context.get("path") or "").lower():
        hint = (
            " The web server in front of Magento refused an encoded '/' (%2F) in the address; "
            "Apache needs 'AllowEncodedSlashes NoDecode' for such SKUs."
        )
    elif status == 404:
        hint = " Check the Store Domain: no Magento REST API answered at this address."
    return _expected_json_error(status, kind, excerpt, hint, context)

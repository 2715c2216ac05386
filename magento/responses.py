"""Reading a store's non-2xx (or unusable) answer into the typed error it stands for.

Magento's own texts are matched here, and only here: the rest of the portal branches on the
error classes and their typed attributes (`TwoFactorRequiredError.reason`, ...), never on words.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import html
import json
import re
from collections.abc import Mapping
from typing import Any

from .errors import (
    USE_AN_INTEGRATION,
    AuthenticationError,
    InvalidCredentialsError,
    MagentoError,
    MaintenanceError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RouteNotFoundError,
    StoreUnavailableError,
    TwoFactorRequiredError,
    UnexpectedResponseError,
    ValidationError,
)

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
    fields = {
        "raw_message": raw_message,
        "parameters": parameters,
        "errors": sub_errors,
        "retry_after": retry_after,
    }
    fields.update(context)
    error_class = _class_for(status, raw_message)
    if error_class is TwoFactorRequiredError:
        if is_provider_refusal(raw_message):
            message = f"{message} {_provider_refused_explanation}"
        else:
            message = f"{message} {error_class.default_message}"
        reason = (
            TwoFactorRequiredError.CODE_NEEDED
            if raw_message.strip() == TFA_PROVIDER_ENDPOINTS
            else TwoFactorRequiredError.NOT_CONFIGURED
        )
        return TwoFactorRequiredError(message, reason=reason, **fields)
    if issubclass(error_class, AuthenticationError):
        # Magento's own text says little; the class's explanation says what to check.
        message = f"{message} {error_class.default_message}"
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
    f"Magento admin once as this user and set it up, or {USE_AN_INTEGRATION}"
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
        return MaintenanceError(body_excerpt=excerpt, retry_after=retry_after, **context)
    if status >= 500:
        return StoreUnavailableError(
            f"The store is not available: it answered with {kind} {answer}.",
            body_excerpt=excerpt,
            retry_after=retry_after,
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

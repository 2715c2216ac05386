"""How the client proves who it is to a Magento store: three strategies behind one interface.

* `IntegrationTokenAuth`: an integration's access token sent as `Authorization: Bearer`
  (works only if the store allows integration tokens as bearer tokens, off by default since 2.4.4).
* `OAuth1Auth`: the integration's four keys, each request signed with OAuth 1.0a HMAC-SHA256;
  works on every store. Magento orders the signed parameters in PHP's natural order
  (`strnatcmp`), not byte order, so the base string is built here the way Magento builds it and
  only the signing primitives come from oauthlib. Magento versions disagree on how an escaped
  "/", "+", "&" or "," in the path is signed (see `signed_path`): the RFC 5849 way is tried
  first, the other once after Magento's "The signature is invalid", and the way that worked is
  remembered (`OAuth1Auth.path_signing`).
* `AdminSessionAuth`: an admin user name and password exchanged for a 4-hour admin token, with an
  optional TOTP secret for accounts protected by two-factor authentication.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import logging
import re
import string
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from oauthlib import common as oauth_common
from oauthlib import oauth1
from oauthlib.oauth1.rfc5849 import signature as oauth_signature
from oauthlib.oauth1.rfc5849 import utils as oauth_utils

from .errors import (
    AuthenticationError,
    InvalidCredentialsError,
    InvalidTwoFactorCodeError,
    MagentoError,
    RouteNotFoundError,
    SignInWithheldError,
    TwoFactorRequiredError,
    TwoFactorUnavailableError,
    UnexpectedResponseError,
)
from .responses import ROUTE_NOT_FOUND
from .totp import TOTP, normalise_secret, secret_key

if TYPE_CHECKING:
    import requests

    from .client import MagentoClient

__all__ = [
    "PATH_SIGNINGS",
    "PATH_SIGNING_DECODED",
    "PATH_SIGNING_RFC5849",
    "AdminSessionAuth",
    "InMemoryTokenCache",
    "IntegrationTokenAuth",
    "MagentoAuth",
    "OAuth1Auth",
    "RefusalMemory",
    "TokenCache",
    "natural_compare",
    "oauth_base_string",
    "oauth_parameter_string",
    "signed_path",
]

logger = logging.getLogger("magento.auth")

ADMIN_TOKEN_PATH = "/V1/integration/admin/token"
GOOGLE_AUTHENTICATE_PATH = "/V1/tfa/provider/google/authenticate"
DEFAULT_ADMIN_TOKEN_LIFETIME = 4 * 3600
# Renew this long before Magento would expire the token, so a call never races the expiry.
TOKEN_SAFETY_MARGIN = 300


class MagentoAuth:
    """Base class: adds credentials to each request; may renew them once after a 401."""

    def headers_for(self, method: str, url: str, client: MagentoClient) -> dict[str, str]:
        """Headers that authenticate one request to `url` (called again for every attempt)."""
        raise NotImplementedError

    def renew_after_unauthorized(
        self, client: MagentoClient, used: dict[str, str], response: requests.Response
    ) -> bool:
        """After a 401: renew the credentials if that can help; True means repeat the call once."""
        return False

    def answered(self, used: dict[str, str], response: requests.Response | None) -> None:
        """The last answer to one call (None: no answer came), for auth that learns from it."""

    def secrets(self) -> tuple[str, ...]:
        """Credential strings that must never appear in a message or log (used for scrubbing)."""
        return ()


def _require_text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} is required.")
    value = value.strip()
    # Header values with line breaks could smuggle headers into the request.
    if any(ch in value for ch in "\r\n\x00"):
        raise ValueError(f"{name} must not contain line breaks.")
    return value


class IntegrationTokenAuth(MagentoAuth):
    """An integration access token sent as `Authorization: Bearer <token>`."""

    def __init__(self, access_token: str) -> None:
        self._access_token = _require_text("The access token", access_token)

    def headers_for(self, method: str, url: str, client: MagentoClient) -> dict[str, str]:
        """Bearer header; the token never expires, so a 401 is final."""
        return {"Authorization": f"Bearer {self._access_token}"}

    def secrets(self) -> tuple[str, ...]:
        return (self._access_token,)

    def __repr__(self) -> str:
        return "IntegrationTokenAuth(access_token=<hidden>)"


def natural_compare(left: str, right: str) -> int:
    """Compare like PHP's strnatcmp: digit runs by value, everything else byte by byte.

    Magento sorts the OAuth signature parameters with it, so `[10]` comes after `[2]`.
    """
    left_bytes, right_bytes = left.encode("utf-8"), right.encode("utf-8")
    i = j = 0
    left_end, right_end = len(left_bytes), len(right_bytes)
    if not left_end or not right_end:
        return (left_end > right_end) - (left_end < right_end)
    # PHP skips leading zeros at the very start of each string (not before later numbers).
    while i + 1 < left_end and left_bytes[i] == 0x30 and _is_digit(left_bytes[i + 1]):
        i += 1
    while j + 1 < right_end and right_bytes[j] == 0x30 and _is_digit(right_bytes[j + 1]):
        j += 1
    while True:
        while i < left_end and _is_space(left_bytes[i]):
            i += 1
        while j < right_end and _is_space(right_bytes[j]):
            j += 1
        a = left_bytes[i] if i < left_end else 0
        b = right_bytes[j] if j < right_end else 0
        if _is_digit(a) and _is_digit(b):
            if a == 0x30 or b == 0x30:
                result, i, j = _compare_fraction(left_bytes, i, right_bytes, j)
            else:
                result, i, j = _compare_number(left_bytes, i, right_bytes, j)
            if result:
                return result
            if i >= left_end and j >= right_end:
                return 0
            if i >= left_end:
                return -1
            if j >= right_end:
                return 1
            a, b = left_bytes[i], right_bytes[j]
        if a != b:
            return -1 if a < b else 1
        i += 1
        j += 1
        if i >= left_end and j >= right_end:
            return 0
        if i >= left_end:
            return -1
        if j >= right_end:
            return 1


def _is_digit(byte: int) -> bool:
    return 0x30 <= byte <= 0x39


def _is_space(byte: int) -> bool:
    return byte in b" \t\n\v\f\r"


def _digit_at(data: bytes, index: int) -> bool:
    return index < len(data) and _is_digit(data[index])


def _compare_number(a: bytes, i: int, b: bytes, j: int) -> tuple[int, int, int]:
    # Right-aligned: the longer run of digits is larger; otherwise the first difference decides.
    bias = 0
    while True:
        a_digit, b_digit = _digit_at(a, i), _digit_at(b, j)
        if not a_digit and not b_digit:
            return bias, i, j
        if not a_digit:
            return -1, i, j
        if not b_digit:
            return 1, i, j
        if not bias and a[i] != b[j]:
            bias = -1 if a[i] < b[j] else 1
        i += 1
        j += 1


def _compare_fraction(a: bytes, i: int, b: bytes, j: int) -> tuple[int, int, int]:
    # Left-aligned (a run starting with 0): the first differing digit decides.
    while True:
        a_digit, b_digit = _digit_at(a, i), _digit_at(b, j)
        if not a_digit and not b_digit:
            return 0, i, j
        if not a_digit:
            return -1, i, j
        if not b_digit:
            return 1, i, j
        if a[i] != b[j]:
            return (-1 if a[i] < b[j] else 1), i, j
        i += 1
        j += 1


# How a path is signed. Magento normalises the URL before it checks a signature: escapes of the
# characters in the set below are decoded, other escapes upper-cased, and only characters that
# may not stand bare in a path are escaped again (Laminas' Uri::normalizePath).
PATH_SIGNING_RFC5849 = "rfc5849"
PATH_SIGNING_DECODED = "decoded"
PATH_SIGNINGS = (PATH_SIGNING_RFC5849, PATH_SIGNING_DECODED)
_UNRESERVED = string.ascii_letters + string.digits + "_-.~"
_PATH_DECODED = {
    # 2.4.8+ (lib/internal/Magento/Framework/Oauth/Helper/Uri/Http.php, used by
    # Helper/Signature/Hmac.php): only unreserved characters, as RFC 5849 (3.4.1.2) signs a path.
    PATH_SIGNING_RFC5849: frozenset(_UNRESERVED),
    # 2.4.6/2.4.7 (Laminas\OAuth\Signature\AbstractSignature -> Laminas\Uri\Uri::normalizePath):
    # also these reserved characters, so "%2F" is signed as "/" (magento/magento2#37278, #37913).
    PATH_SIGNING_DECODED: frozenset(_UNRESERVED + ":@&=+$,/;%"),
}
_PATH_ESCAPED_AGAIN = re.compile(r"[^A-Za-z0-9_\-.~()\:@&=+$,/;%]+|%(?![0-9A-Fa-f]{2})")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
# Magento's Helper\Request::_isProtocolParameter (a search anywhere in the name, not a prefix).
_PROTOCOL_PARAMETER = re.compile(r"oauth_[a-z_-]+")
# Magento's answer when the signature it computes differs from the one sent.
SIGNATURE_INVALID = "The signature is invalid. Verify and try again."


def signed_path(path: str, signing: str = PATH_SIGNING_RFC5849) -> str:
    """The request path as Magento signs it, e.g. a%2Fb stays a%2Fb (RFC 5849, Magento 2.4.8+)
    or becomes a/b (PATH_SIGNING_DECODED, Magento 2.4.6 and 2.4.7)."""
    decodable = _PATH_DECODED[signing]

    def decode(match: re.Match) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in decodable else match.group(0).upper()

    decoded = _ESCAPE.sub(decode, path)
    return _PATH_ESCAPED_AGAIN.sub(lambda match: quote(match.group(0), safe=""), decoded)


def _signed_url(url: str, signing: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, signed_path(parts.path, signing), "", ""))


def _query_pairs(url: str) -> list[tuple[str, str]]:
    # Split the way Magento's OAuth helper does: on "&", then "=", decoding each side. Magento
    # keeps the parameters in a PHP array keyed by name, so a repeated name counts once, with
    # its last value.
    pairs: dict[str, str] = {}
    for chunk in urlsplit(url).query.split("&"):
        parts = chunk.split("=")
        if len(parts) == 2 and not _PROTOCOL_PARAMETER.search(parts[0]):
            pairs[unquote(parts[0])] = unquote(parts[1])
    return list(pairs.items())


def oauth_parameter_string(params: list[tuple[str, str]]) -> str:
    """The normalised parameter string in Magento's order: encoded names in natural order."""
    encoded = [(oauth_utils.escape(name), oauth_utils.escape(value)) for name, value in params]
    encoded.sort(key=functools.cmp_to_key(lambda x, y: natural_compare(x[0], y[0])))
    return "&".join(f"{name}={value}" for name, value in encoded)


def oauth_base_string(
    method: str,
    url: str,
    oauth_params: list[tuple[str, str]],
    *,
    path_signing: str = PATH_SIGNING_RFC5849,
) -> str:
    """The signature base string Magento computes for `method url` with these oauth_* params."""
    params = [*oauth_params, *_query_pairs(url)]
    return oauth_signature.signature_base_string(
        method.upper(),
        oauth_signature.base_string_uri(_signed_url(url, path_signing)),
        oauth_parameter_string(params),
    )


def _path_signings_differ(url: str) -> bool:
    """True when the two ways of signing give different paths (an escaped "/", "+", "&", ...)."""
    path = urlsplit(url).path
    return signed_path(path, PATH_SIGNING_RFC5849) != signed_path(path, PATH_SIGNING_DECODED)


def _other_signing(signing: str) -> str:
    return PATH_SIGNING_DECODED if signing == PATH_SIGNING_RFC5849 else PATH_SIGNING_RFC5849


def _signature_accepted(response: requests.Response) -> bool:
    """Whether the answer shows that Magento checked the signature and accepted it.

    Magento matches the route before it checks the caller, and 5xx answers may come from in
    front of Magento, so only an answer from past the check counts.
    """
    status = response.status_code
    if status == 401 or status >= 500:
        return False
    return not (status == 404 and _magento_message(response) == ROUTE_NOT_FOUND)


def _magento_message(response: requests.Response) -> str | None:
    try:
        document = json.loads(response.content)
    except ValueError:
        return None
    return document.get("message") if isinstance(document, dict) else None


class OAuth1Auth(MagentoAuth):
    """An integration's consumer key/secret and access token/secret, signed with HMAC-SHA256.

    `path_signing` is how this store signs an escaped reserved character in the path (a SKU
    such as "tee/red"): PATH_SIGNING_RFC5849 (Magento 2.4.8+), PATH_SIGNING_DECODED (2.4.6 and
    2.4.7), or None while unknown (then the RFC 5849 way is tried first). When such a request
    is refused with Magento's "The signature is invalid", it is signed once more the other way;
    the way the store accepted is kept in `path_signing` and passed to `on_signing_learned`,
    so a caller can store it with the connection and pass it back next time. Requests whose
    path signs alike both ways are never signed twice.
    """

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        access_token: str,
        access_token_secret: str,
        *,
        path_signing: str | None = None,
        on_signing_learned: Callable[[str], None] | None = None,
    ) -> None:
        self._consumer_key = _require_text("The consumer key", consumer_key)
        self._consumer_secret = _require_text("The consumer secret", consumer_secret)
        self._access_token = _require_text("The access token", access_token)
        self._access_token_secret = _require_text("The access token secret", access_token_secret)
        if path_signing is not None and path_signing not in PATH_SIGNINGS:
            raise ValueError(f"path_signing must be one of {', '.join(PATH_SIGNINGS)} or None.")
        self.path_signing = path_signing
        self.on_signing_learned = on_signing_learned
        # oauthlib's client only holds the secrets for its HMAC primitive; ordering is ours.
        self._signer = oauth1.Client(
            self._consumer_key,
            client_secret=self._consumer_secret,
            resource_owner_key=self._access_token,
            resource_owner_secret=self._access_token_secret,
            signature_method=oauth1.SIGNATURE_HMAC_SHA256,
        )
        # One call (its attempts, a second signing, its answer) runs on one thread.
        self._this_call = threading.local()

    def headers_for(self, method: str, url: str, client: MagentoClient) -> dict[str, str]:
        """A freshly signed `Authorization: OAuth ...` header (new nonce every attempt)."""
        signing = getattr(self._this_call, "second_signing", None)
        if signing is None:
            signing = self.path_signing or PATH_SIGNING_RFC5849
        oauth_params = [
            ("oauth_consumer_key", self._consumer_key),
            ("oauth_nonce", oauth_common.generate_nonce()),
            ("oauth_signature_method", "HMAC-SHA256"),
            ("oauth_timestamp", oauth_common.generate_timestamp()),
            ("oauth_token", self._access_token),
            ("oauth_version", "1.0"),
        ]
        base_string = oauth_base_string(method, url, oauth_params, path_signing=signing)
        signed = oauth_signature.sign_hmac_sha256_with_client(base_string, self._signer)
        oauth_params.append(("oauth_signature", signed))
        header = ", ".join(
            f'{oauth_utils.escape(name)}="{oauth_utils.escape(value)}"'
            for name, value in oauth_params
        )
        self._this_call.signed = (f"OAuth {header}", url, signing)
        return {"Authorization": f"OAuth {header}"}

    def renew_after_unauthorized(
        self, client: MagentoClient, used: dict[str, str], response: requests.Response
    ) -> bool:
        """Refused signature over a path the two ways sign differently: sign it the other way."""
        signed = getattr(self._this_call, "signed", None)
        if (
            signed is None
            or signed[0] != used.get("Authorization")
            or getattr(self._this_call, "second_signing", None) is not None
            or not _path_signings_differ(signed[1])
            or _magento_message(response) != SIGNATURE_INVALID
        ):
            return False
        self._this_call.second_signing = _other_signing(signed[2])
        logger.debug(
            "The store refused the %s signature of a path with escaped characters; "
            "signing it the %s way once more.",
            signed[2],
            self._this_call.second_signing,
        )
        return True

    def answered(self, used: dict[str, str], response: requests.Response | None) -> None:
        """Remember the way of signing the store accepted for a path with escaped characters."""
        signed = getattr(self._this_call, "signed", None)
        self._this_call.signed = self._this_call.second_signing = None
        if (
            signed is None
            or response is None
            or signed[0] != used.get("Authorization")
            or not _path_signings_differ(signed[1])
            or not _signature_accepted(response)
        ):
            return
        accepted = signed[2]
        if accepted == self.path_signing:
            return
        self.path_signing = accepted
        logger.info(
            "The store accepts paths signed the %s way; signing them so from now on.", accepted
        )
        if self.on_signing_learned is not None:
            self.on_signing_learned(accepted)

    def secrets(self) -> tuple[str, ...]:
        return (self._consumer_secret, self._access_token, self._access_token_secret)

    def __repr__(self) -> str:
        return "OAuth1Auth(consumer_key=<hidden>, access_token=<hidden>)"


class TokenCache(Protocol):
    """Where admin tokens are kept; the portal can share one between processes."""

    def get(self, key: str) -> str | None:
        """The token stored under key, or None if missing or expired."""

    def set(self, key: str, token: str, expires_at: float) -> None:
        """Store a token until `expires_at` (seconds since the epoch, as time.time())."""


class RefusalMemory(Protocol):
    """Optional extra of a token cache: it remembers refused sign-ins for every process."""

    def refusal(self, key: str) -> str | None:
        """The store's message for the last refused sign-in under key, or None."""

    def remember_refusal(self, key: str, refusal: MagentoError) -> None:
        """Remember that the store refused the sign-in under key (cleared by a later `set`);
        `refusal` is the error raised, already free of credentials."""


class InMemoryTokenCache:
    """Default token cache: one process, forgets on restart."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._tokens: dict[str, tuple[str, float]] = {}
        self._refusals: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        """The token under key if it has not expired yet."""
        with self._lock:
            entry = self._tokens.get(key)
            if entry is None or self._clock() >= entry[1]:
                return None
            return entry[0]

    def set(self, key: str, token: str, expires_at: float) -> None:
        """Remember a token until expires_at (and forget an earlier refusal)."""
        with self._lock:
            self._tokens[key] = (token, expires_at)
            self._refusals.pop(key, None)

    def refusal(self, key: str) -> str | None:
        """The store's message for a refused sign-in under key, or None."""
        with self._lock:
            return self._refusals.get(key)

    def remember_refusal(self, key: str, refusal: MagentoError) -> None:
        """Remember a refused sign-in, so auth objects sharing this cache do not try again."""
        with self._lock:
            self._refusals[key] = refusal.raw_message
            self._tokens.pop(key, None)

    def __repr__(self) -> str:
        return f"InMemoryTokenCache({len(self._tokens)} tokens)"


class AdminSessionAuth(MagentoAuth):
    """An admin user name and password exchanged for an admin token (renewed before it expires).

    The sign-in call is never repeated automatically: Magento locks an admin account for 30
    minutes after 6 failures, and after one refusal this object refuses to try again. A token
    cache that also has `refusal` / `remember_refusal` (see RefusalMemory) carries that memory
    to every auth object and process sharing the cache, until a sign-in succeeds.
    """

    def __init__(
        self,
        username: str,
        password: str,
        *,
        totp_secret: str | None = None,
        token_lifetime_seconds: float = DEFAULT_ADMIN_TOKEN_LIFETIME,
        token_cache: TokenCache | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._username = _require_text("The admin user name", username)
        if not isinstance(password, str) or not password:
            raise ValueError("The admin password is required.")
        self._password = password
        self._totp_secret = None
        if totp_secret:
            secret = normalise_secret(totp_secret)
            secret_key(secret)  # raises InvalidTotpSecret (a ValueError) before any request
            self._totp_secret = secret
        if token_lifetime_seconds <= 0:
            raise ValueError("The admin token lifetime must be positive.")
        self.token_lifetime_seconds = token_lifetime_seconds
        self._cache = token_cache if token_cache is not None else InMemoryTokenCache(clock)
        self._clock = clock
        self._lock = threading.Lock()
        self._refusal: MagentoError | None = None
        self._last_token: str | None = None

    def cache_key(self, client: MagentoClient) -> str:
        """The token cache key: one token per store address and admin user."""
        identity = f"{client.address.display}\n{self._username}".encode()
        return f"magento-admin-token:{hashlib.sha256(identity).hexdigest()}"

    def headers_for(self, method: str, url: str, client: MagentoClient) -> dict[str, str]:
        """Bearer header with a cached admin token, signing in first if there is none."""
        key = self.cache_key(client)
        token = self._cache.get(key)
        if token is None:
            with self._lock:
                token = self._cache.get(key) or self._sign_in(client, key)
        # A token another process put in the shared cache is a secret of this call too.
        self._last_token = token
        return {"Authorization": f"Bearer {token}"}

    def renew_after_unauthorized(
        self, client: MagentoClient, used: dict[str, str], response: requests.Response
    ) -> bool:
        """Drop the rejected token and sign in again (the caller repeats the call only once)."""
        key = self.cache_key(client)
        with self._lock:
            current = self._cache.get(key)
            # Another worker may have renewed already; then just use its token.
            if current is None or used.get("Authorization") == f"Bearer {current}":
                self._sign_in(client, key)
        return True

    def _sign_in(self, client: MagentoClient, key: str) -> str:
        if self._refusal is not None:
            raise self._copy_refusal()
        remembered = getattr(self._cache, "refusal", None)
        earlier = remembered(key) if remembered else None
        if earlier:
            raise SignInWithheldError(
                f"{SignInWithheldError.default_message} The store said: {earlier}",
                raw_message=earlier,
                method="POST",
                path=GOOGLE_AUTHENTICATE_PATH if self._totp_secret else ADMIN_TOKEN_PATH,
            )
        try:
            token = self._request_token(client)
        except (InvalidCredentialsError, TwoFactorRequiredError) as refusal:
            self._refusal = refusal
            remember = getattr(self._cache, "remember_refusal", None)
            if remember and isinstance(refusal, InvalidCredentialsError):
                # Only a refused password or code counts towards Magento's lockout.
                remember(key, refusal)
            raise
        expires_at = self._clock() + self._effective_lifetime()
        self._cache.set(key, token, expires_at)
        self._last_token = token
        return token

    def _effective_lifetime(self) -> float:
        margin = min(TOKEN_SAFETY_MARGIN, self.token_lifetime_seconds / 10)
        return self.token_lifetime_seconds - margin

    def _copy_refusal(self) -> MagentoError:
        # A fresh copy, so raising it again does not grow the original's traceback.
        return copy.copy(self._refusal)

    def _request_token(self, client: MagentoClient) -> str:
        if self._totp_secret:
            path = GOOGLE_AUTHENTICATE_PATH
            body = {
                "username": self._username,
                "password": self._password,
                "otp": TOTP(self._totp_secret).at(self._clock()),
            }
        else:
            path = ADMIN_TOKEN_PATH
            body = {"username": self._username, "password": self._password}
        try:
            token = client.request_token(path, body)
        except TwoFactorRequiredError:
            raise
        except RouteNotFoundError as error:
            if path != GOOGLE_AUTHENTICATE_PATH:
                raise
            # No 2FA module on this store: the code route does not exist at all.
            raise TwoFactorUnavailableError(
                "The store has no two-factor sign-in route (Magento's 2FA module is not "
                "installed or is disabled), so a one-time code cannot be sent: sign in with the "
                "user name and password alone.",
                raw_message=error.raw_message,
                status=error.status,
                method=error.method,
                path=error.path,
            ) from None
        except AuthenticationError as error:
            raise self._refusal_for(error, path) from None
        if not isinstance(token, str) or not token.strip() or "\n" in token:
            raise UnexpectedResponseError(
                "The store's sign-in answer did not contain an admin token.",
                method="POST",
                path=path,
            )
        return token.strip()

    def _refusal_for(self, error: AuthenticationError, path: str) -> MagentoError:
        fields = {
            "raw_message": error.raw_message,
            "parameters": error.parameters,
            "status": error.status,
            "method": error.method,
            "path": error.path,
        }
        if path == GOOGLE_AUTHENTICATE_PATH and error.raw_message.strip() == "Invalid code.":
            return InvalidTwoFactorCodeError(**fields)
        if isinstance(error, InvalidCredentialsError):
            return error
        # Magento answers every refused sign-in with 401; the wording has changed over versions.
        return InvalidCredentialsError(
            f"{error.raw_message} {InvalidCredentialsError.default_message}", **fields
        )

    def secrets(self) -> tuple[str, ...]:
        found = [self._password]
        if self._totp_secret:
            found.append(self._totp_secret)
        if self._last_token:
            found.append(self._last_token)
        return tuple(found)

    def __repr__(self) -> str:
        two_factor = ", totp_secret=<hidden>" if self._totp_secret else ""
        return f"AdminSessionAuth(username={self._username!r}, password=<hidden>{two_factor})"

"""Who is calling: integration tokens, OAuth 1.0a signatures, admin tokens, 2FA, and the ACL.

Follows Magento 2.4: a Bearer integration token counts only while the "standalone Bearer" option
is on, otherwise the caller is a guest and gets the generic 401; OAuth requests are verified
(HMAC-SHA256, natural-order parameters, rawurldecode'd query) and their errors are not hidden;
admin tokens expire, and six failed sign-ins lock the account for 30 minutes.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
import string
import threading
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

import pyotp

from ..totp import TOTP
from .errors import MagentoErrorResponse, required, signin_incorrect

_ALPHABET = string.ascii_lowercase + string.digits
TOKEN_LENGTH = 32
MAX_FAILURES = 6
LOCKOUT_SECONDS = 1800
TIMESTAMP_DEVIATION = 600
INTEGRATION_CONSUMER_ID = 1
# How the store reads an escaped character in the path before it checks an OAuth signature.
# Laminas' Uri::normalizePath decodes an escape when the character is in the set, upper-cases
# every other escape, then escapes again what may not stand bare in a path.
OAUTH_PATH_DECODED = "decoded"  # 2.4.6/2.4.7: "tee%2Fred" is signed as "tee/red" (#37913)
OAUTH_PATH_RFC5849 = "rfc5849"  # 2.4.8+: signed as sent (Oauth/Helper/Uri/Http.php)
OAUTH_PATH_SIGNINGS = (OAUTH_PATH_DECODED, OAUTH_PATH_RFC5849)
_UNRESERVED = string.ascii_letters + string.digits + "-._~"
_DECODED_IN_PATH = {
    OAUTH_PATH_DECODED: frozenset(_UNRESERVED + ":@&=+$,/;%"),
    OAUTH_PATH_RFC5849: frozenset(_UNRESERVED),
}
_BARE_IN_PATH = re.compile(r"[^A-Za-z0-9\-._~()\:@&=+$,/;%]+|%(?![0-9A-Fa-f]{2})")

# Resource Access "All": the root of Magento's ACL tree, which grants everything.
ALL_RESOURCES = "Magento_Backend::all"

# Parent of each ACL resource the sandbox's routes use, as in Magento's acl.xml files.
ACL_PARENTS = {
    "Magento_Customer::manage": "Magento_Customer::customer",
    "Magento_Customer::customer": "Magento_Backend::admin",
    "Magento_Catalog::products": "Magento_Catalog::catalog_inventory",
    "Magento_Catalog::catalog_inventory": "Magento_Catalog::catalog",
    "Magento_Catalog::catalog": "Magento_Backend::admin",
    "Magento_Sales::actions_view": "Magento_Sales::actions",
    "Magento_Sales::ship": "Magento_Sales::actions",
    "Magento_Sales::actions": "Magento_Sales::sales_order",
    "Magento_Sales::sales_order": "Magento_Sales::sales_operation",
    "Magento_Sales::shipment": "Magento_Sales::sales_operation",
    "Magento_Sales::sales_operation": "Magento_Sales::sales",
    "Magento_Sales::sales": "Magento_Backend::admin",
    "Magento_Catalog::sets": "Magento_Backend::stores_attributes",
    "Magento_Backend::stores_attributes": "Magento_Backend::stores",
    "Magento_Backend::store": "Magento_Backend::stores_settings",
    "Magento_Backend::stores_settings": "Magento_Backend::stores",
    "Magento_Backend::stores": "Magento_Backend::admin",
    "Magento_Backend::admin": ALL_RESOURCES,
}


def acl_selection(*resources: str) -> frozenset[str]:
    """What ticking `resources` in Magento's role or integration tree saves: each one and
    every resource under it (the tree ticks a node's children along with it)."""
    selected = set(resources)
    for resource in ACL_PARENTS:
        current: str | None = resource
        while current is not None:
            if current in resources:
                selected.add(resource)
                break
            current = ACL_PARENTS.get(current)
    return frozenset(selected)


def random_token(length: int = TOKEN_LENGTH) -> str:
    """Magento-like opaque credential: lowercase letters and digits."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass
class Credentials:
    """Everything a client needs to sign in to the sandbox; repr never shows a secret."""

    consumer_key: str = field(repr=False)
    consumer_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    access_token_secret: str = field(repr=False)
    admin_username: str = "admin"
    admin_password: str = field(default="", repr=False)
    totp_secret: str = field(default="", repr=False)

    @classmethod
    def generate(cls, **given: str | None) -> Credentials:
        """Random credentials for this run; any value given (not None) is used as is."""
        values = {
            "consumer_key": random_token(),
            "consumer_secret": random_token(),
            "access_token": random_token(),
            "access_token_secret": random_token(),
            "admin_username": "admin",
            "admin_password": "Sandbox-" + secrets.token_urlsafe(12),
            "totp_secret": pyotp.random_base32(),
        }
        values.update({key: value for key, value in given.items() if value})
        return cls(**values)

    def as_dict(self) -> dict[str, str]:
        """All values by name (for printing in the demo command and the fixture)."""
        return {
            "consumer_key": self.consumer_key,
            "consumer_secret": self.consumer_secret,
            "access_token": self.access_token,
            "access_token_secret": self.access_token_secret,
            "admin_username": self.admin_username,
            "admin_password": self.admin_password,
            "totp_secret": self.totp_secret,
        }


@dataclass(frozen=True)
class Caller:
    """The authenticated user of one request."""

    kind: str  # "guest", "integration" or "admin"

    def allowed(self, resource: str, grants: set[str] | frozenset[str]) -> bool:
        """Magento's ACL check for this caller and one resource id; `grants` are the
        integration's resources, or the admin user's role resources for an admin."""
        if resource == "anonymous":
            return True
        if self.kind not in ("integration", "admin"):
            return False
        # A custom selection is saved as one allow or deny rule per resource (Magento's
        # Authorization ResourceModel\Rules::saveRel), so a ticked parent does not grant an
        # unticked child; only "All" (the root) stands for every resource.
        return ALL_RESOURCES in grants or resource in grants


GUEST = Caller("guest")
ADMIN = Caller("admin")
INTEGRATION = Caller("integration")


class Authenticator:
    """Admin sessions, lockouts, OAuth nonces; reads flags and credentials from the store."""

    def __init__(self, store):
        self.store = store
        self._lock = threading.Lock()
        self._admin_tokens: dict[str, float] = {}
        self._failures: dict[str, int] = {}
        self._locked_until: dict[str, float] = {}
        self._nonces: set[str] = set()
        self.revoked = False

    # ------------------------------------------------------------ admin tokens

    def check_admin_password(self, username: str, password: str) -> None:
        """Validate admin credentials with Magento's throttling; raise the 400/401 it gives."""
        given = {"username": username, "password": password}
        missing = [name for name, value in given.items() if not value]
        if missing:
            raise required(*missing)
        now = self.store.clock()
        key = username.lower()
        with self._lock:
            if self._locked_until.get(key, 0) > now:
                raise signin_incorrect()
            credentials = self.store.credentials
            right = _same(username, credentials.admin_username) and _same(
                password, credentials.admin_password
            )
            if not right:
                failures = self._failures.get(key, 0) + 1
                self._failures[key] = failures
                if failures >= MAX_FAILURES:
                    self._locked_until[key] = now + LOCKOUT_SECONDS
                    self._failures[key] = 0
                raise signin_incorrect()
            self._failures.pop(key, None)
            self._locked_until.pop(key, None)

    def check_otp(self, otp: str) -> None:
        """Google Authenticator code for the admin's TOTP secret (one step of clock drift)."""
        totp = TOTP(self.store.credentials.totp_secret)
        if not totp.verify(str(otp), for_time=int(self.store.clock()), valid_window=1):
            raise MagentoErrorResponse(401, "Invalid code.")

    def issue_admin_token(self) -> str:
        """A new admin token valid for the store's configured lifetime."""
        token = random_token()
        with self._lock:
            self._admin_tokens[token] = self.store.clock() + self.store.admin_token_lifetime
        return token

    def expire_admin_tokens(self) -> None:
        """Make every issued admin token expired (for tests of re-authentication)."""
        with self._lock:
            for token in self._admin_tokens:
                self._admin_tokens[token] = 0

    # ---------------------------------------------------------------- callers

    def caller(self, authorization: str, method: str, url: str, raw_query: str) -> Caller:
        """Resolve the Authorization header to a caller (guest when nothing valid is given)."""
        header = authorization.strip()
        if header[:7].lower() == "bearer ":
            token = header[7:].strip()
            return self._bearer(token)
        if "oauth " in header.lower():
            self._verify_oauth(header, method, url, raw_query)
            return INTEGRATION
        return GUEST

    def _bearer(self, token: str) -> Caller:
        with self._lock:
            expires_at = self._admin_tokens.get(token)
        if expires_at is not None:
            return ADMIN if expires_at > self.store.clock() else GUEST
        credentials = self.store.credentials
        if not self.revoked and _same(token, credentials.access_token):
            return INTEGRATION if self.store.bearer_enabled else GUEST
        return GUEST

    # ------------------------------------------------------------------ OAuth

    def _verify_oauth(self, header: str, method: str, url: str, raw_query: str) -> None:
        params = _oauth_header_params(header)
        for pair in raw_query.split("&") if raw_query else []:
            parts = pair.split("=")
            if len(parts) == 2 and not _is_protocol(parts[0]):
                params[unquote(parts[0])] = unquote(parts[1])
        if "oauth_version" in params and params["oauth_version"] != "1.0":
            raise MagentoErrorResponse(
                400, 'The "%1" Oauth version isn\'t supported.', [params["oauth_version"]]
            )
        protocol = (
            "oauth_consumer_key",
            "oauth_signature",
            "oauth_signature_method",
            "oauth_nonce",
            "oauth_timestamp",
            "oauth_token",
        )
        missing = [name for name in protocol if name not in params]
        if missing:
            raise required(*missing)
        if len(params["oauth_token"]) != TOKEN_LENGTH:
            raise MagentoErrorResponse(
                400, "The token length is invalid. Check the length and try again."
            )
        if params["oauth_signature_method"] != "HMAC-SHA256":
            raise MagentoErrorResponse(
                400, "Signature method %1 is not supported", [params["oauth_signature_method"]]
            )
        credentials = self.store.credentials
        if len(params["oauth_consumer_key"]) != TOKEN_LENGTH:
            raise MagentoErrorResponse(401, "Consumer key is not the correct length")
        if not _same(params["oauth_consumer_key"], credentials.consumer_key):
            raise MagentoErrorResponse(401, "A consumer having the specified key does not exist")
        self._check_nonce(params["oauth_nonce"], params["oauth_timestamp"])
        if not _same(params["oauth_token"], credentials.access_token):
            raise MagentoErrorResponse(401, "Specified token does not exist")
        if self.revoked:
            raise MagentoErrorResponse(401, "Access token has been revoked")
        expected = oauth_signature(
            method, url, params, credentials.consumer_secret, credentials.access_token_secret
        )
        if not _same(expected, params["oauth_signature"]):
            raise MagentoErrorResponse(401, "The signature is invalid. Verify and try again.")

    def _check_nonce(self, nonce: str, timestamp: str) -> None:
        try:
            moment = int(timestamp)
        except ValueError:
            moment = 0
        if moment <= 0 or moment > self.store.clock() + TIMESTAMP_DEVIATION:
            raise MagentoErrorResponse(
                400, "Incorrect timestamp value in the oauth_timestamp parameter"
            )
        with self._lock:
            if nonce in self._nonces:
                raise MagentoErrorResponse(
                    401,
                    "The nonce is already being used by the consumer with ID %1",
                    [str(INTEGRATION_CONSUMER_ID)],
                )
            self._nonces.add(nonce)


def _same(given: str, expected: str) -> bool:
    """Constant-time equality of two texts. hmac.compare_digest refuses str with non-ASCII
    characters (a TypeError, which was a 500), so the UTF-8 bytes are compared; "surrogatepass"
    keeps a lone surrogate from JSON ("\\ud800") comparable instead of failing to encode."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def check_path_signing(signing: str) -> str:
    """The store's way of signing paths, or ValueError naming the choices."""
    if signing not in OAUTH_PATH_SIGNINGS:
        raise ValueError(
            f"unknown OAuth path signing {signing!r}: use {' or '.join(OAUTH_PATH_SIGNINGS)}"
        )
    return signing


def signed_url(host: str, path: str, signing: str = OAUTH_PATH_DECODED) -> str:
    """The URL an OAuth signature covers, normalised as Magento does: lowercase host, no default
    port, the path as normalizePath leaves it. `signing` OAUTH_PATH_DECODED is Laminas' own
    normalizePath (Magento 2.4.6/2.4.7: "tee%2Fred" signed as "tee/red", magento/magento2#37913);
    OAUTH_PATH_RFC5849 is Magento 2.4.8's override, lib/internal/Magento/Framework/Oauth/Helper/
    Uri/Http.php, which decodes unreserved characters only ("tee%2Fred" signed as sent)."""
    host = host.lower().removesuffix(":80")
    decodable = _DECODED_IN_PATH[signing]

    def tidy(match: re.Match) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in decodable else match.group(0).upper()

    path = re.sub(r"%([0-9A-Fa-f]{2})", tidy, path)
    path = _BARE_IN_PATH.sub(lambda match: quote(match.group(0), safe=""), path)
    return f"http://{host}{path}"


def _is_protocol(name: str) -> bool:
    return bool(re.search(r"oauth_[a-z_-]+", name))


def _oauth_header_params(header: str) -> dict[str, str]:
    """Magento's header parsing: after 'OAuth ', comma-separated name="value", rawurldecoded."""
    position = header.lower().find("oauth ")
    params: dict[str, str] = {}
    for piece in header[position + 6 :].split(","):
        name, sep, value = piece.strip().partition("=")
        if not sep or not _is_protocol(name):
            continue
        params[unquote(name)] = unquote(value.strip('"'))
    return params


def rawurlencode(value: str) -> str:
    """PHP rawurlencode (RFC 3986: everything but letters, digits and -._~ is escaped)."""
    return quote(value, safe="-._~")


def strnatcmp(left: str, right: str) -> int:
    """PHP's natural-order comparison: digit runs compare as numbers, the rest byte by byte."""
    left_parts = re.findall(r"\d+|\D+", left)
    right_parts = re.findall(r"\d+|\D+", right)
    for a, b in zip(left_parts, right_parts, strict=False):
        if a.isdigit() and b.isdigit():
            if int(a) != int(b):
                return -1 if int(a) < int(b) else 1
            if len(a) != len(b):
                return -1 if len(a) > len(b) else 1
        elif a != b:
            return -1 if a.encode() < b.encode() else 1
    return (len(left_parts) > len(right_parts)) - (len(left_parts) < len(right_parts))


def oauth_signature(
    method: str, url: str, params: dict[str, str], consumer_secret: str, token_secret: str
) -> str:
    """HMAC-SHA256 signature of a request as Magento computes it (base64)."""
    encoded = {
        rawurlencode(k): rawurlencode(v) for k, v in params.items() if k != "oauth_signature"
    }
    ordered = sorted(encoded, key=functools.cmp_to_key(strnatcmp))
    query = "&".join(f"{key}={encoded[key]}" for key in ordered)
    base = "&".join((method.upper(), rawurlencode(url), rawurlencode(query)))
    key = f"{rawurlencode(consumer_secret)}&{rawurlencode(token_secret)}"
    digest = hmac.new(key.encode(), base.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()

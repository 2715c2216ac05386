"""What went wrong when the portal talked to a store, in a shop owner's words.

Every outcome of a connection check is a `Diagnosis`: a stable code (kept on the connection), a
title, a plain-words explanation, a link to the setup-guide step that fixes it, and a technical
detail for whoever runs the portal. None of these ever contains a credential.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import reverse

from connections.models import CredentialsUnreadable
from magento import errors as magento_errors

VERIFIED = "verified"
PRIVATE_ADDRESS = "private_address"
PLAIN_HTTP = "plain_http_not_allowed"
DNS_FAILED = "dns_failed"
CONNECTION_FAILED = "connection_failed"
TIMEOUT = "timeout"
TLS_ERROR = "tls_error"
NOT_MAGENTO = "not_magento"
REDIRECTED = "redirected"
MAINTENANCE = "maintenance"
STORE_ERROR = "store_error"
RATE_LIMITED = "rate_limited"
ACCESS_BLOCKED = "access_blocked"
TOKEN_REJECTED = "token_rejected"
OAUTH_REJECTED = "oauth_rejected"
PERMISSIONS_MISSING = "permissions_missing"
ADMIN_SIGNIN_REJECTED = "admin_signin_rejected"
ADMIN_LOCKED = "admin_locked"
TWO_FACTOR_REQUIRED = "two_factor_required"
TWO_FACTOR_CODE_REJECTED = "two_factor_code_rejected"
TWO_FACTOR_NOT_CONFIGURED = "two_factor_not_configured"
TWO_FACTOR_NOT_USED = "two_factor_not_used"
STORE_CODE_UNKNOWN = "store_code_unknown"
CREDENTIALS_UNREADABLE = "credentials_unreadable"
UNEXPECTED = "unexpected"

# Raised when a saved credential was encrypted with other keys (SECRET_KEY/CRYPTOGRAPHY_KEY):
# the credential fields turn every failure to decrypt or unpickle into this one exception.
UNREADABLE_ERRORS = (CredentialsUnreadable,)

# Magento locks an admin account after this many failed sign-ins (oauth/authentication_lock).
LOCKOUT_AFTER_FAILURES = 6

# Said with every refused sign-in: the portal holds unattended sign-ins after one refusal.
SIGN_IN_HELD = (
    "The portal does not sign in with these credentials again on its own until the connection "
    "is tested or saved, so it never adds to a lockout."
)

GUIDE = "connections:guide"
GUIDE_TOKEN = "connections:guide_integration_token"
GUIDE_SESSION = "connections:guide_session"


@dataclass(frozen=True)
class GuideLink:
    label: str
    page: str
    anchor: str

    @property
    def url(self) -> str:
        return f"{reverse(self.page)}#{self.anchor}"


@dataclass(frozen=True)
class _Entry:
    title: str
    explanation: str
    links: tuple[GuideLink, ...]


L_STORE_DOMAIN = GuideLink("What to type as Store Domain", GUIDE, "store-domain")
L_NETWORK = GuideLink("Reaching the store", GUIDE, "network")
L_TLS = GuideLink("TLS certificates", GUIDE, "tls")
L_PRIVATE = GuideLink("Stores on a private network", GUIDE, "private-network")
L_HTTP = GuideLink("Plain http:// addresses", GUIDE, "plain-http")
L_STORE_CODE = GuideLink("Store code", GUIDE, "store-code")
L_UNAVAILABLE = GuideLink("Store unavailable or limiting requests", GUIDE, "store-unavailable")
L_KEYS = GuideLink("Encryption keys", GUIDE, "keys")
L_BEARER = GuideLink("Allow standalone Bearer tokens", GUIDE_TOKEN, "bearer-setting")
L_INTEGRATION = GuideLink("Create and activate the integration", GUIDE_TOKEN, "activate")
L_RESOURCES = GuideLink("Resource Access: All", GUIDE_TOKEN, "resource-access")
L_OAUTH = GuideLink("Use OAuth 1.0a instead", GUIDE_TOKEN, "oauth")
L_ADMIN_USER = GuideLink("Admin user and password", GUIDE_SESSION, "admin-user")
L_ROLE = GuideLink("Admin role permissions", GUIDE_SESSION, "api-permissions")
L_LOCKOUT = GuideLink("Locked admin accounts", GUIDE_SESSION, "lockout")
L_2FA = GuideLink("Two-factor authentication", GUIDE_SESSION, "two-factor")

_CATALOG: dict[str, _Entry] = {
    VERIFIED: _Entry("Connected", "The store answered and every permission we need is there.", ()),
    PRIVATE_ADDRESS: _Entry(
        "The store address points into a private network",
        "{host} is, or resolves to, a private, loopback, link-local or reserved address (the "
        "detail says which). The portal refuses such addresses so a connection cannot be used "
        "to reach machines inside your network. If the store really runs on your private "
        "network, ask the person who runs the portal to set ALLOW_PRIVATE_NETWORK_TARGETS=true.",
        (L_PRIVATE,),
    ),
    PLAIN_HTTP: _Entry(
        "The store address uses plain http://",
        "With http:// the credentials travel unencrypted over the internet. Use https://, or tick "
        '"Allow plain http://" if you accept that risk.',
        (L_HTTP,),
    ),
    DNS_FAILED: _Entry(
        "The store's name could not be found",
        "No computer answers to the name {host}. Check the Store Domain for typing mistakes.",
        (L_STORE_DOMAIN,),
    ),
    CONNECTION_FAILED: _Entry(
        "The store could not be reached",
        "The portal found {host} but could not open a connection to it. The web server may be "
        "down, or a firewall may block the portal.",
        (L_NETWORK,),
    ),
    TIMEOUT: _Entry(
        "The store did not answer in time",
        "{host} did not answer within {timeout} seconds. The store may be overloaded, or a "
        "firewall may silently drop the portal's requests. You can raise the timeout under "
        "Advanced.",
        (L_NETWORK,),
    ),
    TLS_ERROR: _Entry(
        "The store's security certificate was not accepted",
        "The https:// certificate of {host} is invalid, expired or issued for another name. Fix "
        'the certificate, or (for a test store only) switch off "Verify TLS certificate".',
        (L_TLS,),
    ),
    NOT_MAGENTO: _Entry(
        "This does not look like a Magento store",
        "{host} answered, but not like Magento's REST API at /rest. Check that the Store Domain "
        "is the address of the Magento store itself (including a sub-folder such as /shop if the "
        "store lives in one).",
        (L_STORE_DOMAIN,),
    ),
    REDIRECTED: _Entry(
        "The store sends the portal to another address",
        "The store redirects its API to {location}. The portal does not follow redirects; enter "
        "the final address as Store Domain.",
        (L_STORE_DOMAIN,),
    ),
    MAINTENANCE: _Entry(
        "The store is in maintenance mode",
        "Magento answered with its maintenance page. Try again when maintenance is over.",
        (L_UNAVAILABLE,),
    ),
    STORE_ERROR: _Entry(
        "The store had an internal error",
        "Magento answered with a server error. The store's own log has the details.",
        (L_UNAVAILABLE,),
    ),
    RATE_LIMITED: _Entry(
        "The store is limiting requests",
        "The store (or a firewall in front of it) answered 'Too Many Requests'. Try again later.",
        (L_UNAVAILABLE,),
    ),
    ACCESS_BLOCKED: _Entry(
        "The store refused the portal's requests",
        "The store or a firewall in front of it answered 403 Forbidden. A web application "
        "firewall or an IP allow-list may block the portal's address.",
        (L_NETWORK,),
    ),
    TOKEN_REJECTED: _Entry(
        "Magento did not accept the Access Token",
        'Magento refused every request with its generic "not authorized" answer, which it '
        "gives for two different causes: (1) the store does not allow integration tokens as "
        "standalone Bearer tokens (the default since Magento 2.4.4): set 'Allow OAuth Access "
        "Tokens to be used as standalone Bearer tokens' to Yes, or enter the integration's four "
        "OAuth 1.0a credentials instead, which work whatever that setting says; (2) the token is "
        "wrong, or the integration was deleted, re-authorized or not activated: copy the Access "
        "Token again.",
        (L_BEARER, L_OAUTH, L_INTEGRATION),
    ),
    OAUTH_REJECTED: _Entry(
        "Magento did not accept the OAuth 1.0a credentials",
        "The store refused the signed requests. Check that all four values come from the same, "
        "activated integration (re-authorizing an integration creates new tokens).",
        (L_OAUTH, L_INTEGRATION),
    ),
    PERMISSIONS_MISSING: _Entry(
        "Some API permissions are missing",
        "The store accepted the credentials but refused access to: {missing}. The automations "
        "need these. {fix}",
        (L_RESOURCES, L_ROLE),
    ),
    ADMIN_SIGNIN_REJECTED: _Entry(
        "Magento refused the admin sign-in",
        "Either the Admin Username or Admin Password is wrong, or the account is locked. Magento "
        "gives the same answer for both. After {lockout} failed sign-ins Magento locks the "
        "account (for 30 minutes by default), and while it is locked even the right password is "
        "refused. {held}",
        (L_ADMIN_USER, L_LOCKOUT),
    ),
    ADMIN_LOCKED: _Entry(
        "The admin account is probably locked",
        "Magento refused the admin sign-in {failures} times in a row. After {lockout} failed "
        "sign-ins Magento locks the account (for 30 minutes by default) and refuses even the "
        "right password. Wait, or unlock the user in Magento (System > Permissions > Locked "
        "Users), then check the password. {held}",
        (L_LOCKOUT, L_ADMIN_USER),
    ),
    TWO_FACTOR_REQUIRED: _Entry(
        "The store requires two-factor authentication",
        "Magento accepted the password but needs a two-factor code for this admin user. Enter "
        "the user's 2FA (TOTP) secret, or use an Integration Token instead, which needs no 2FA.",
        (L_2FA,),
    ),
    TWO_FACTOR_CODE_REJECTED: _Entry(
        "Magento did not accept the two-factor code",
        "The code made from the 2FA (TOTP) secret was refused. Check that the secret belongs to "
        "this admin user's Google Authenticator setup, and that the portal's clock is correct. "
        "{held}",
        (L_2FA,),
    ),
    TWO_FACTOR_NOT_CONFIGURED: _Entry(
        "Two-factor authentication is not set up for this admin user",
        "Magento requires 2FA, but this admin user has not configured it yet. Sign in to the "
        "Magento admin once as this user and set up Google Authenticator, then enter its secret. "
        "If Magento says the provider is not allowed, Google Authenticator must first be "
        "added under Stores > Settings > Configuration > Security > 2FA > General > Providers "
        "to Enforce.",
        (L_2FA,),
    ),
    TWO_FACTOR_NOT_USED: _Entry(
        "The store does not use two-factor authentication",
        "A 2FA secret is saved for this connection, but the store has no two-factor sign-in "
        "(Magento's two-factor module is switched off), so it does not know where to send the "
        'code. Remove the 2FA secret (tick "Remove the saved 2FA secret", or leave the field '
        "empty on a new connection).",
        (L_2FA,),
    ),
    STORE_CODE_UNKNOWN: _Entry(
        "The store code does not exist",
        "The store has no store view with the code '{store_code}'. Use 'all' (the default) "
        "unless you need one specific store view.",
        (L_STORE_CODE,),
    ),
    CREDENTIALS_UNREADABLE: _Entry(
        "The saved credentials cannot be decrypted",
        "The portal's SECRET_KEY or CRYPTOGRAPHY_KEY changed since the credentials were saved. "
        "Run the re-encrypt command with the old keys, or enter the credentials again.",
        (L_KEYS,),
    ),
    UNEXPECTED: _Entry(
        "The store gave an unexpected answer",
        "The check could not be completed. The technical detail below says what happened.",
        (L_NETWORK,),
    ),
}

CODES = tuple(_CATALOG)

# Added to a TLS error when the Store Domain was typed without https:// or http://.
HTTPS_ASSUMED = (
    "The Store Domain has no https:// or http:// in front, so the portal used https://; if the "
    "store only answers plain http (a test store), type http:// in front."
)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "?"


@dataclass(frozen=True)
class Diagnosis:
    """The outcome of a connection check, ready to show to a shop owner."""

    code: str
    title: str
    explanation: str
    links: tuple[GuideLink, ...] = ()
    detail: str = ""
    facts: dict = field(default_factory=dict, compare=False)

    @property
    def ok(self) -> bool:
        return self.code == VERIFIED

    @property
    def guide_url(self) -> str:
        """The guide step that fixes this problem ("" when there is nothing to fix)."""
        return self.links[0].url if self.links else ""

    @property
    def message(self) -> str:
        """Title and explanation in one line (what the connection keeps as its last error)."""
        return f"{self.title}: {self.explanation}"

    def as_text(self) -> str:
        """Plain-text form for the command line."""
        lines = [self.message]
        lines += [f"  Guide: {link.label}: {link.url}" for link in self.links]
        if self.detail:
            lines.append(f"  Detail: {self.detail}")
        return "\n".join(lines)


def make_diagnosis(code: str, *, detail: str = "", **facts) -> Diagnosis:
    """Build the Diagnosis for `code`, filling the facts (host, missing, ...) into its text."""
    entry = _CATALOG.get(code, _CATALOG[UNEXPECTED])
    values = _Blank(lockout=LOCKOUT_AFTER_FAILURES, held=SIGN_IN_HELD, **facts)
    return Diagnosis(
        code=code if code in _CATALOG else UNEXPECTED,
        title=entry.title,
        explanation=entry.explanation.format_map(values),
        links=entry.links,
        detail=detail,
        facts=facts,
    )


def links_for(code: str) -> tuple[GuideLink, ...]:
    """Guide links for a stored error code (used by the admin to link the last error)."""
    return _CATALOG.get(code, _CATALOG[UNEXPECTED]).links


def scrub(text: str, secrets: list[str]) -> str:
    """Replace any credential value that appears in `text` (defence in depth for details)."""
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "[hidden]")
    return text


def diagnose_transport_error(error: Exception, *, host: str, timeout: int) -> Diagnosis | None:
    """Map the errors that happen before Magento answers (network, TLS, redirects, HTML)."""
    detail = str(error)
    if isinstance(error, magento_errors.BlockedAddressError):
        return make_diagnosis(PRIVATE_ADDRESS, detail=detail, host=host)
    if isinstance(error, magento_errors.TLSError):
        return make_diagnosis(TLS_ERROR, detail=detail, host=host)
    if isinstance(error, magento_errors.RequestTimeoutError):
        return make_diagnosis(TIMEOUT, detail=detail, host=host, timeout=timeout)
    if isinstance(error, magento_errors.TransportError):
        if isinstance(error, magento_errors.NameNotFoundError):
            return make_diagnosis(DNS_FAILED, detail=detail, host=host)
        return make_diagnosis(CONNECTION_FAILED, detail=detail, host=host)
    if isinstance(error, magento_errors.MaintenanceError):
        return make_diagnosis(MAINTENANCE, detail=detail, host=host)
    if isinstance(error, magento_errors.StoreUnavailableError):
        return make_diagnosis(STORE_ERROR, detail=detail, host=host)
    if isinstance(error, magento_errors.RateLimitedError):
        return make_diagnosis(RATE_LIMITED, detail=detail, host=host)
    if isinstance(error, magento_errors.PermissionDeniedError):
        return make_diagnosis(ACCESS_BLOCKED, detail=detail, host=host)
    if isinstance(error, magento_errors.RedirectedError):
        location = error.location or "another address"
        return make_diagnosis(REDIRECTED, detail=detail, host=host, location=location)
    if isinstance(error, magento_errors.UnexpectedResponseError):
        if getattr(error, "status", None) in (401, 403):
            # A web page refusing access: a firewall or proxy in front of Magento said no.
            return make_diagnosis(ACCESS_BLOCKED, detail=detail, host=host)
        return make_diagnosis(NOT_MAGENTO, detail=detail, host=host)
    return None

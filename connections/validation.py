"""Rules a connection must follow before it is saved, shared by the admin form and the commands.

Each rule names the field it belongs to and says in plain words what to change.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cached_property

from django.conf import settings
from django.core.exceptions import ValidationError

from connections.models import (
    MAX_NAME_KEY_LENGTH,
    MAX_TIMEOUT_SECONDS,
    MIN_TIMEOUT_SECONDS,
    OAUTH_FIELDS,
    AuthMethod,
    Connection,
    connection_name_key,
)
from magento import totp
from magento.errors import BlockedAddressError, TransportError
from magento.netguard import check_target_host
from magento.store_domain import (
    InvalidStoreDomain,
    StoreAddress,
    parse_store_domain,
    validate_store_code,
)

MAX_SECRET_LENGTH = 1024
# Real TOTP secrets are 16 to 64 characters; anything far longer is a paste gone wrong.
_PRINTABLE = re.compile(r"^[\x21-\x7e]+$")
# Characters nobody types on purpose into a name, user name or password: controls (NUL, BEL, ESC,
# tab, CR, LF), format characters (right-to-left override, zero-width space), surrogates, and
# line and paragraph separators. Unicode's categories name them all; no hand-kept list.
_UNSEEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_UNSEEN_NAMES = {"\n": "a line break", "\r": "a line break", "\t": "a tab"}


class StoreTarget:
    """Where a Store Domain leads, and the two rules about it: private addresses and http://.

    Saving (validation), checking (the preflight) and connecting (the client) all ask here. The
    host name is resolved once, and only when a rule needs it.
    """

    def __init__(self, address: StoreAddress, *, allow_plain_http: bool) -> None:
        self.address = address
        self.allow_plain_http = allow_plain_http

    @cached_property
    def _resolved(self) -> tuple[BlockedAddressError | None, TransportError | None]:
        try:
            check_target_host(self.address.host, self.address.port)
        except BlockedAddressError as error:
            return error, None
        except TransportError as error:
            return None, error
        return None, None

    @property
    def private(self) -> BlockedAddressError | None:
        """Why the host counts as private (it is, or resolves to, a non-public address)."""
        return self._resolved[0]

    @property
    def unresolved(self) -> TransportError | None:
        """Why the host name could not be resolved (the check reports it as a DNS failure)."""
        return self._resolved[1]

    @property
    def private_refused(self) -> bool:
        """A private target while ALLOW_PRIVATE_NETWORK_TARGETS is off."""
        return not settings.ALLOW_PRIVATE_NETWORK_TARGETS and self.private is not None

    @property
    def plain_http_refused(self) -> bool:
        """http:// without the connection's opt-in, unless to a private target that is allowed
        (a store on the local network). With private targets refused, every store is public."""
        if self.address.scheme != "http" or self.allow_plain_http:
            return False
        return not settings.ALLOW_PRIVATE_NETWORK_TARGETS or self.private is None


def timeout_problem(timeout: int | None) -> str | None:
    """What is wrong with a timeout, or None when it is in range."""
    if timeout is not None and MIN_TIMEOUT_SECONDS <= timeout <= MAX_TIMEOUT_SECONDS:
        return None
    return f"The timeout must be between {MIN_TIMEOUT_SECONDS} and {MAX_TIMEOUT_SECONDS} seconds."


def unseen_character(value: str) -> str | None:
    """The first control or invisible character in `value`, or None when it has none."""
    for char in value:
        if unicodedata.category(char) in _UNSEEN_CATEGORIES:
            return char
    return None


def unseen_character_message(label: str, char: str, *, secret: bool = False) -> str:
    """Say that a field holds a control or invisible character (which one, unless a secret)."""
    if secret:
        which = "such as a line break, a tab or a zero-width space"
    else:
        name = unicodedata.name(char, "")
        which = _UNSEEN_NAMES.get(char) or f"U+{ord(char):04X}{' ' + name if name else ''}"
    return (
        f"The {label} contains an invisible or control character ({which}): type it again "
        "without it."
    )


def name_taken(name: str, *, other_than: int | None = None) -> bool:
    """True when another connection has this name (as the unique constraint judges: its key)."""
    clash = Connection.objects.filter(name_key=connection_name_key(name))
    if other_than:
        clash = clash.exclude(pk=other_than)
    return clash.exists()


def name_taken_message(name: str) -> str:
    return f"A connection named '{name.strip()}' already exists; choose another name."


def normalise_totp_secret(value: str) -> str:
    """Upper-case base32 without spaces or dashes (how authenticator apps show secrets varies)."""
    return totp.normalise_secret(value)


def totp_secret_problem(value: str) -> str | None:
    """What is wrong with a 2FA secret, or None: every secret Magento accepts is accepted."""
    secret = normalise_totp_secret(value)
    if not secret.rstrip("="):
        return (
            "The 2FA secret is empty. Paste the key shown when Google Authenticator was set up, "
            "or leave the field blank if this admin user has no 2FA."
        )
    if len(secret) > totp.MAX_SECRET_LENGTH:
        return (
            f"The 2FA secret is too long ({len(secret)} characters); use at most "
            f"{totp.MAX_SECRET_LENGTH}. Copy only the key shown when Google Authenticator was "
            "set up."
        )
    try:
        totp.secret_key(secret)
    except totp.InvalidTotpSecret:
        return (
            "The 2FA secret must be the base32 key shown when Google Authenticator was set up: "
            "letters A-Z and digits 2-7 only."
        )
    return None


def _check_token_value(field: str, value: str, problems: dict[str, list[str]]) -> None:
    label = Connection.label(field)
    if len(value) > MAX_SECRET_LENGTH:
        problems.setdefault(field, []).append(
            f"The {label} is too long ({len(value)} characters): copy only the value."
        )
    elif not _PRINTABLE.match(value):
        problems.setdefault(field, []).append(
            f"The {label} contains spaces or unusual characters: copy it again without them."
        )


def connection_problems(connection: Connection) -> dict[str, list[str]]:
    """Every rule the connection breaks, by field name (empty when it can be saved).

    The connection holds the effective values (a blank secret in a form already replaced by the
    saved one). Network rules resolve the Store Domain's host name.
    """
    problems: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    name = (connection.name or "").strip()
    if not name:
        add("name", "Enter a name for this connection, for example 'Main store'.")
    elif char := unseen_character(name):
        add("name", unseen_character_message("name", char))
    elif len(name) > 100:
        add("name", f"The name is too long ({len(name)} characters); use at most 100.")
    elif len(connection_name_key(name)) > MAX_NAME_KEY_LENGTH:
        add("name", "The name is too long; use fewer or plainer characters.")
    elif name_taken(name, other_than=connection.pk):
        add("name", name_taken_message(name))

    address = None
    try:
        address = parse_store_domain(connection.store_domain or "")
    except InvalidStoreDomain as error:
        add("store_domain", str(error))
    if address is not None and len(address.display) > 500:
        add("store_domain", "The store address is too long; use at most 500 characters.")

    if address is not None:
        # A name that does not resolve is reported by the verification (DNS failure).
        target = StoreTarget(address, allow_plain_http=connection.allow_plain_http)
        if target.private_refused:
            add("store_domain", f"{target.private} (setting ALLOW_PRIVATE_NETWORK_TARGETS)")
        elif target.plain_http_refused:
            add(
                "allow_plain_http",
                "The Store Domain starts with http://, so the credentials would travel "
                "unencrypted. Use https://, or tick this box to accept the risk.",
            )

    if connection.auth_method not in AuthMethod.values:
        add("auth_method", "Choose Integration Token or Session Authentication.")
    elif connection.auth_method == AuthMethod.INTEGRATION_TOKEN:
        if not connection.access_token:
            add("access_token", "Enter the integration's Access Token.")
        else:
            _check_token_value("access_token", connection.access_token, problems)
        given = [f for f in OAUTH_FIELDS if getattr(connection, f)]
        if given and len(given) < len(OAUTH_FIELDS):
            for field in OAUTH_FIELDS:
                if not getattr(connection, field):
                    add(
                        field,
                        "For OAuth 1.0a enter all four values of the integration (Consumer Key, "
                        "Consumer Secret, Access Token, Access Token Secret), or none of them.",
                    )
        for field in given:
            _check_token_value(field, getattr(connection, field), problems)
    else:
        username = connection.admin_username or ""
        if not username.strip():
            add("admin_username", "Enter the Magento admin user name.")
        elif char := unseen_character(username):
            add("admin_username", unseen_character_message("Admin Username", char))
        elif username != username.strip():
            add("admin_username", "The Admin Username must not start or end with a space.")
        elif len(username) > 255:
            add("admin_username", "The Admin Username is too long; use at most 255 characters.")
        if not connection.admin_password:
            add("admin_password", "Enter the admin user's password.")
        elif len(connection.admin_password) > MAX_SECRET_LENGTH:
            add("admin_password", "The Admin Password is too long.")
        elif char := unseen_character(connection.admin_password):
            add("admin_password", unseen_character_message("Admin Password", char, secret=True))
        if connection.totp_secret:
            problem = totp_secret_problem(connection.totp_secret)
            if problem:
                add("totp_secret", problem)

    code = connection.store_code or ""
    if not code:
        add("store_code", "Enter a store code, or 'all' for every store view.")
    elif len(code) > 32:
        add("store_code", "The store code is too long; Magento store codes have at most 32.")
    else:
        try:
            validate_store_code(code)
        except InvalidStoreDomain as error:
            add("store_code", str(error))

    problem = timeout_problem(connection.timeout_seconds)
    if problem:
        add("timeout_seconds", problem)
    return problems


def connection_validate(connection: Connection) -> None:
    """Raise ValidationError (by field) if the connection breaks a rule."""
    problems = connection_problems(connection)
    if problems:
        raise ValidationError(problems)

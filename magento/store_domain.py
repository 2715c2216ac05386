"""Store Domain parsing: from what a shop owner types to the store's REST base URL.

A shop owner may type `shop.example.com`, `https://shop.example.com/`, a sub-folder install
(`https://example.com/shop`), an address ending in `index.php` (stores without URL rewrites need it
kept), or a local test store (`http://127.0.0.1:8081`). Everything else is refused with a message
that says what is wrong, so the connection form can show it next to the field.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

__all__ = [
    "InvalidStoreDomain",
    "StoreAddress",
    "encode_query",
    "parse_store_domain",
    "validate_store_code",
]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Path segments of a sub-folder install: plain URL characters or percent-escapes only.
_PATH_SEGMENT = re.compile(r"^(?:[A-Za-z0-9._~!$'()*+,;=:@-]|%[0-9A-Fa-f]{2})+$")
# Magento store codes: a letter first, then letters, digits or underscores.
_STORE_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_SCHEME_PREFIX = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# "mailto:x" or "javascript:x": a scheme without "//" (a host:port has digits after the colon).
_OPAQUE_SCHEME = re.compile(r"^(?!localhost:)([A-Za-z][A-Za-z0-9+-]*):(?!\d)")
# Only unreserved characters stay literal, so "+" and spaces can never be misread by the store.
_QUERY_SAFE = "-._~"


class InvalidStoreDomain(ValueError):
    """The Store Domain cannot be used; the message says what is wrong in the shop owner's words."""


@dataclass(frozen=True)
class StoreAddress:
    """Where a Magento store lives: scheme, host, optional port and install sub-folder."""

    scheme: str
    host: str
    port: int | None
    base_path: str = ""

    @property
    def origin(self) -> str:
        """scheme://host[:port], with IPv6 hosts in brackets."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.scheme}://{host}{port}"

    @property
    def display(self) -> str:
        """The normalised Store Domain to show and store, e.g. "https://example.com/shop"."""
        return f"{self.origin}{self.base_path}"

    def rest_root(self, store_code: str | None = "all") -> str:
        """The REST root without the version, e.g. "https://example.com/shop/rest/all"."""
        if store_code is None:
            return f"{self.display}/rest"
        return f"{self.display}/rest/{validate_store_code(store_code)}"

    def rest_base(self, store_code: str | None = "all") -> str:
        """The REST base URL, e.g. "https://shop.example.com/rest/all/V1" (None: no store code)."""
        return f"{self.rest_root(store_code)}/V1"

    def __str__(self) -> str:
        return self.display


def validate_store_code(store_code: str) -> str:
    """Return the store code if Magento could have created it, else raise InvalidStoreDomain."""
    if not isinstance(store_code, str) or not _STORE_CODE.match(store_code):
        raise InvalidStoreDomain(
            f"Store code {store_code!r} is not valid: a store code starts with a letter and "
            "contains only letters, digits and underscores (for example 'default' or 'all')."
        )
    return store_code


def parse_store_domain(text: str) -> StoreAddress:
    """Turn a typed Store Domain into a StoreAddress, or raise InvalidStoreDomain saying why.

    A bare domain means https. Default ports are dropped, a trailing slash is ignored, the host
    is lower-cased (international names are converted to their ASCII form).
    """
    if not isinstance(text, str):
        raise InvalidStoreDomain("Enter the store's address, for example shop.example.com.")
    text = text.strip()
    if not text:
        raise InvalidStoreDomain("Enter the store's address, for example shop.example.com.")
    if any(ch.isspace() for ch in text):
        raise InvalidStoreDomain("The store address must not contain spaces.")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise InvalidStoreDomain("The store address contains control characters.")
    if "\\" in text:
        raise InvalidStoreDomain("The store address must use forward slashes (/), not '\\'.")

    scheme_match = _SCHEME_PREFIX.match(text)
    if scheme_match:
        scheme = scheme_match.group(1).lower()
        if scheme not in _DEFAULT_PORTS:
            raise InvalidStoreDomain(
                f"The store address must start with https:// or http://, not {scheme}://."
            )
    else:
        opaque = _OPAQUE_SCHEME.match(text)
        if opaque and opaque.group(1).lower() not in _DEFAULT_PORTS:
            raise InvalidStoreDomain(
                f"The store address must start with https:// or http://, not {opaque.group(1)}:."
            )
        if text.startswith("//") or text.lower().startswith(("http:", "https:")):
            raise InvalidStoreDomain(
                "The store address is incomplete: write it like https://shop.example.com."
            )
        scheme = "https"
        text = f"https://{text}"

    if "?" in text or "#" in text:
        raise InvalidStoreDomain(
            "The store address must not contain a query (?...) or fragment (#...): "
            "enter only the address of the store, for example https://shop.example.com."
        )
    try:
        parts = urlsplit(text)
    except ValueError:
        raise InvalidStoreDomain("The store address is not a valid web address.") from None
    netloc = parts.netloc
    if "@" in netloc:
        raise InvalidStoreDomain(
            "The store address must not contain a user name or password (user@...): "
            "enter the credentials in their own fields."
        )
    if not netloc:
        raise InvalidStoreDomain("The store address has no host name.")

    host, port = _split_host_port(netloc)
    host = _normalise_host(host)
    if port is not None and port == _DEFAULT_PORTS[scheme]:
        port = None
    base_path = _normalise_base_path(parts.path)
    return StoreAddress(scheme=scheme, host=host, port=port, base_path=base_path)


def _split_host_port(netloc: str) -> tuple[str, int | None]:
    if netloc.startswith("["):
        end = netloc.find("]")
        if end == -1:
            raise InvalidStoreDomain("The IPv6 address in the store address is missing a ']'.")
        host, rest = netloc[1:end], netloc[end + 1 :]
        if not host or "%" in host:
            raise InvalidStoreDomain("The IPv6 address in the store address is not valid.")
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise InvalidStoreDomain(f"'{host}' is not a valid IPv6 address.") from None
        if rest and not rest.startswith(":"):
            raise InvalidStoreDomain("Unexpected characters after the IPv6 address.")
        port_text = rest[1:] if rest else None
    else:
        if netloc.count(":") > 1:
            raise InvalidStoreDomain(
                "Write IPv6 addresses in square brackets, for example http://[2001:db8::1]:8080."
            )
        host, sep, port_text = netloc.partition(":")
        if not sep:
            port_text = None
    return host, _parse_port(port_text)


def _parse_port(port_text: str | None) -> int | None:
    if port_text is None:
        return None
    if not port_text.isascii() or not port_text.isdigit():
        raise InvalidStoreDomain(
            f"The port '{port_text}' is not a number: write it like shop.example.com:8080."
        )
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise InvalidStoreDomain(f"The port {port} is out of range (1 to 65535).")
    return port


def _normalise_host(host: str) -> str:
    if not host:
        raise InvalidStoreDomain("The store address has no host name.")
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        pass
    if ":" in host:
        return host  # an already-validated IPv6 literal
    host = host.rstrip(".") if host.endswith(".") and not host.endswith("..") else host
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidStoreDomain(f"'{host}' is not a valid host name.") from None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise InvalidStoreDomain(
            f"'{host}' is not a valid host name: use letters, digits, hyphens and dots, "
            "for example shop.example.com."
        )
    if labels[-1].isdigit():
        raise InvalidStoreDomain(f"'{host}' is not a valid host name or IP address.")
    return ascii_host


def _normalise_base_path(path: str) -> str:
    segments = [segment for segment in path.split("/") if segment]
    if "//" in path.rstrip("/"):
        raise InvalidStoreDomain("The store address has an empty folder name (//).")
    for position, segment in enumerate(segments):
        if segment in (".", ".."):
            raise InvalidStoreDomain("The store address must not contain '.' or '..' folders.")
        if not _PATH_SEGMENT.match(segment):
            raise InvalidStoreDomain(
                f"The folder name '{segment}' in the store address contains characters that "
                "are not allowed in a web address."
            )
        if segment.lower() == "rest":
            raise InvalidStoreDomain(
                "Enter the store's address without the /rest/... part, for example "
                "https://shop.example.com (the portal adds the REST path itself)."
            )
        if segment.lower() == "index.php" and position != len(segments) - 1:
            raise InvalidStoreDomain(
                "index.php must be the last part of the store address, for example "
                "https://example.com/index.php."
            )
    return "".join(f"/{segment}" for segment in segments)


def encode_query(pairs: list[tuple[str, str]]) -> str:
    """Percent-encode query pairs: spaces as %20 (never "+"), every reserved character escaped.

    The search builder and the transport both use this, so an OAuth-signed URL and the URL
    actually sent are byte-for-byte the same.
    """
    return "&".join(
        f"{quote(str(key), safe=_QUERY_SAFE)}={quote(str(value), safe=_QUERY_SAFE)}"
        for key, value in pairs
    )

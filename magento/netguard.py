"""Outbound safety: the portal only talks to stores on the public internet.

A Store Domain typed into the portal must not become a way to reach the server's own network
(loopback, private ranges, cloud metadata at 169.254.169.254, ...). The check runs on the
address the socket actually connected to, right after connect and before a single byte is sent,
so a name that resolves differently later (DNS rebinding) cannot slip through. Redirects are
never followed by the client, so they cannot lead anywhere either.
"""

from __future__ import annotations

import ipaddress
import socket

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .errors import BlockedAddressError, NameNotFoundError

__all__ = ["GuardedAdapter", "blocked_reason", "check_ip_address", "check_target_host"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Well-known NAT64 prefix: the last 32 bits are the IPv4 host a NAT64 gateway connects to.
_NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")


def blocked_reason(address: str | IPAddress) -> str | None:
    """Why the portal must not connect to this IP address, or None if it is a public address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str) else address)
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address wrapped in IPv6 reaches the same IPv4 host, so judge that host.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            return blocked_reason(embedded)
        if ip.teredo is not None:
            return blocked_reason(ip.teredo[1])
        if ip in _NAT64_PREFIX:
            return blocked_reason(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip.is_loopback:
        return "a loopback address (this server itself)"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_link_local:
        return "a link-local address (such as the cloud metadata service)"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private and not ip.is_reserved:
        return "a private network address"
    if ip.is_reserved or not ip.is_global:
        return "a reserved or non-public address"
    return None


def check_ip_address(address: str | IPAddress, *, host: str | None = None) -> None:
    """Raise BlockedAddressError if the portal must not connect to this IP address."""
    reason = blocked_reason(address)
    if reason is None:
        return
    if host and host != str(address):
        shown = f"{host} leads to {address}, which is"
    else:
        shown = f"{address} is"
    raise BlockedAddressError(
        f"The store address {shown} {reason}. The portal only connects to stores on the "
        "public internet; to connect to a test store on a private network an administrator "
        "must allow private networks for this portal."
    )


def check_target_host(host: str, port: int | None = None) -> None:
    """Resolve `host` and raise BlockedAddressError if any of its addresses is not public.

    Used when a connection is saved; the transport checks again on every connect.
    Raises NameNotFoundError if the name cannot be resolved.
    """
    host = host.strip().strip("[]")
    try:
        check_ip_address(host, host=host)
        return
    except ValueError:
        pass  # not an IP address: a name to resolve
    try:
        answers = socket.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise NameNotFoundError(
            f"The store address {host} could not be found (DNS lookup failed). Check the "
            "Store Domain for typos."
        ) from None
    for _family, _type, _proto, _name, sockaddr in answers:
        check_ip_address(sockaddr[0], host=host)


def _check_connected_socket(sock: socket.socket, host: str) -> None:
    try:
        peer = sock.getpeername()[0]
        check_ip_address(peer, host=host)
    except BlockedAddressError:
        sock.close()
        raise


class _CheckedPeer:
    """Connection mixin: the peer is checked right after connect, before a byte is sent."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _check_connected_socket(sock, self.host)
        return sock


class _GuardedHTTPConnection(_CheckedPeer, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_CheckedPeer, HTTPSConnection):
    pass


class _GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections refuse non-public peers (checked after connect)."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPConnectionPool,
            "https": _GuardedHTTPSConnectionPool,
        }

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        # Through a proxy the peer is the proxy, so the store's real address could not be checked.
        raise BlockedAddressError(
            "Connections through an HTTP proxy are not allowed while outbound safety is on."
        )

"""Fixtures for the connections tests: a fake DNS, loopback-only sockets, saved connections."""

from __future__ import annotations

import socket

import pytest

from connections.models import AuthMethod, Connection, ConnectionStatus
from tests.connections.helpers import FAKE_DNS, SECRETS, token_fields


@pytest.fixture(autouse=True)
def fake_dns(monkeypatch):
    """Resolve the test host names without the network; IP literals resolve to themselves."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name in FAKE_DNS:
            infos = []
            for address in FAKE_DNS[name]:
                family = socket.AF_INET6 if ":" in address else socket.AF_INET
                sockaddr = (address, port or 0, 0, 0) if ":" in address else (address, port or 0)
                infos.append((family, socket.SOCK_STREAM, 6, "", sockaddr))
            return infos
        try:
            import ipaddress

            ipaddress.ip_address(name)
        except ValueError:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return FAKE_DNS


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Tests never reach the real network: sockets may only connect to this machine."""
    import ipaddress

    real_connect = socket.socket.connect

    def connect(self, address):
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and not ipaddress.ip_address(host.split("%")[0]).is_loopback:
            raise OSError(f"test tried to connect to {host}; only loopback is allowed")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def make_connection(db):
    """Save a connection directly (no verification), for tests about existing connections."""

    def make(**fields) -> Connection:
        values = token_fields()
        values.update(fields)
        values.setdefault("status", ConnectionStatus.VERIFIED)
        if values["auth_method"] == AuthMethod.SESSION:
            values.pop("access_token", None)
            values.setdefault("admin_username", "portal-bot")
            values.setdefault("admin_password", SECRETS["admin_password"])
        values["store_domain"] = (
            values["store_domain"]
            if values["store_domain"].startswith("http")
            else f"https://{values['store_domain']}"
        )
        return Connection.objects.create(**values)

    return make

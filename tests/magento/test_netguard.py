"""Outbound safety: only public addresses, judged on the socket really connected (real sockets)."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from magento import (
    BlockedAddressError,
    MagentoClient,
    TransportError,
    UnexpectedResponseError,
    check_target_host,
)
from magento.netguard import blocked_reason
from tests.helpers import no_sleep

REAL_GETADDRINFO = socket.getaddrinfo


class TinyStore:
    """A one-route HTTP server on 127.0.0.1 that counts the requests it receives."""

    def __init__(self, redirect_to=None):
        self.requests = []
        store = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                store.requests.append((self.path, dict(self.headers)))
                if redirect_to:
                    self.send_response(302)
                    self.send_header("Location", redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = json.dumps([{"code": "default"}]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def tiny_store():
    with TinyStore() as store:
        yield store


def fake_dns(monkeypatch, answers):
    """Resolve every name except real IP literals to the next list of addresses in `answers`."""
    queue = list(answers)

    def getaddrinfo(host, port, *args, **kwargs):
        if host in ("127.0.0.1", "::1"):
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.20", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "link-local"),
        ("169.254.0.1", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("100.64.0.1", "non-public"),
        ("192.0.2.10", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:7f00:1::", "loopback"),
        ("64:ff9b::a9fe:a9fe", "link-local"),
    ],
)
def test_internal_addresses_are_blocked(address, kind):
    assert kind in blocked_reason(address)
    with pytest.raises(BlockedAddressError) as blocked:
        check_target_host(address)
    assert kind in str(blocked.value)
    assert isinstance(blocked.value, TransportError)


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "93.184.216.34",
        "172.32.0.1",
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
    ],
)
def test_public_addresses_pass(address):
    assert blocked_reason(address) is None
    check_target_host(address)


def test_bracketed_ipv6_literal_is_checked():
    with pytest.raises(BlockedAddressError):
        check_target_host("[::1]")


def test_localhost_name_is_blocked():
    with pytest.raises(BlockedAddressError, match="localhost leads to"):
        check_target_host("localhost")


def test_name_with_any_internal_address_is_blocked(monkeypatch):
    fake_dns(monkeypatch, [["93.184.216.34", "10.0.0.5"]])
    with pytest.raises(BlockedAddressError, match=r"10\.0\.0\.5"):
        check_target_host("shop.example.test")


def test_name_with_only_public_addresses_passes(monkeypatch):
    fake_dns(monkeypatch, [["93.184.216.34"]])
    check_target_host("shop.example.test")


def test_unresolvable_name_is_a_transport_error(monkeypatch):
    def fail(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(TransportError, match="could not be found") as caught:
        check_target_host("no-such-shop.example.test")
    assert not isinstance(caught.value, BlockedAddressError)


# -- on real sockets -------------------------------------------------------------------------------


def test_loopback_store_is_refused_before_anything_is_sent(tiny_store):
    client = MagentoClient(f"http://127.0.0.1:{tiny_store.port}", None, sleep=no_sleep)
    with pytest.raises(BlockedAddressError) as blocked:
        client.request("GET", "/V1/store/storeConfigs")
    assert "127.0.0.1" in str(blocked.value)
    assert (blocked.value.method, blocked.value.path) == ("GET", "/V1/store/storeConfigs")
    assert tiny_store.requests == []


def test_https_to_a_loopback_address_is_refused_before_the_tls_handshake(tiny_store):
    client = MagentoClient(f"https://127.0.0.1:{tiny_store.port}", None, sleep=no_sleep)
    with pytest.raises(BlockedAddressError):
        client.request("GET", "/V1/store/storeConfigs")
    assert tiny_store.requests == []


def test_name_resolving_to_loopback_is_refused(tiny_store):
    client = MagentoClient(f"http://localhost:{tiny_store.port}", None, sleep=no_sleep)
    with pytest.raises(BlockedAddressError, match="loopback"):
        client.request("GET", "/V1/store/storeConfigs")
    assert tiny_store.requests == []


def test_dns_rebinding_after_the_check_cannot_get_through(tiny_store, monkeypatch):
    # The name looks public when the connection is saved, then resolves to loopback at connect.
    fake_dns(monkeypatch, [["93.184.216.34"], ["127.0.0.1"]])
    check_target_host("shop.example.test")
    client = MagentoClient(f"http://shop.example.test:{tiny_store.port}", None, sleep=no_sleep)
    with pytest.raises(BlockedAddressError, match=r"shop\.example\.test leads to 127\.0\.0\.1"):
        client.request("GET", "/V1/store/storeConfigs")
    assert tiny_store.requests == []


def test_allowing_private_networks_lets_a_local_test_store_through(tiny_store):
    client = MagentoClient(
        f"http://127.0.0.1:{tiny_store.port}", None, allow_private_network=True, sleep=no_sleep
    )
    with client:
        assert client.request("GET", "/V1/store/storeConfigs") == [{"code": "default"}]
    assert [path for path, _ in tiny_store.requests] == ["/rest/all/V1/store/storeConfigs"]
    assert tiny_store.requests[0][1]["User-Agent"].startswith("Magento2AutomationPortal/")


def test_redirect_to_a_private_address_is_not_followed(tiny_store):
    with TinyStore(redirect_to=f"http://127.0.0.1:{tiny_store.port}/internal") as redirecting:
        client = MagentoClient(
            f"http://127.0.0.1:{redirecting.port}", None, allow_private_network=True, sleep=no_sleep
        )
        with pytest.raises(UnexpectedResponseError, match="redirected"):
            client.request("GET", "/V1/store/storeConfigs")
        assert len(redirecting.requests) == 1
    assert tiny_store.requests == []


def test_proxies_are_refused_while_outbound_safety_is_on(tiny_store):
    client = MagentoClient("http://shop.example.test", None, sleep=no_sleep)
    client._session.proxies = {"http": f"http://127.0.0.1:{tiny_store.port}"}
    with pytest.raises(BlockedAddressError, match="proxy"):
        client.request("GET", "/V1/store/storeConfigs")
    assert tiny_store.requests == []

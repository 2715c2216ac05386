"""Store Domains that are, or resolve to, non-public addresses are refused (save and connect)."""

from __future__ import annotations

import pytest
import responses

from connections import diagnosis as dx
from connections.forms import ConnectionForm
from connections.models import Connection
from connections.verification import connection_check
from tests.connections.helpers import REST, SECRETS

pytestmark = pytest.mark.django_db

REFUSED = [
    ("localhost", "localhost"),
    ("loopback", "127.0.0.1"),
    ("loopback-range", "127.1.2.3"),
    ("ipv6-loopback", "https://[::1]"),
    ("ipv4-mapped-loopback", "https://[::ffff:127.0.0.1]"),
    ("ten", "10.0.0.1"),
    ("172-16", "172.16.0.1"),
    ("172-31", "172.31.255.254"),
    ("192-168", "192.168.1.1"),
    ("cloud-metadata", "169.254.169.254"),
    ("unspecified", "0.0.0.0"),
    ("name-to-loopback", "rebind.example.com"),
    ("name-to-private", "internal.example.com"),
    ("name-to-metadata", "metadata.example.com"),
    ("one-private-answer-of-two", "mixed.example.com"),
]


def form(store_domain: str) -> ConnectionForm:
    return ConnectionForm(
        data={
            "name": "Shop",
            "store_domain": store_domain,
            "auth_method": "integration_token",
            "access_token": SECRETS["access_token"],
            "store_code": "all",
            "timeout_seconds": "30",
            "verify_tls": "on",
            "allow_plain_http": "on",
        }
    )


@pytest.mark.parametrize("store_domain", [c[1] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused_when_saving(store_domain):
    bound = form(store_domain)
    assert not bound.is_valid()
    message = " ".join(bound.errors["store_domain"])
    assert "ALLOW_PRIVATE_NETWORK_TARGETS" in message
    assert bound.verification is None


@pytest.mark.parametrize("store_domain", [c[1] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused_when_connecting(store_domain, store_mock):
    connection = Connection(
        name="Shop",
        store_domain=store_domain,
        auth_method="integration_token",
        access_token=SECRETS["access_token"],
    )
    # The strict mock has nothing registered: any request would fail the test.
    diagnosis = connection_check(connection=connection).diagnosis
    assert not store_mock.calls
    assert diagnosis.code == dx.PRIVATE_ADDRESS
    assert diagnosis.guide_url == "/connections/guide/#private-network"


@pytest.mark.parametrize("store_domain", ["127.0.0.1", "rebind.example.com", "10.0.0.1"])
def test_setting_lifts_the_refusal(store_domain, settings):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
    bound = form(store_domain)
    bound.is_valid()
    # Validation passed and the store was called (verification only runs on valid values).
    assert bound.verification is not None, bound.errors
    assert bound.verification.diagnosis.code != dx.PRIVATE_ADDRESS


def test_public_neighbours_of_private_ranges_are_fine(store_mock):
    # Valid forms go on to verify; the strict mock (nothing registered) answers instead.
    for store_domain in ("172.32.0.1", "11.0.0.1", "192.169.0.1"):
        bound = form(f"https://{store_domain}")
        bound.is_valid()
        assert bound.verification is not None, (store_domain, bound.errors)
        assert bound.verification.diagnosis.code != dx.PRIVATE_ADDRESS


def test_redirect_to_a_private_address_is_not_followed(store_mock):
    store_mock.add(
        responses.GET,
        f"{REST}/V1/store/storeConfigs",
        status=302,
        headers={"Location": "http://169.254.169.254/latest/meta-data/"},
    )
    connection = Connection(
        name="Shop",
        store_domain="https://shop.example.com",
        auth_method="integration_token",
        access_token=SECRETS["access_token"],
    )
    diagnosis = connection_check(connection=connection).diagnosis
    assert diagnosis.code == dx.REDIRECTED
    assert "169.254.169.254" in diagnosis.explanation
    assert len(store_mock.calls) == 1


def test_redirect_to_the_metadata_address_over_real_http(settings):
    """A real server on 127.0.0.1 answers with a redirect: the client does not follow it."""
    import http.server
    import threading

    requests_seen: list[str] = []

    class Redirecting(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests_seen.append(self.path)
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    # A short poll interval: shutdown() waits for one, and the default is half a second.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True  # only to reach this test server
    try:
        connection = Connection(
            name="Shop",
            store_domain=f"http://127.0.0.1:{server.server_address[1]}",
            auth_method="integration_token",
            access_token=SECRETS["access_token"],
        )
        diagnosis = connection_check(connection=connection).diagnosis
    finally:
        server.shutdown()
        server.server_close()
    assert diagnosis.code == dx.REDIRECTED
    assert "169.254.169.254" in diagnosis.explanation
    assert requests_seen == ["/rest/V1/store/storeConfigs"]

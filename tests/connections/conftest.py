"""Fixtures for the connections tests: a fake DNS, a strict Magento mock, connection factories."""

from __future__ import annotations

import socket

import pytest
import responses

from connections.models import AuthMethod, Connection, ConnectionStatus

# The sandbox store fixtures, for the end-to-end tests over real HTTP.
from tests.magento.sandbox.fixtures import sandbox_factory, sandbox_store  # noqa: F401

STORE = "https://shop.example.com"
REST = f"{STORE}/rest"
PUBLIC_IP = "93.184.215.14"

# Host names the tests use and what they "resolve" to; anything else does not resolve.
FAKE_DNS = {
    "shop.example.com": [PUBLIC_IP],
    "other.example.com": [PUBLIC_IP],
    "plain.example.com": [PUBLIC_IP],
    "localhost": ["127.0.0.1", "::1"],
    "rebind.example.com": ["127.0.0.1"],
    "internal.example.com": ["10.1.2.3"],
    "mixed.example.com": [PUBLIC_IP, "192.168.1.20"],
    "metadata.example.com": ["169.254.169.254"],
}

# Every secret value the tests use: none of them may ever appear in output.
SECRETS = {
    "access_token": "tok3nAAAAbbbbCCCCddddEEEEffff01",
    "consumer_key": "ck00AAAAbbbbCCCCddddEEEEffff02",
    "consumer_secret": "cs00AAAAbbbbCCCCddddEEEEffff03",
    "access_token_secret": "ats0AAAAbbbbCCCCddddEEEEffff04",
    "admin_password": "Adm1n-Pa55word-xyz!",
    "totp_secret": "JBSWY3DPEHPK3PXPJBSWY3DP",
}
ADMIN_TOKEN = "5r8cvmpr11j6gmau8990rcj2qk7unh8i"


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
def store_mock():
    """A strict responses mock: every registered answer must be used, nothing else is called."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def store_configs(*codes: str, base: str = STORE) -> list[dict]:
    """A storeConfigs answer (fields as in Magento's store-data-store-config-interface)."""
    configs = []
    for index, code in enumerate(codes or ("default",), start=1):
        configs.append(
            {
                "id": index,
                "code": code,
                "website_id": 1,
                "locale": "en_US",
                "base_currency_code": "EUR",
                "default_display_currency_code": "EUR",
                "timezone": "Europe/Berlin",
                "weight_unit": "kgs",
                "base_url": f"{base}/",
                "base_link_url": f"{base}/",
                "base_static_url": f"{base}/static/",
                "base_media_url": f"{base}/media/",
                "secure_base_url": f"{base}/",
                "secure_base_link_url": f"{base}/",
                "secure_base_static_url": f"{base}/static/",
                "secure_base_media_url": f"{base}/media/",
            }
        )
    return configs


def empty_search() -> dict:
    return {"items": [], "search_criteria": {"filter_groups": [], "page_size": 1}, "total_count": 0}


# The permission probes after storeConfigs, as "METHOD path"; a plain path means GET.
PROBES = (
    "GET /V1/customers/search",
    "GET /V1/customers/0/confirm",
    "GET /V1/products",
    "POST /V1/products",
    "GET /V1/orders",
    "POST /V1/order/0/ship",
    "GET /V1/shipment/0",
)
PROBE_PATHS = tuple(probe.split(" ", 1)[1] for probe in PROBES)
# Probes of records that cannot exist, or of writes without their input: Magento answers them
# only after the permission check, so its refusal means allowed.
NO_SUCH_SHIPMENT = (
    404,
    {"message": "The entity that was requested doesn't exist. Verify the entity and try again."},
)
ALLOWED_REFUSALS = {
    "GET /V1/customers/0/confirm": (
        404,
        {
            "message": "No such entity with %fieldName = %fieldValue",
            "parameters": {"fieldName": "customerId", "fieldValue": 0},
        },
    ),
    "POST /V1/products": (
        400,
        {
            "message": '"%fieldName" is required. Enter and try again.',
            "parameters": {"fieldName": "product"},
        },
    ),
    "POST /V1/order/0/ship": (400, {"message": "An ID is needed. Set the ID and try again."}),
    "GET /V1/shipment/0": NO_SUCH_SHIPMENT,
}


def add_store_configs(mock, *, status=200, body=None, codes=("default",)):
    mock.add(
        responses.GET,
        f"{REST}/V1/store/storeConfigs",
        json=store_configs(*codes) if body is None else body,
        status=status,
    )


def add_probes(mock, *, store_code="all", answers=None):
    """Register the permission probes; `answers` maps a probe ("POST /V1/products", or a path
    alone for GET) to (status, body)."""
    answers = {(k if " " in k else f"GET {k}"): v for k, v in (answers or {}).items()}
    for probe in PROBES:
        method, path = probe.split(" ", 1)
        default = ALLOWED_REFUSALS.get(probe, (200, empty_search()))
        status, body = answers.get(probe, default)
        mock.add(method, f"{REST}/{store_code}{path}", json=body, status=status)


def refuse_everything(mock):
    """Every check answered with Magento's generic 401 (a refused token, or Bearer tokens off)."""
    status, body = load_error_unauthorized()
    add_store_configs(mock, status=status, body=body)
    add_probes(mock, answers=dict.fromkeys(PROBES, (status, body)))


def healthy_store(mock, *, store_code="all", codes=("default",)):
    add_store_configs(mock, codes=codes)
    add_probes(mock, store_code=store_code)


def token_fields(**extra) -> dict:
    fields = {
        "name": "Main store",
        "store_domain": "shop.example.com",
        "auth_method": AuthMethod.INTEGRATION_TOKEN,
        "access_token": SECRETS["access_token"],
    }
    fields.update(extra)
    return fields


def oauth_fields(**extra) -> dict:
    fields = token_fields(
        consumer_key=SECRETS["consumer_key"],
        consumer_secret=SECRETS["consumer_secret"],
        access_token_secret=SECRETS["access_token_secret"],
    )
    fields.update(extra)
    return fields


def session_fields(**extra) -> dict:
    fields = {
        "name": "Main store",
        "store_domain": "shop.example.com",
        "auth_method": AuthMethod.SESSION,
        "admin_username": "portal-bot",
        "admin_password": SECRETS["admin_password"],
    }
    fields.update(extra)
    return fields


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


def assert_no_secret(text: str) -> None:
    """Fail if any test secret (or the admin token) appears in text."""
    for name, value in {**SECRETS, "admin_token": ADMIN_TOKEN}.items():
        assert value not in text, f"{name} leaked"


def load_error_unauthorized() -> tuple[int, dict]:
    """Magento's generic 401 (what a refused token, missing ACL or disabled Bearer all give)."""
    from tests.shared_data import load_error

    return load_error("unauthorized_consumer")

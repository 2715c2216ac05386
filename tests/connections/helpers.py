"""Helpers for the connections tests: test host names and secrets, canned Magento answers, form
values. The fixtures that use them are in conftest.py."""

from __future__ import annotations

import responses
from django.urls import reverse

from connections.models import AuthMethod
from tests.helpers import STORE, store_configs
from tests.shared_data import load_error

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


def assert_no_secret(text: str) -> None:
    """Fail if any test secret (or the admin token) appears in text."""
    for name, value in {**SECRETS, "admin_token": ADMIN_TOKEN}.items():
        assert value not in text, f"{name} leaked"


def load_error_unauthorized() -> tuple[int, dict]:
    """Magento's generic 401 (what a refused token, missing ACL or disabled Bearer all give)."""
    return load_error("unauthorized_consumer")


# The admin's connection pages and the values its form posts.
ADD_URL = reverse("admin:connections_connection_add")
LIST_URL = reverse("admin:connections_connection_changelist")


def change_url(connection):
    return reverse("admin:connections_connection_change", args=[connection.pk])


def form_data(**extra):
    data = {
        "name": "Main store",
        "store_domain": "shop.example.com",
        "auth_method": "integration_token",
        "access_token": SECRETS["access_token"],
        "consumer_key": "",
        "consumer_secret": "",
        "access_token_secret": "",
        "admin_username": "",
        "admin_password": "",
        "totp_secret": "",
        "store_code": "all",
        "verify_tls": "on",
        "timeout_seconds": "30",
        "_save": "Save",
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}

"""Every fault kind on every endpoint: it hits the next N requests of that endpoint only."""

from __future__ import annotations

import itertools
import re

import pyotp
import pytest
import requests

from magento.sandbox import FAULT_KINDS
from tests.magento.sandbox.helpers import oauth, rest

TIMES = 2
_numbers = itertools.count(1)


def _customer(server):
    return server.store.customer_get(server.store.customers.ids[0])


def _sku(server):
    return server.store.products.rows[server.store.products.ids[0]]["sku"]


def _order_id(server):
    return server.store.orders.ids[0]


def _shippable_order(server):
    return server.store.order_create(customer_id=None, state="processing")["entity_id"]


def _otp(server):
    return pyotp.TOTP(server.credentials.totp_secret).at(server.store.clock())


def _admin(server):
    c = server.credentials
    return {"username": c.admin_username, "password": c.admin_password}


def _customer_body(server):
    email = f"fault{next(_numbers)}@example.com"
    return {"customer": {"email": email, "firstname": "F", "lastname": "L"}}


# name, method, the path pattern a fault names, a fresh (path, body) for each request (so a
# repeated write is valid too), the normal status, and whether the route reads a token.
ENDPOINTS = [
    (
        "admin token",
        "POST",
        "/V1/integration/admin/token",
        lambda s: ("/V1/integration/admin/token", _admin(s)),
        400,  # two-factor is on: "use the 2fa provider-specific endpoints"
        False,
    ),
    (
        "2FA google",
        "POST",
        "/V1/tfa/provider/google/authenticate",
        lambda s: ("/V1/tfa/provider/google/authenticate", {**_admin(s), "otp": _otp(s)}),
        200,
        False,
    ),
    (
        "storeConfigs",
        "GET",
        "/V1/store/storeConfigs",
        lambda s: ("/V1/store/storeConfigs", None),
        200,
        True,
    ),
    (
        "storeViews",
        "GET",
        "/V1/store/storeViews",
        lambda s: ("/V1/store/storeViews", None),
        200,
        True,
    ),
    (
        "customer search",
        "GET",
        "/V1/customers/search",
        lambda s: ("/V1/customers/search?searchCriteria[pageSize]=5", None),
        200,
        True,
    ),
    (
        "customer get",
        "GET",
        "/V1/customers/[0-9]*",
        lambda s: (f"/V1/customers/{_customer(s)['id']}", None),
        200,
        True,
    ),
    (
        "customer create",
        "POST",
        "/V1/customers",
        lambda s: ("/V1/customers", _customer_body(s)),
        200,
        False,
    ),
    (
        "customer update",
        "PUT",
        "/V1/customers/*",
        lambda s: (f"/V1/customers/{_customer(s)['id']}", {"customer": _customer(s)}),
        200,
        True,
    ),
    (
        "product search",
        "GET",
        "/V1/products",
        lambda s: ("/V1/products?searchCriteria[pageSize]=5", None),
        200,
        True,
    ),
    (
        "product get",
        "GET",
        "/V1/products/*",
        lambda s: (f"/V1/products/{_sku(s)}", None),
        200,
        True,
    ),
    (
        "product create",
        "POST",
        "/V1/products",
        lambda s: (
            "/V1/products",
            {"product": {"sku": f"F-{next(_numbers)}", "name": "F", "price": 3}},
        ),
        200,
        True,
    ),
    (
        "product update",
        "PUT",
        "/V1/products/*",
        lambda s: (f"/V1/products/{_sku(s)}", {"product": {"price": 9}}),
        200,
        True,
    ),
    (
        "order search",
        "GET",
        "/V1/orders",
        lambda s: ("/V1/orders?searchCriteria[pageSize]=5", None),
        200,
        True,
    ),
    (
        "order get",
        "GET",
        "/V1/orders/*",
        lambda s: (f"/V1/orders/{_order_id(s)}", None),
        200,
        True,
    ),
    (
        "ship",
        "POST",
        "/V1/order/*/ship",
        lambda s: (f"/V1/order/{_shippable_order(s)}/ship", {}),
        200,
        True,
    ),
    ("shipment get", "GET", "/V1/shipment/*", lambda s: ("/V1/shipment/1", None), 200, True),
    (
        "shipment search",
        "GET",
        "/V1/shipments",
        lambda s: ("/V1/shipments?searchCriteria[pageSize]=5", None),
        200,
        True,
    ),
    (
        "attribute sets",
        "GET",
        "/V1/products/attribute-sets/sets/list",
        lambda s: ("/V1/products/attribute-sets/sets/list?searchCriteria[pageSize]=5", None),
        200,
        True,
    ),
]


def _send(server, method, path, body):
    return requests.request(
        method,
        rest(server, path),
        json=body,
        auth=oauth(server),
        timeout=5,
        allow_redirects=False,  # a redirect fault's answer is what is checked
    )


def _fault_problem(kind, send, normal_status, server, sleeps_before):
    """What is wrong with one faulted request, or None."""
    if kind in ("drop_connection", "apply_then_drop"):
        try:
            response = send()
        except requests.ConnectionError:
            return None
        return f"answered {response.status_code} instead of dropping the connection"
    response = send()
    if kind == "repeat_answer":
        # Nothing answered this route before (or it is no search): answered normally.
        if response.status_code != normal_status:
            return f"repeat_answer changed a first answer to {response.status_code}"
        return None
    if kind == "latency":
        if response.status_code != normal_status:
            return f"latency changed the answer to {response.status_code}"
        if server.sleep.calls[sleeps_before:] != [1.5]:
            return f"slept {server.sleep.calls[sleeps_before:]}"
        return None
    expected = {
        "rate_limit": 429,
        "server_error": 500,
        "maintenance": 503,
        "malformed_json": 200,
        "expired_token": 401,
        "redirect": 301,
        "firewall": 403,
    }[kind]
    if response.status_code != expected:
        return f"answered {response.status_code}, not {expected}"
    if kind == "rate_limit" and (
        response.headers.get("Retry-After") != "4"
        or response.json() != {"message": "Too Many Requests", "trace": None}
    ):
        return f"429 without Retry-After or with body {response.text}"
    if kind == "server_error" and not re.fullmatch(
        r"Internal Error\. Details are available in Magento log file\. Report ID: "
        r"webapi-[0-9a-f]{13}",
        response.json()["message"],
    ):
        return f"500 body {response.text}"
    if kind == "maintenance" and "Error 503: Service Unavailable" not in response.text:
        return "503 is not the maintenance page"
    if kind == "malformed_json":
        try:
            response.json()
        except ValueError:
            return None
        return "body was valid JSON"
    if kind == "redirect" and response.headers.get("Location") != (
        "https://" + response.request.url.removeprefix("http://")
    ):
        return f"301 to {response.headers.get('Location')}"
    if kind == "firewall" and "<title>Access denied</title>" not in response.text:
        return "403 is not the firewall page"
    if kind == "expired_token" and response.json()["message"] != (
        "The consumer isn't authorized to access %resources."
    ):
        return f"401 body {response.text}"
    return None


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_each_fault_hits_the_next_n_requests_of_one_endpoint_only(sandbox_factory, kind):
    server = sandbox_factory(seed={"customers": 2, "products": 2, "orders": 2})
    server.bearer_enabled = False
    server.store.order_ship(server.store.order_create(state="processing")["entity_id"])
    problems = []
    for name, method, pattern, request_of, normal_status, checks_token in ENDPOINTS:
        if kind == "expired_token" and not checks_token:
            continue  # sign-in routes never read a token: see the next test
        server.faults.add(
            kind, method=method, path=pattern, times=TIMES, seconds=1.5, retry_after=4
        )

        def send(method=method, request_of=request_of):
            return _send(server, method, *request_of(server))

        for attempt in range(TIMES):
            problem = _fault_problem(kind, send, normal_status, server, len(server.sleep.calls))
            if problem:
                problems.append(f"{name} #{attempt + 1}: {problem}")
            # Another endpoint in between is untouched and does not use up the fault.
            other = "/V1/store/storeViews" if name != "storeViews" else "/V1/store/storeConfigs"
            if _send(server, "GET", other, None).status_code != 200:
                problems.append(f"{name}: the fault leaked to {other}")
        after = send()
        if after.status_code != normal_status:
            problems.append(f"{name}: request {TIMES + 1} answered {after.status_code}")
        if server.faults.pending():
            problems.append(f"{name}: faults left over {server.faults.pending()}")

    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "method, path",
    [("POST", "/V1/integration/admin/token"), ("POST", "/V1/customers"), ("GET", "/V1/nothing")],
)
def test_token_fault_never_hits_a_route_that_reads_no_token(sandbox_store, method, path):
    sandbox_store.faults.add("expired_token", path=path)

    response = requests.request(method, rest(sandbox_store, path), json={})

    assert response.status_code in (400, 404)
    assert "authorized" not in response.text
    assert [fault.kind for fault in sandbox_store.faults.pending()] == ["expired_token"]

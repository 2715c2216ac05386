"""The ACL resource each route demands, as declared in Magento 2.4's etc/webapi.xml files:
app/code/Magento/{Store,Customer,Catalog,Sales}/etc/webapi.xml and security-package's
TwoFactorAuth/etc/webapi.xml (checked by reading them, not copied from the sandbox)."""

from __future__ import annotations

import pytest
import requests

from magento.sandbox import ALL_RESOURCES, DEFAULT_GRANTS, acl_selection
from tests.magento.sandbox.helpers import bearer, rest

NOT_AUTHORIZED = "The consumer isn't authorized to access %resources."

ROUTES = [
    ("GET", "/V1/store/storeConfigs", "Magento_Backend::store"),
    ("GET", "/V1/store/storeViews", "Magento_Backend::store"),
    ("GET", "/V1/customers/search?searchCriteria[pageSize]=5", "Magento_Customer::customer"),
    ("GET", "/V1/customers/1", "Magento_Customer::customer"),
    ("GET", "/V1/customers/1/confirm", "Magento_Customer::manage"),
    ("PUT", "/V1/customers/1", "Magento_Customer::manage"),
    ("GET", "/V1/products?searchCriteria[pageSize]=5", "Magento_Catalog::products"),
    ("GET", "/V1/products/{sku}", "Magento_Catalog::products"),
    ("POST", "/V1/products", "Magento_Catalog::products"),
    ("PUT", "/V1/products/{sku}", "Magento_Catalog::products"),
    ("GET", "/V1/orders?searchCriteria[pageSize]=5", "Magento_Sales::actions_view"),
    ("GET", "/V1/orders/1", "Magento_Sales::actions_view"),
    ("POST", "/V1/order/1/ship", "Magento_Sales::ship"),
    ("GET", "/V1/shipment/1", "Magento_Sales::shipment"),
]
ANONYMOUS = [
    ("POST", "/V1/integration/admin/token"),
    ("POST", "/V1/tfa/provider/google/authenticate"),
    ("POST", "/V1/customers"),
]


def _call(server, method, path):
    sku = server.store.products.rows[server.store.products.ids[0]]["sku"]
    return requests.request(
        method,
        rest(server, path.replace("{sku}", sku)),
        json={} if method != "GET" else None,
        headers=bearer(server.credentials.access_token),
        timeout=5,
    )


@pytest.mark.parametrize(("method", "path", "resource"), ROUTES)
def test_each_route_demands_its_magento_acl_resource(sandbox_factory, method, path, resource):
    without = sandbox_factory(bearer_enabled=True, granted_resources=set())
    granted = sandbox_factory(bearer_enabled=True, granted_resources={resource})

    refused = _call(without, method, path)
    allowed = _call(granted, method, path)

    assert (refused.status_code, refused.json()) == (
        401,
        {"message": NOT_AUTHORIZED, "parameters": {"resources": resource}},
    )
    assert allowed.status_code != 401, allowed.text


@pytest.mark.parametrize(("method", "path"), ANONYMOUS)
def test_anonymous_routes_need_no_grant(sandbox_factory, method, path):
    server = sandbox_factory(granted_resources=set())

    response = requests.request(method, rest(server, path), json={}, timeout=5)

    assert response.status_code == 400  # a missing input, never the 401


def test_a_ticked_parent_does_not_grant_an_unticked_child(sandbox_factory):
    """Magento saves an allow or deny rule for every resource of a custom selection."""
    server = sandbox_factory(
        bearer_enabled=True, granted_resources=DEFAULT_GRANTS - {"Magento_Customer::manage"}
    )

    read = _call(server, "GET", "/V1/customers/1")
    update = _call(server, "PUT", "/V1/customers/1")

    assert read.status_code == 200
    assert update.status_code == 401
    assert update.json()["parameters"] == {"resources": "Magento_Customer::manage"}


def test_default_grants_are_what_ticking_the_four_areas_saves():
    assert acl_selection("Magento_Sales::sales") <= DEFAULT_GRANTS
    assert {
        "Magento_Customer::manage",
        "Magento_Catalog::products",
        "Magento_Sales::ship",
        "Magento_Backend::store",
    } <= DEFAULT_GRANTS
    assert ALL_RESOURCES not in DEFAULT_GRANTS

"""Request bodies read the way Magento reads them, on every write endpoint: unknown keys inside
an entity are refused, unknown top-level keys ignored, numeric strings accepted, and a missing
required parameter named."""

from __future__ import annotations

import itertools

import pytest
import requests

from tests.magento.sandbox.helpers import oauth, rest

NOT_SUPPORTED = '"%fieldName" is not supported. Correct the field name and try again.'
REQUIRED = '"%fieldName" is required. Enter and try again.'
_numbers = itertools.count(1)


def _new_customer(_server):
    return {"email": f"body{next(_numbers)}@example.com", "firstname": "A", "lastname": "B"}


def _stored_customer(server):
    return server.store.customer_get(server.store.customers.ids[0])


def _sku(server):
    return server.store.products.rows[server.store.products.ids[0]]["sku"]


def _shippable(server):
    return server.store.order_create(customer_id=None, state="processing")


# name, method, path, the entity parameter, a valid entity, where a numeric string goes.
WRITES = {
    "customer create": (
        "POST",
        lambda s: "/V1/customers",
        "customer",
        _new_customer,
        ("group_id", "2", 2),
    ),
    "customer update": (
        "PUT",
        lambda s: f"/V1/customers/{s.store.customers.ids[0]}",
        "customer",
        _stored_customer,
        ("group_id", "3", 3),
    ),
    "product create": (
        "POST",
        lambda s: "/V1/products",
        "product",
        lambda s: {"sku": f"B-{next(_numbers)}", "name": "Body", "price": 4},
        ("price", "7.25", 7.25),
    ),
    "product update": (
        "PUT",
        lambda s: f"/V1/products/{_sku(s)}",
        "product",
        lambda s: {"sku": _sku(s)},
        ("weight", "1.5", 1.5),
    ),
}


def _send(server, method, path, body):
    return requests.request(method, rest(server, path), json=body, auth=oauth(server), timeout=5)


@pytest.mark.parametrize("write", WRITES)
def test_unknown_key_inside_the_entity_is_not_supported(sandbox_store, write):
    method, path_of, parameter, entity_of, _ = WRITES[write]
    entity = entity_of(sandbox_store) | {"loyalty_level": "gold"}

    response = _send(sandbox_store, method, path_of(sandbox_store), {parameter: entity})

    assert response.status_code == 400
    assert response.json() == {
        "message": NOT_SUPPORTED,
        "parameters": {"fieldName": "LoyaltyLevel"},
    }


@pytest.mark.parametrize("write", WRITES)
def test_unknown_top_level_keys_are_ignored_and_numeric_strings_read_as_numbers(
    sandbox_store, write
):
    method, path_of, parameter, entity_of, (field, text, number) = WRITES[write]
    entity = entity_of(sandbox_store) | {field: text}

    response = _send(
        sandbox_store, method, path_of(sandbox_store), {parameter: entity, "loyaltyLevel": "gold"}
    )

    assert response.status_code == 200, response.text
    assert response.json()[field] == number


@pytest.mark.parametrize("write", WRITES)
def test_missing_entity_parameter_is_required(sandbox_store, write):
    method, path_of, parameter, _, _ = WRITES[write]

    response = _send(sandbox_store, method, path_of(sandbox_store), {"other": {}})

    assert response.status_code == 400
    assert response.json() == {"message": REQUIRED, "parameters": {"fieldName": parameter}}


def test_ship_reads_items_like_magento(sandbox_store):
    order = _shippable(sandbox_store)
    item_id = order["items"][0]["item_id"]
    path = f"/V1/order/{order['entity_id']}/ship"

    unknown = _send(
        sandbox_store, "POST", path, {"items": [{"order_item_id": item_id, "qty": 1, "box": 2}]}
    )
    shipped = _send(
        sandbox_store,
        "POST",
        path,
        {"items": [{"order_item_id": str(item_id), "qty": "1"}], "carrier_mood": "happy"},
    )

    assert (unknown.status_code, unknown.json()) == (
        400,
        {"message": NOT_SUPPORTED, "parameters": {"fieldName": "Box"}},
    )
    assert shipped.status_code == 200, shipped.text
    shipment = sandbox_store.store.shipment_get(shipped.json())
    assert [(i["order_item_id"], i["qty"]) for i in shipment["items"]] == [(item_id, 1)]


def test_unknown_key_inside_a_nested_address_is_not_supported(sandbox_store):
    customer = _new_customer(sandbox_store) | {"addresses": [{"city": "Austin", "floor": 3}]}

    response = _send(sandbox_store, "POST", "/V1/customers", {"customer": customer})

    assert (response.status_code, response.json()) == (
        400,
        {"message": NOT_SUPPORTED, "parameters": {"fieldName": "Floor"}},
    )

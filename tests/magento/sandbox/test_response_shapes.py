"""Successful answers against the schema subset's names and types and the published samples'
keys, for the bodies other tests do not already pin: saves, searches and demo activity."""

from __future__ import annotations

import requests

from magento.sandbox import ActivitySimulator
from tests.magento.sandbox.helpers import assert_shape, oauth, rest, search_params
from tests.shared_data import load_sample


def _get(server, path, params=None):
    response = requests.get(rest(server, path), params=params, auth=oauth(server), timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def test_customer_put_answers_a_whole_customer_like_get(sandbox_store):
    customer = _get(sandbox_store, "/V1/customers/1")
    customer["lastname"] = "Changed"

    response = requests.put(
        rest(sandbox_store, "/V1/customers/1"),
        json={"customer": customer},
        auth=oauth(sandbox_store),
        timeout=5,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert_shape(body, "customer-data-customer-interface")
    assert set(body) == set(load_sample("customer"))
    assert body["lastname"] == "Changed"


def test_product_put_answers_the_whole_merged_product(sandbox_store):
    sku = sandbox_store.store.products.rows[1]["sku"]

    response = requests.put(
        rest(sandbox_store, f"/V1/products/{sku}"),
        json={"product": {"price": 12.5}},
        auth=oauth(sandbox_store),
        timeout=5,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert_shape(body, "catalog-data-product-interface")
    assert set(body) == set(load_sample("product-create-response"))
    assert body["price"] == 12.5


def test_customer_search_items_have_the_published_keys(sandbox_store):
    sample = load_sample("customers-search")
    published = set(sample["items"][0]) | set(load_sample("customer"))

    body = _get(
        sandbox_store,
        "/V1/customers/search",
        search_params(("firstname", "%", "like"), page_size=10),
    )

    assert_shape(body, "customer-data-customer-search-results-interface")
    assert set(body) == set(sample)
    assert body["items"]
    for item in body["items"]:
        assert set(item) <= published, set(item) - published


def test_order_search_items_are_whole_orders(sandbox_store):
    sample = load_sample("order")

    body = _get(sandbox_store, "/V1/orders", search_params(page_size=10))

    assert_shape(body, "sales-data-order-search-result-interface")
    assert body["items"]
    for item in body["items"]:
        # A guest order has no customer_id (Magento leaves out what is null).
        expected = set(sample) - ({"customer_id"} if item["customer_is_guest"] else set())
        assert set(item) == expected, set(item) ^ expected


def test_shipping_answers_an_integer_like_the_published_response(sandbox_store):
    order = sandbox_store.store.order_create(customer_id=1, state="processing")

    response = requests.post(
        rest(sandbox_store, f"/V1/order/{order['entity_id']}/ship"),
        json=load_sample("ship-request-with-comment") | {"items": []},
        auth=oauth(sandbox_store),
        timeout=5,
    )

    assert response.status_code == 200, response.text
    assert type(response.json()) is type(load_sample("ship-response")) is int


def test_entities_made_by_the_demo_activity_are_served_in_magentos_shape(sandbox_store):
    made = {}
    simulator = ActivitySimulator(
        sandbox_store.store, 60, on_event=lambda event, entity: made.setdefault(event, entity)
    )

    for _ in range(4):
        simulator.step()

    assert set(made) == {"customer_created", "product_created", "order_created", "customer_updated"}
    customer = _get(sandbox_store, f"/V1/customers/{made['customer_created']['id']}")
    updated = _get(sandbox_store, f"/V1/customers/{made['customer_updated']['id']}")
    product = _get(sandbox_store, f"/V1/products/{made['product_created']['sku']}")
    order = _get(sandbox_store, f"/V1/orders/{made['order_created']['entity_id']}")
    assert_shape(customer, "customer-data-customer-interface")
    assert_shape(updated, "customer-data-customer-interface")
    assert_shape(product, "catalog-data-product-interface")
    assert_shape(order, "sales-data-order-interface")
    assert set(order) == set(load_sample("order"))

"""Products: read by SKU, create, and PUT that merges into the stored product."""

import requests

from tests.magento.sandbox.helpers import assert_shape, oauth, rest
from tests.shared_data import load_sample


def test_create_from_the_published_request_answers_like_the_published_response(sandbox_store):
    request = load_sample("product-create-request")
    sample = load_sample("product-create-response")

    response = requests.post(
        rest(sandbox_store, "/V1/products"), json=request, auth=oauth(sandbox_store)
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert_shape(body, "catalog-data-product-interface")
    assert set(body) == set(sample)
    assert set(body["extension_attributes"]) == set(sample["extension_attributes"])
    assert set(body["extension_attributes"]["stock_item"]) == set(
        sample["extension_attributes"]["stock_item"]
    )
    assert body["weight"] == 0.5
    assert body["extension_attributes"]["stock_item"]["qty"] == 10
    attributes = {a["attribute_code"]: a["value"] for a in body["custom_attributes"]}
    assert attributes["category_ids"] == ["11", "12", "16"]
    assert attributes["color"] == "52"


def test_get_product_and_missing_product(sandbox_store):
    sku = sandbox_store.store.products.rows[1]["sku"]

    found = requests.get(rest(sandbox_store, f"/V1/products/{sku}"), auth=oauth(sandbox_store))
    missing = requests.get(rest(sandbox_store, "/V1/products/NOPE-1"), auth=oauth(sandbox_store))

    assert found.status_code == 200
    assert_shape(found.json(), "catalog-data-product-interface")
    assert missing.status_code == 404
    assert missing.json() == {
        "message": "The product that was requested doesn't exist. Verify the product and try again."
    }


def test_put_merges_changes_into_the_stored_product(sandbox_store):
    before = sandbox_store.store.products.rows[1]
    sku = before["sku"]
    sandbox_store.store.clock.advance(30)

    response = requests.put(
        rest(sandbox_store, f"/V1/products/{sku}"),
        json={
            "product": {
                "sku": sku,
                "price": "19.90",
                "custom_attributes": [{"attribute_code": "color", "value": "49"}],
            }
        },
        auth=oauth(sandbox_store),
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["price"] == 19.9
    assert body["name"] == before["name"]
    assert (
        body["extension_attributes"]["stock_item"] == before["extension_attributes"]["stock_item"]
    )
    attributes = {a["attribute_code"]: a["value"] for a in body["custom_attributes"]}
    assert attributes["color"] == "49"
    assert attributes["url_key"]
    assert body["updated_at"] > before["updated_at"]
    assert body["created_at"] == before["created_at"]


def test_put_of_an_unknown_sku_creates_the_product(sandbox_store):
    response = requests.put(
        rest(sandbox_store, "/V1/products/NEW-1"),
        json={"product": {"sku": "NEW-1", "name": "New", "price": 3}},
        auth=oauth(sandbox_store),
    )

    assert response.status_code == 200
    assert sandbox_store.store.product_get("NEW-1")["name"] == "New"


def test_new_product_needs_a_name(sandbox_store):
    response = requests.post(
        rest(sandbox_store, "/V1/products"),
        json={"product": {"sku": "NO-NAME", "price": 3}},
        auth=oauth(sandbox_store),
    )

    assert response.status_code == 400
    assert response.json()["parameters"] == ["name"]


def test_unknown_stock_item_field_is_not_supported(sandbox_store):
    response = requests.post(
        rest(sandbox_store, "/V1/products"),
        json={
            "product": {
                "sku": "S-1",
                "name": "S",
                "price": 3,
                "extension_attributes": {"stock_item": {"quantity": 5}},
            }
        },
        auth=oauth(sandbox_store),
    )

    assert response.status_code == 400
    assert response.json()["parameters"] == {"fieldName": "Quantity"}

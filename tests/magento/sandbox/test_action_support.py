"""What the actions need from the sandbox: shipment search, attribute sets, and a write whose
answer is lost after the store carried it out."""

import pytest
import requests

from tests.magento.sandbox.helpers import oauth, rest
from tests.shared_data import load_error

BY_ORDER = (
    "searchCriteria[filter_groups][0][filters][0][field]=order_id"
    "&searchCriteria[filter_groups][0][filters][0][value]={}"
)


def _order(server, qty=2):
    store = server.store
    sku = store.products.rows[store.products.ids[0]]["sku"]
    return store.order_create(lines=[(sku, qty)], state="processing")


def _shipments_of(server, order_id):
    url = rest(server, "/V1/shipments") + "?" + BY_ORDER.format(order_id)
    return requests.get(url, auth=oauth(server))


def test_shipments_search_finds_the_shipments_of_one_order(sandbox_store):
    first, second = _order(sandbox_store), _order(sandbox_store)
    shipment_id = sandbox_store.store.order_ship(
        first["entity_id"], items=[{"order_item_id": first["items"][0]["item_id"], "qty": 1}]
    )
    sandbox_store.store.order_ship(second["entity_id"])

    answer = _shipments_of(sandbox_store, first["entity_id"])

    assert answer.status_code == 200
    body = answer.json()
    assert body["total_count"] == 1
    assert [item["entity_id"] for item in body["items"]] == [shipment_id]
    assert body["items"][0]["order_id"] == first["entity_id"]
    assert _shipments_of(sandbox_store, 99999).json()["total_count"] == 0


def test_shipments_search_needs_the_shipment_acl_and_search_criteria(
    sandbox_factory, sandbox_store
):
    server = sandbox_factory(bearer_enabled=True, granted_resources={"Magento_Sales::ship"})
    refused = requests.get(
        rest(server, "/V1/shipments") + "?searchCriteria=",
        headers={"Authorization": f"Bearer {server.credentials.access_token}"},
    )
    assert refused.status_code == 401
    assert refused.json()["parameters"] == {"resources": "Magento_Sales::shipment"}

    unfiltered = requests.get(rest(sandbox_store, "/V1/shipments"), auth=oauth(sandbox_store))
    assert unfiltered.status_code == 400
    assert unfiltered.json()["parameters"] == {"fieldName": "searchCriteria"}


def test_attribute_sets_are_listed_and_an_unknown_set_is_refused(sandbox_store):
    sandbox_store.store.attribute_set_add("Clothing", 12)
    url = rest(sandbox_store, "/V1/products/attribute-sets/sets/list")
    by_name = (
        "?searchCriteria[filter_groups][0][filters][0][field]=attribute_set_name"
        "&searchCriteria[filter_groups][0][filters][0][value]=Clothing"
    )

    answer = requests.get(url + by_name, auth=oauth(sandbox_store)).json()
    refused = requests.post(
        rest(sandbox_store, "/V1/products"),
        json={"product": {"sku": "x-1", "name": "X", "price": 1, "attribute_set_id": 99}},
        auth=oauth(sandbox_store),
    )

    assert answer["total_count"] == 1
    assert answer["items"][0] == {
        "attribute_set_id": 12,
        "attribute_set_name": "Clothing",
        "sort_order": 5,
        "entity_type_id": 4,
    }
    assert (refused.status_code, refused.json()) == load_error("invalid_product_data")


@pytest.mark.parametrize("over_control", [False, True])
def test_apply_then_drop_carries_the_write_out_and_loses_the_answer(sandbox_store, over_control):
    order = _order(sandbox_store)
    path = f"/V1/order/{order['entity_id']}/ship"
    if over_control:
        planned = requests.post(
            f"{sandbox_store.url}/__sandbox__/faults",
            json={"kind": "apply_then_drop", "method": "POST", "path": "/V1/order/*/ship"},
        )
        assert planned.status_code == 201
    else:
        sandbox_store.faults.add("apply_then_drop", method="POST", path="/V1/order/*/ship")

    with pytest.raises(requests.ConnectionError):
        requests.post(rest(sandbox_store, path), json={}, auth=oauth(sandbox_store))

    shipments = _shipments_of(sandbox_store, order["entity_id"]).json()
    assert shipments["total_count"] == 1  # the store shipped the order all the same
    # The fault was used up: the next request is answered.
    again = requests.post(rest(sandbox_store, path), json={}, auth=oauth(sandbox_store))
    assert again.status_code == 400
    assert "does not allow a shipment" in again.json()["message"]

"""Orders and shipping: the order body, ShipOrder's validation, and the created shipment."""

import requests

from tests.magento.sandbox.helpers import assert_shape, oauth, rest
from tests.shared_data import load_error, load_sample

PREFIX = "Shipment Document Validation Error(s):\n"


def _order(server, state="processing", qtys=(2, 1)):
    store = server.store
    skus = [store.products.rows[i]["sku"] for i in store.products.ids[: len(qtys)]]
    customer_id = store.customers.ids[0]
    return store.order_create(
        customer_id=customer_id, lines=list(zip(skus, qtys, strict=True)), state=state
    )


def _ship(server, order_id, body):
    return requests.post(rest(server, f"/V1/order/{order_id}/ship"), json=body, auth=oauth(server))


def _get_order(server, order_id):
    return requests.get(rest(server, f"/V1/orders/{order_id}"), auth=oauth(server)).json()


def test_order_has_the_published_shape(sandbox_store):
    sample = load_sample("order")
    order = _order(sandbox_store)

    body = _get_order(sandbox_store, order["entity_id"])

    assert_shape(body, "sales-data-order-interface")
    assert set(body) == set(sample)
    assert set(body["items"][0]) == set(sample["items"][0]) | {"weight"}
    assert set(body["billing_address"]) == set(sample["billing_address"])
    assert set(body["payment"]) == set(sample["payment"])
    assignment = body["extension_attributes"]["shipping_assignments"][0]
    assert assignment["items"] == body["items"]
    assert assignment["shipping"]["address"]["address_type"] == "shipping"


def test_missing_order(sandbox_store):
    response = requests.get(rest(sandbox_store, "/V1/orders/99999"), auth=oauth(sandbox_store))

    assert response.status_code == 404
    assert response.json() == {
        "message": "The entity that was requested doesn't exist. Verify the entity and try again."
    }


def test_order_id_0_is_refused_before_any_lookup(sandbox_store):
    """OrderRepository::get: an empty id is an input error; nothing is shipped."""
    shipped = _ship(sandbox_store, 0, {})
    read = requests.get(rest(sandbox_store, "/V1/orders/0"), auth=oauth(sandbox_store))

    for response in (shipped, read):
        assert response.status_code == 400
        assert response.json() == {"message": "An ID is needed. Set the ID and try again."}
    assert sandbox_store.state()["counts"]["shipments"] == 0


def test_shipping_everything_completes_the_order(sandbox_store):
    order = _order(sandbox_store)
    sandbox_store.store.clock.advance(5)

    response = _ship(
        sandbox_store,
        order["entity_id"],
        {
            "notify": True,
            "appendComment": True,
            "comment": {"comment": "Shipped via UPS", "is_visible_on_front": 0},
            "tracks": [
                {
                    "track_number": "1Y-9876543210",
                    "title": "United Parcel Service",
                    "carrier_code": "ups",
                }
            ],
        },
    )

    assert response.status_code == 200, response.text
    shipment_id = response.json()
    assert isinstance(shipment_id, int)
    after = _get_order(sandbox_store, order["entity_id"])
    assert (after["state"], after["status"]) == ("complete", "complete")
    assert [i["qty_shipped"] for i in after["items"]] == [2, 1]
    assert after["updated_at"] > order["updated_at"]
    shipment = requests.get(
        rest(sandbox_store, f"/V1/shipment/{shipment_id}"), auth=oauth(sandbox_store)
    ).json()
    assert_shape(shipment, "sales-data-shipment-interface")
    assert shipment["order_id"] == order["entity_id"]
    assert shipment["total_qty"] == 3
    assert [t["track_number"] for t in shipment["tracks"]] == ["1Y-9876543210"]
    assert shipment["comments"][0]["comment"] == "Shipped via UPS"
    assert {i["order_item_id"] for i in shipment["items"]} == {i["item_id"] for i in order["items"]}


def test_partial_shipment_leaves_the_order_processing(sandbox_store):
    order = _order(sandbox_store)
    first_item = order["items"][0]["item_id"]

    response = _ship(
        sandbox_store, order["entity_id"], {"items": [{"order_item_id": first_item, "qty": 1}]}
    )

    assert response.status_code == 200
    after = _get_order(sandbox_store, order["entity_id"])
    assert after["state"] == "processing"
    assert after["items"][0]["qty_shipped"] == 1
    assert after["items"][1]["qty_shipped"] == 0


def test_published_ship_request_shape_is_accepted(sandbox_store):
    order = _order(sandbox_store, qtys=(1, 1))
    request = load_sample("ship-request")
    request["items"] = [{"order_item_id": i["item_id"], "qty": 1} for i in order["items"]]

    response = _ship(sandbox_store, order["entity_id"], request)

    assert response.status_code == 200, response.text


def test_over_shipping_is_refused(sandbox_store):
    order = _order(sandbox_store)
    item = order["items"][1]

    response = _ship(
        sandbox_store, order["entity_id"], {"items": [{"order_item_id": item["item_id"], "qty": 5}]}
    )

    assert response.status_code == 400
    assert response.json() == {
        "message": PREFIX + "The quantity to ship must not be greater than the unshipped "
        f'quantity for product SKU "{item["sku"]}".\n'
        "You can't create a shipment without products."
    }


def test_shipping_a_shipped_order_again(sandbox_store):
    order = _order(sandbox_store)
    assert _ship(sandbox_store, order["entity_id"], {}).status_code == 200

    again = _ship(sandbox_store, order["entity_id"], {})

    assert again.status_code == 400
    assert again.json()["message"] == (
        PREFIX + "The order does not allow a shipment to be created.\n"
        "You can't create a shipment without products."
    )


def test_canceled_order_cannot_ship(sandbox_store):
    order = _order(sandbox_store, state="canceled")

    response = _ship(sandbox_store, order["entity_id"], {})

    assert response.status_code == 400
    assert response.json()["message"].startswith(
        PREFIX + "A shipment cannot be created when an order has a status of canceled"
    )


def test_closed_order_cannot_ship(sandbox_store):
    order = _order(sandbox_store, state="closed")

    response = _ship(sandbox_store, order["entity_id"], {})

    assert response.json()["message"].startswith(
        PREFIX + "The order does not allow a shipment to be created."
    )


def test_zero_quantities_match_the_published_error(sandbox_store):
    order = _order(sandbox_store)

    response = _ship(
        sandbox_store,
        order["entity_id"],
        {"items": [{"order_item_id": order["items"][0]["item_id"], "qty": 0}]},
    )

    assert (response.status_code, response.json()) == load_error("shipment_validation")


def test_item_of_another_order_is_refused(sandbox_store):
    order = _order(sandbox_store)

    response = _ship(
        sandbox_store, order["entity_id"], {"items": [{"order_item_id": 987654, "qty": 1}]}
    )

    assert "is not part of the original order" in response.json()["message"]


def test_ship_missing_order_and_unknown_item_field(sandbox_store):
    missing = _ship(sandbox_store, 99999, {})
    order = _order(sandbox_store)
    unknown = _ship(
        sandbox_store, order["entity_id"], {"items": [{"order_item_id": 1, "quantity": 1}]}
    )

    assert missing.status_code == 404
    assert unknown.status_code == 400
    assert unknown.json()["parameters"] == {"fieldName": "Quantity"}


def test_missing_shipment(sandbox_store):
    response = requests.get(rest(sandbox_store, "/V1/shipment/777"), auth=oauth(sandbox_store))

    assert response.status_code == 404


def test_closed_order_has_nothing_left_to_ship(sandbox_store):
    order = _order(sandbox_store, state="closed")

    response = _ship(sandbox_store, order["entity_id"], {})

    assert (response.status_code, response.json()["message"]) == (
        400,
        PREFIX + "The order does not allow a shipment to be created.\n"
        "You can't create a shipment without products.",
    )


def test_held_order_is_refused_by_its_status(sandbox_store):
    order = _order(sandbox_store, state="holded")

    response = _ship(sandbox_store, order["entity_id"], {})

    assert response.json()["message"] == (
        PREFIX + "A shipment cannot be created when an order has a status of holded"
    )


def test_order_waiting_for_payment_ships_when_quantities_remain(sandbox_store):
    # Magento's CanShip refuses only payment review, held and canceled orders by state.
    order = _order(sandbox_store, state="pending_payment")

    response = _ship(sandbox_store, order["entity_id"], {})

    assert response.status_code == 200, response.text
    assert _get_order(sandbox_store, order["entity_id"])["state"] == "complete"


def test_a_complete_order_has_shipped_everything(sandbox_store):
    order = _order(sandbox_store, state="complete")

    response = _ship(sandbox_store, order["entity_id"], {})

    assert [i["qty_shipped"] for i in order["items"]] == [2, 1]
    assert response.json()["message"] == (
        PREFIX + "The order does not allow a shipment to be created.\n"
        "You can't create a shipment without products."
    )

"""client.shipments against a strict mock of Magento, using Adobe's published bodies."""

import json
from decimal import Decimal

import pytest

from magento import (
    NotFoundError,
    UnexpectedResponseError,
    ValidationError,
)
from tests.magento.resources.helpers import ALL, body_of
from tests.magento.schema_check import assert_matches_schema
from tests.shared_data import load_error, load_sample

SHIP = ("/V1/order/{orderId}/ship", "post")
UPS = {"track_number": "1Y-9876543210", "title": "United Parcel Service", "carrier_code": "ups"}


def test_create_sends_the_published_ship_request_and_returns_the_shipment_id(client, store_mock):
    store_mock.post(f"{ALL}/order/3/ship", json=load_sample("ship-response"))
    published = load_sample("ship-request")
    shipment_id = client.shipments.create(
        3, items=published["items"], tracks=published["tracks"], notify=True
    )
    assert shipment_id == 3
    assert body_of(store_mock.calls[0]) == published
    assert_matches_schema(body_of(store_mock.calls[0]), SHIP)


def test_create_with_comment_and_pairs(client, store_mock):
    store_mock.post(f"{ALL}/order/3/ship", json=12)
    client.shipments.create(
        3,
        items=[(3, 1), (5, Decimal("2.5"))],
        tracks=[UPS],
        comment="Shipped via UPS",
        comment_visible_on_front=True,
    )
    body = body_of(store_mock.calls[0])
    assert body == {
        "items": [{"order_item_id": 3, "qty": 1}, {"order_item_id": 5, "qty": 2.5}],
        "notify": False,
        "appendComment": True,
        "comment": {"comment": "Shipped via UPS", "is_visible_on_front": 1},
        "tracks": [UPS],
    }
    assert_matches_schema(body, SHIP)


def test_create_without_items_ships_everything_left(client, store_mock):
    store_mock.post(f"{ALL}/order/3/ship", json=4)
    assert client.shipments.create(3) == 4
    assert body_of(store_mock.calls[0]) == {"notify": False}
    assert_matches_schema(body_of(store_mock.calls[0]), SHIP)


def test_hidden_comment_is_not_visible_on_front(client, store_mock):
    store_mock.post(f"{ALL}/order/3/ship", json=4)
    client.shipments.create(3, comment="Packed by Sam")
    assert body_of(store_mock.calls[0])["comment"] == {
        "comment": "Packed by Sam",
        "is_visible_on_front": 0,
    }


def test_numeric_string_answer_is_read_as_the_id(client, store_mock):
    store_mock.post(f"{ALL}/order/3/ship", json="17")
    assert client.shipments.create(3) == 17


# "²" and "٣" are digits to str.isdigit() but not ids: the store's bad answer, not a crash.
@pytest.mark.parametrize("answer", [None, True, "three", {"id": 3}, [3], 0, 2.5, "²", "٣"])
def test_answer_that_is_not_a_shipment_id_is_unexpected(client, store_mock, answer):
    store_mock.post(f"{ALL}/order/3/ship", body=json.dumps(answer), content_type="application/json")
    with pytest.raises(UnexpectedResponseError, match="check the order's shipments"):
        client.shipments.create(3)


def test_store_refusing_the_shipment_raises_validation_error(client, store_mock):
    status, body = load_error("shipment_validation")
    store_mock.post(f"{ALL}/order/3/ship", status=status, json=body)
    with pytest.raises(ValidationError, match="can't create a shipment without products"):
        client.shipments.create(3, items=[{"order_item_id": 3, "qty": 1}])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"items": []}, ValueError, "items is empty"),
        ({"items": {"order_item_id": 3, "qty": 1}}, ValueError, "list of shipment items"),
        ({"items": [{"order_item_id": 3, "qty": 0}]}, ValueError, "more than 0"),
        ({"items": [{"order_item_id": 3, "qty": -1}]}, ValueError, "more than 0"),
        ({"items": [{"order_item_id": 3, "qty": "1"}]}, ValueError, "must be a number"),
        ({"items": [{"order_item_id": 0, "qty": 1}]}, ValueError, "order item id"),
        (
            {"items": [{"order_item_id": 3, "qty": 1, "sku": "x"}]},
            ValueError,
            "order_item_id and qty",
        ),
        ({"items": [(3,)]}, ValueError, "shipment item"),
        ({"tracks": [{"carrier_code": "ups", "title": "UPS"}]}, ValueError, "track_number"),
        ({"tracks": [dict(UPS, track_number=" ")]}, ValueError, "track_number"),
        ({"tracks": [dict(UPS, url="x")]}, ValueError, "only"),
        ({"tracks": UPS}, ValueError, "list of tracking"),
        ({"comment": ""}, ValueError, "comment"),
        ({"notify": "yes"}, ValueError, "notify"),
    ],
)
def test_bad_input_is_refused_before_calling_the_store(client, store_mock, kwargs, error, message):
    with pytest.raises(error, match=message):
        client.shipments.create(3, **kwargs)


@pytest.mark.parametrize("order_id", [0, -3])
def test_non_positive_order_id_is_refused(client, store_mock, order_id):
    with pytest.raises(ValueError, match="order id"):
        client.shipments.create(order_id)


def test_get_reads_a_shipment(client, store_mock):
    shipment = {"entity_id": 3, "order_id": 3, "items": [], "tracks": [], "comments": []}
    store_mock.get(f"{ALL}/shipment/3", json=shipment)
    assert client.shipments.get(3) == shipment


def test_get_missing_shipment_is_not_found(client, store_mock):
    body = {
        "message": "The entity that was requested doesn't exist. Verify the entity and try again."
    }
    store_mock.get(f"{ALL}/shipment/8", status=404, json=body)
    with pytest.raises(NotFoundError):
        client.shipments.get(8)


def test_get_refuses_bad_ids(client, store_mock):
    with pytest.raises(ValueError, match="shipment id"):
        client.shipments.get(0)

"""The order JSON written for pages of orders is exactly the rendered order body."""

import json

from magento.sandbox import SandboxStore


def test_fast_order_json_equals_the_rendered_order():
    store = SandboxStore(random_seed=11)
    store.seed(customers=5, products=8, orders=60)
    store.product_save(
        {"sku": 'Quote"Back\\slash/é', "name": 'Ünïcode "name"', "price": 19.99, "weight": 0.25}
    )
    order = store.order_create(lines=[('Quote"Back\\slash/é', 3)])
    item_id = order["items"][0]["item_id"]
    store.order_ship(order["entity_id"], items=[{"order_item_id": item_id, "qty": 1.5}])

    for order_id in store.orders.ids:
        record = store.orders.rows[order_id]
        assert json.loads(store._order_json(record)) == store.order_get(order_id)


def test_order_json_cache_is_refreshed_after_shipping():
    store = SandboxStore(random_seed=3)
    store.seed(customers=2, products=2, orders=0)
    order = store.order_create(customer_id=1, state="processing")
    record = store.orders.rows[order["entity_id"]]
    before = json.loads(store._order_json(record))

    store.order_ship(order["entity_id"])
    after = json.loads(store._order_json(record))

    assert before["state"] == "processing"
    assert after["state"] == "complete"
    assert after["items"][0]["qty_shipped"] == after["items"][0]["qty_ordered"]

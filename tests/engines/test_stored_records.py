"""Polled records on each engine (SQLite; PostgreSQL's json column, lz4-compressed): read back
through the ORM, they equal what the store sent, awkward text included."""

from __future__ import annotations

import json

import pytest

from magento import MagentoClient, OAuth1Auth
from tests.engines.test_crashes import make_automation

pytestmark = pytest.mark.timeout(300)

NAMES = ['Zoë/0 "😀" \\ 日本', "a\\/b \u00e9 \\u00e9", "tab\there\nline", "</script>&amp;"]


def test_polled_records_read_back_equal_to_what_the_store_sent(portal, sandbox_factory):
    shop = sandbox_factory(seed={"customers": 3, "products": 3, "orders": 250})
    store = shop.store
    for name, order_id in zip(NAMES, sorted(store.orders.rows), strict=False):
        store.orders.rows[order_id]["customer_firstname"] = name
    store._order_cache.clear()
    portal.migrate()
    ids = make_automation(portal, shop, "Every order")
    printed = portal.shell(
        "from tests.engines.scenario import poll_and_print_records; "
        f"poll_and_print_records({ids['subscription']})"
    )
    stored = json.loads(printed.strip().splitlines()[-1])

    c = shop.credentials
    auth = OAuth1Auth(c.consumer_key, c.consumer_secret, c.access_token, c.access_token_secret)
    with MagentoClient(shop.url, auth, allow_private_network=True) as client:
        sent = {str(item["entity_id"]): item for item in client.orders.iter_all(page_size=100)}
    assert len(sent) == 250
    assert stored["records"] == sent
    first = stored["records"][str(min(store.orders.rows))]
    assert first["customer_firstname"] == NAMES[0]
    if portal.engine == "postgresql":
        assert stored["compression"] == ["lz4"]
        assert stored["type"] == "json"

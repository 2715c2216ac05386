"""created_at / updated_at: UTC 'YYYY-MM-DD HH:MM:SS' whatever the machine's time zone, and
updated_at moves on every save (customer PUT, product PUT, shipping an order)."""

from __future__ import annotations

import time

import pytest
import requests

from magento.sandbox import FakeClock
from tests.magento.sandbox.helpers import bearer, rest

MAY_FIRST_10_UTC = 1714557600  # 2024-05-01 10:00:00 UTC


@pytest.fixture
def chicago_time_zone(monkeypatch):
    """Run the test with the process in a time zone far from UTC."""
    monkeypatch.setenv("TZ", "America/Chicago")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_dates_are_utc_and_every_save_moves_updated_at(sandbox_factory, chicago_time_zone):
    # Bearer, not OAuth: a signature stamped with today's time would be "in the future" here.
    server = sandbox_factory(clock=FakeClock(MAY_FIRST_10_UTC), bearer_enabled=True)
    clock = server.store.clock
    headers = bearer(server.credentials.access_token)
    assert time.strftime("%H", time.localtime(MAY_FIRST_10_UTC)) != "10"  # the zone is not UTC

    created = requests.post(
        rest(server, "/V1/customers"),
        json={"customer": {"email": "utc@example.com", "firstname": "U", "lastname": "T"}},
        timeout=5,
    ).json()
    clock.advance(61)
    customer = requests.put(
        rest(server, f"/V1/customers/{created['id']}"),
        json={"customer": created | {"lastname": "Later"}},
        headers=headers,
        timeout=5,
    ).json()
    sku = server.store.products.rows[server.store.products.ids[0]]["sku"]
    clock.advance(60)
    product = requests.put(
        rest(server, f"/V1/products/{sku}"),
        json={"product": {"price": 5}},
        headers=headers,
        timeout=5,
    ).json()
    order = server.store.order_create(customer_id=created["id"], state="processing")
    clock.advance(60)
    requests.post(rest(server, f"/V1/order/{order['entity_id']}/ship"), json={}, headers=headers)
    shipped = requests.get(rest(server, f"/V1/orders/{order['entity_id']}"), headers=headers).json()

    assert created["created_at"] == created["updated_at"] == "2024-05-01 10:00:00"
    assert (customer["created_at"], customer["updated_at"]) == (
        "2024-05-01 10:00:00",
        "2024-05-01 10:01:01",
    )
    assert product["updated_at"] == "2024-05-01 10:02:01"
    assert (order["created_at"], shipped["updated_at"]) == (
        "2024-05-01 10:02:01",
        "2024-05-01 10:03:01",
    )

"""The sandbox controls the trigger tests use: a settable clock, rows with one fixed timestamp,
rows that become visible late, the request log and a repeated answer, by Python and over HTTP."""

from __future__ import annotations

import pytest
import requests

from tests.magento.sandbox.helpers import oauth, rest

SEARCH = (
    "/V1/orders?searchCriteria[sortOrders][0][field]=created_at"
    "&searchCriteria[sortOrders][0][direction]=ASC&searchCriteria[pageSize]=300"
)


def order_ids(server):
    answer = requests.get(rest(server, SEARCH), auth=oauth(server), timeout=5)
    assert answer.status_code == 200
    return [item["entity_id"] for item in answer.json()["items"]]


def test_the_clock_can_be_set_and_advanced_over_http(sandbox_store):
    control = f"{sandbox_store.url}/__sandbox__/clock"
    moved = requests.post(control, json={"to": "2030-01-02 03:04:05"}, timeout=5).json()
    assert moved["now"] == "2030-01-02 03:04:05"
    moved = requests.post(control, json={"advance": 60}, timeout=5).json()
    assert moved["now"] == "2030-01-02 03:05:05"
    assert requests.get(control, timeout=5).json()["now"] == "2030-01-02 03:05:05"
    assert sandbox_store.store.now() == "2030-01-02 03:05:05"


def test_seeding_at_one_fixed_second(sandbox_factory):
    server = sandbox_factory(seed={})
    answer = requests.post(
        f"{server.url}/__sandbox__/seed",
        json={"customers": 30, "products": 2, "orders": 20, "at": "2024-05-01 10:00:00"},
        timeout=5,
    )
    assert answer.status_code == 200
    store = server.store
    for table in (store.customers, store.products, store.orders):
        stamps = {(r["created_at"], r["updated_at"]) for r in table.rows.values()}
        assert stamps == {("2024-05-01 10:00:00", "2024-05-01 10:00:00")}
    bad = requests.post(f"{server.url}/__sandbox__/seed", json={"at": "May 1st"}, timeout=5)
    assert bad.status_code == 400
    # The next rows are on the clock again.
    assert store.add_random_customer()["created_at"] == store.now()


def test_an_order_made_over_http_can_become_visible_late(sandbox_factory):
    server = sandbox_factory(seed={"products": 2})
    control = f"{server.url}/__sandbox__/orders"
    late = requests.post(control, json={"visible_after": 30}, timeout=5).json()
    server.store.clock.advance(1)
    on_time = requests.post(control, json={}, timeout=5).json()
    assert late["entity_id"] < on_time["entity_id"]
    assert late["created_at"] < on_time["created_at"]
    assert order_ids(server) == [on_time["entity_id"]]
    # GET by id finds it at once; searches only once the delay has passed.
    direct = requests.get(rest(server, f"/V1/orders/{late['entity_id']}"), auth=oauth(server))
    assert direct.status_code == 200
    requests.post(f"{server.url}/__sandbox__/clock", json={"advance": 30}, timeout=5)
    assert order_ids(server) == [late["entity_id"], on_time["entity_id"]]


def test_a_customer_can_become_visible_late(sandbox_factory):
    server = sandbox_factory(seed={})
    made = requests.post(
        f"{server.url}/__sandbox__/customers",
        json={
            "customer": {"email": "late@example.com", "firstname": "L", "lastname": "Ate"},
            "visible_after": 5,
        },
        timeout=5,
    ).json()
    url = rest(server, "/V1/customers/search?searchCriteria[pageSize]=10")
    assert requests.get(url, auth=oauth(server), timeout=5).json()["items"] == []
    server.store.clock.advance(5)
    items = requests.get(url, auth=oauth(server), timeout=5).json()["items"]
    assert [item["id"] for item in items] == [made["id"]]


def test_an_order_can_be_made_with_a_given_created_at_and_status(sandbox_factory):
    server = sandbox_factory(seed={"products": 1})
    made = requests.post(
        f"{server.url}/__sandbox__/orders",
        json={"created_at": "2024-05-01 10:00:00", "state": "holded", "status": "holded"},
        timeout=5,
    ).json()
    assert (made["created_at"], made["status"]) == ("2024-05-01 10:00:00", "holded")


def test_the_request_log_and_a_repeated_answer(sandbox_store):
    first = order_ids(sandbox_store)
    sandbox_store.store.order_create()
    sandbox_store.faults.add("repeat_answer", path="/V1/orders")
    assert order_ids(sandbox_store) == first  # the earlier answer, again
    assert len(order_ids(sandbox_store)) == len(first) + 1
    log = requests.get(f"{sandbox_store.url}/__sandbox__/requests", timeout=5).json()
    assert log[-3:] == [["GET", "/V1/orders"]] * 3


def test_the_clock_cannot_be_set_on_a_real_clock(sandbox_factory):
    import time

    server = sandbox_factory(seed={}, clock=time.time)
    with pytest.raises(ValueError, match="real clock"):
        server.set_clock(advance=5)
    answer = requests.post(f"{server.url}/__sandbox__/clock", json={"advance": 5}, timeout=5)
    assert answer.status_code == 400

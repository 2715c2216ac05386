"""Real processes killed with SIGKILL at the worst moments, then started again.

Each test runs on SQLite (the database as the queue) and on PostgreSQL with Redis, with two
worker processes (two qclusters of one worker each) and the sandbox store in this process,
reached over HTTP. A worker that starts recovers at once what a killed one left behind
(automations.tasks.recover), so nothing here waits out a lease or the worker timeout.
"""

from __future__ import annotations

import collections
import contextlib
import json
import threading
import time

import pytest
import requests

from tests.engines.portal import PortalError
from tests.engines.test_workers import log_in
from tests.helpers import PASSWORD

# Each test waits for its processes with limits of its own, longer than the suite's default.
pytestmark = pytest.mark.timeout(600)

ORDERS = 10_000
EVENTS = "automations_triggerevent"
RUNS = "automations_actionrun"
SUBSCRIPTIONS = "automations_triggersubscription"
WORKERS = ("worker-1", "worker-2")


def store_of(shop) -> dict[str, str]:
    c = shop.credentials
    return {
        "store_domain": shop.url,
        "consumer_key": c.consumer_key,
        "consumer_secret": c.consumer_secret,
        "access_token": c.access_token,
        "access_token_secret": c.access_token_secret,
    }


def make_automation(portal, shop, name: str, steps=(), **spec) -> dict[str, int]:
    """An automation in the portal's database, on a connection to `shop`; its ids."""
    wanted = json.dumps(
        {"store": store_of(shop), "name": name, "steps": [list(step) for step in steps], **spec}
    )
    printed = portal.shell(
        f"from tests.engines.scenario import make_automation; make_automation({wanted!r})"
    )
    return json.loads(printed.strip().splitlines()[-1])


def start_workers(portal, *names: str) -> None:
    for name in names or WORKERS:
        portal.start_worker(name, Q_WORKERS="1")


def lease_holder(portal, subscription_id: int) -> str | None:
    """The started process whose worker holds the subscription's poll lease, if any."""
    owner = portal.value(f"SELECT lease_owner FROM {SUBSCRIPTIONS} WHERE id = {subscription_id}")
    parts = (owner or "").split(":")
    return portal.pid_group(int(parts[1])) if len(parts) > 1 and parts[1].isdigit() else None


def test_a_worker_killed_while_draining_10000_orders_restarts_to_exactly_10000_events(
    portal, sandbox_factory
):
    shop = sandbox_factory(seed={"customers": 5, "products": 3, "orders": ORDERS})
    portal.migrate()
    ids = make_automation(portal, shop, "Every order")
    start_workers(portal)

    count = f"SELECT COUNT(*) FROM {EVENTS}"
    portal.wait_for("a quarter of the backlog", lambda: portal.value(count) >= ORDERS // 4)
    victim = lease_holder(portal, ids["subscription"]) or WORKERS[0]
    portal.kill(victim)
    at_kill = portal.value(count)
    assert at_kill < ORDERS, "the backlog drained before the kill: nothing was tested"

    portal.start_worker(victim, Q_WORKERS="1")
    portal.wait_for(
        f"all {ORDERS} events (had {at_kill} at the kill)",
        lambda: (
            portal.value(count) >= ORDERS
            and portal.value(
                f"SELECT COUNT(*) FROM {SUBSCRIPTIONS} WHERE backlog_remaining IS NULL "
                "AND lease_owner = ''"
            )
            == 1
        ),
        limit=180,
        alive=WORKERS,
    )

    entity_ids = [row[0] for row in portal.query(f"SELECT entity_id FROM {EVENTS}")]
    assert len(entity_ids) == ORDERS
    assert sorted(entity_ids) == sorted(shop.store.orders.rows)


def processing_orders(shop, count: int) -> None:
    skus = [product["sku"] for product in shop.store.products.rows.values()]
    for number in range(count):
        shop.store.order_create(lines=[(skus[number % len(skus)], 1)], state="processing")


def shipments_per_order(shop) -> collections.Counter:
    return collections.Counter(s["order_id"] for s in shop.store.shipments.values())


def wait_until_every_run_ended(portal, runs: int, limit: float = 180) -> None:
    ended = f"SELECT COUNT(*) FROM {RUNS} WHERE status IN ('succeeded', 'failed', 'skipped')"
    portal.wait_for(
        f"{runs} runs ended",
        lambda: portal.value(ended) >= runs,
        limit=limit,
        alive=[name for name in WORKERS if name in portal.processes],
    )


def test_workers_killed_while_shipping_orders_end_every_run_and_ship_none_twice(
    portal, sandbox_factory
):
    shop = sandbox_factory(seed={"customers": 3, "products": 3, "orders": 0})
    orders = 200
    processing_orders(shop, orders)
    # Each shipment takes the store a moment, so the kills land inside some of them.
    shop.sleep = time.sleep
    shop.faults.add("latency", method="POST", path="/V1/order/*/ship", times=10**6, seconds=0.02)
    portal.migrate()
    make_automation(
        portal,
        shop,
        "Ship every order",
        steps=[
            (
                "create_shipment",
                {"order_increment_id": "{{ trigger.increment_id }}", "comment": "Packed"},
            )
        ],
    )
    start_workers(portal)

    for share in (4, 2):  # kill both workers at once, twice, at a quarter and at half
        portal.wait_for(
            f"1/{share} of the orders shipped",
            lambda share=share: len(shop.store.shipments) >= orders // share,
            alive=WORKERS,
        )
        for name in WORKERS:
            portal.kill(name)
        start_workers(portal)
    wait_until_every_run_ended(portal, orders)

    statuses = collections.Counter(
        status for (status,) in portal.query(f"SELECT status FROM {RUNS}")
    )
    assert sum(statuses.values()) == orders
    assert set(statuses) <= {"succeeded", "failed"}, statuses
    assert max(shipments_per_order(shop).values()) == 1  # no order shipped twice
    # Every shipment in the store is a succeeded run, found after a kill or answered.
    assert statuses["succeeded"] == len(shop.store.shipments)
    failures = portal.query(
        f"SELECT error_class, error_message FROM {RUNS} WHERE status = 'failed'"
    )
    assert len(failures) <= 2 * len(WORKERS), failures  # only runs caught by a kill may fail
    for error_class, message in failures:
        assert error_class == "StuckRun" and "check the store" in message


CUSTOMER = {"email": "ada@example.com", "firstname": "Ada", "lastname": "Lovelace"}


@pytest.mark.parametrize("applied", [True, False], ids=["store-applied-it", "never-applied"])
def test_the_web_server_killed_during_a_manual_run_leaves_it_resolved_not_running(
    portal, sandbox_factory, applied
):
    shop = sandbox_factory(seed={"customers": 0, "products": 1, "orders": 0})
    portal.migrate()
    ids = make_automation(portal, shop, "Only for the connection")
    portal.manage(
        "ensure_superuser", DJANGO_SUPERUSER_USERNAME="owner", DJANGO_SUPERUSER_PASSWORD=PASSWORD
    )
    web_url = portal.start_web()
    session = log_in(web_url, "owner")
    page = f"{web_url}/admin/automations/actionrun/run-action/"
    chosen = {"connection": ids["connection"], "action": "create_customer"}
    assert session.get(page, params=chosen, timeout=10).status_code == 200
    # The store holds the request until the web server is dead; then it creates the customer
    # (or drops the request unanswered, never applied).
    release = threading.Event()
    shop.sleep = lambda seconds: release.wait(seconds)
    shop.faults.add("latency", method="POST", path="/V1/customers", seconds=60)
    if not applied:
        shop.faults.add("drop_connection", method="POST", path="/V1/customers")
    posted = threading.Thread(
        target=post_quietly,
        args=(
            session,
            page,
            {
                **chosen,
                **CUSTOMER,
                "run": "Run now",
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
        ),
        daemon=True,
    )
    posted.start()
    portal.wait_for(
        "the create to reach the store",
        lambda: ("POST", "/V1/customers") in list(shop.requests),
        alive=["web"],
    )
    assert portal.value(f"SELECT status FROM {RUNS}") == "running"
    portal.kill("web")
    release.set()
    if applied:
        portal.wait_for("the store to create the customer", lambda: created_count(shop) == 1)

    start_workers(portal, "worker-1")  # recovery at worker start
    ended = f"SELECT COUNT(*) FROM {RUNS} WHERE status <> 'running'"
    portal.wait_for("the run to be resolved", lambda: portal.value(ended) == 1, alive=["worker-1"])

    ((status, error_class, message, attempt_log),) = portal.query(
        f"SELECT status, error_class, error_message, attempt_log FROM {RUNS}"
    )
    created = created_count(shop)
    if applied:
        assert (status, created) == ("succeeded", 1)
        log = json.loads(attempt_log) if isinstance(attempt_log, str) else attempt_log
        note = log[-1]["note"]
        assert note == "found in the store after the worker stopped"
    else:
        assert (status, error_class, created) == ("failed", "StuckRun", 0)
        assert "check the store before running it again" in message
    posted.join(5)


def created_count(shop) -> int:
    return sum(1 for c in shop.store.customers.rows.values() if c["email"] == CUSTOMER["email"])


def post_quietly(session: requests.Session, url: str, data: dict) -> None:
    """POST the form; the server is killed while it works, so no answer is expected."""
    with contextlib.suppress(requests.RequestException):
        session.post(url, data=data, headers={"Referer": url}, timeout=120)


def test_portal_error_names_what_it_waited_for(portal):
    with pytest.raises(PortalError, match="not done within 0s: never"):
        portal.wait_for("never", lambda: False, limit=0)

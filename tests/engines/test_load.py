"""The web server and two worker processes under load, and the poll lease across processes.

- On SQLite, a minute of load (a store that keeps getting orders, customers and products;
  polls of several automations with steps queued every second; staff opening admin pages and
  pressing "Poll now") passes without a single "database is locked" in any process's output,
  and ends with exactly one event per order for every order automation.
- On SQLite and on PostgreSQL with Redis, two workers never poll one subscription at once.
"""

from __future__ import annotations

import collections
import re
import threading
import time

import pytest

from tests.engines.portal import START_LIMIT
from tests.engines.test_crashes import RUNS, WORKERS, make_automation, start_workers
from tests.engines.test_workers import log_in
from tests.helpers import PASSWORD

EVENTS = "automations_triggerevent"
LOAD_SECONDS = 60.0
LOCKED = "database is locked"


class Concurrency:
    """The sandbox's sleep for latency faults: counts the requests sleeping at once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0
        self.calls = 0

    def __call__(self, seconds: float) -> None:
        with self.lock:
            self.now += 1
            self.calls += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(seconds)
        finally:
            with self.lock:
                self.now -= 1


def queue_polls(portal, subscription_ids: list[int], *, rounds: int, pause: float, name: str):
    """A process that queues polls of the subscriptions, `rounds` times, `pause` apart."""
    code = (
        "from tests.engines.scenario import queue_polls; "
        f"queue_polls({subscription_ids!r}, rounds={rounds}, pause={pause})"
    )
    return portal.start(name, "shell", "--no-imports", "--command", code)


def test_two_workers_never_poll_one_subscription_at_once(portal, sandbox_factory):
    shop = sandbox_factory(seed={"customers": 3, "products": 3, "orders": 40})
    # Every order search takes the store a while, so polls queued together would overlap.
    concurrency = Concurrency()
    shop.sleep = concurrency
    shop.faults.add("latency", method="GET", path="/V1/orders", times=10**6, seconds=0.4)
    portal.migrate()
    ids = make_automation(portal, shop, "Orders")
    start_workers(portal)
    polls = 12
    queue_polls(portal, [ids["subscription"]], rounds=polls, pause=0, name="queue").wait(
        START_LIMIT
    )

    def processed() -> collections.Counter:
        done = collections.Counter()
        for name in WORKERS:
            done[name] = portal.log(name).count("Processed 'automations.tasks.poll_subscription'")
        return done

    portal.wait_for(f"{polls} polls", lambda: processed().total() >= polls, alive=WORKERS)

    assert concurrency.most == 1  # never two order searches (so two polls) at once
    assert all(processed().values()), processed()  # both workers polled
    # Fewer searches than polls: some polls found the lease taken and were turned away.
    assert concurrency.calls < processed().total()
    assert portal.value(f"SELECT COUNT(*) FROM {EVENTS}") == 40


ORDER_STEPS = [
    ("get_product_by_sku", {"sku": "{{ trigger.items.0.sku }}"}),
    ("create_shipment", {"order_increment_id": "{{ trigger.increment_id }}"}),
]


def store_activity(shop, stop: threading.Event) -> tuple[collections.Counter, threading.Thread]:
    """Orders, customers and products keep arriving in the store until `stop` is set."""
    made = collections.Counter()
    skus = [product["sku"] for product in shop.store.products.rows.values()]

    def work():
        number = 0
        while not stop.wait(0.1):
            number += 1
            shop.store.order_create(lines=[(skus[number % len(skus)], 1)], state="processing")
            made["orders"] += 1
            if number % 3 == 0:
                shop.store.customer_create(
                    {"email": f"load{number}@example.com", "firstname": "L", "lastname": "D"}
                )
                made["customers"] += 1
            if number % 5 == 0:
                shop.store.product_save({"sku": f"LOAD-{number}", "name": "Load", "price": 1})
                made["products"] += 1

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return made, thread


def staff_clicks(web_url: str, automation_ids: list[int], stop: threading.Event, answers):
    """Staff opening admin pages and pressing "Poll now", until `stop` is set."""
    session = log_in(web_url, "owner")
    pages = [
        "/admin/",
        "/admin/automations/automation/",
        "/admin/automations/actionrun/",
        "/admin/connections/connection/",
        *(f"/admin/automations/automation/{pk}/change/" for pk in automation_ids),
    ]
    changelist = f"{web_url}/admin/automations/automation/"
    number = 0
    while not stop.is_set():
        number += 1
        page = pages[number % len(pages)]
        answers[session.get(f"{web_url}{page}", timeout=60).status_code] += 1
        if number % 10 == 0:
            answer = session.post(
                changelist,
                data={
                    "action": "poll_now",
                    "_selected_action": automation_ids[number % len(automation_ids)],
                    "csrfmiddlewaretoken": session.cookies["csrftoken"],
                },
                headers={"Referer": changelist},
                timeout=60,
            )
            answers[answer.status_code] += 1


@pytest.mark.slow
@pytest.mark.timeout(LOAD_SECONDS + 4 * START_LIMIT)
@pytest.mark.parametrize("portal", ["sqlite"], indirect=True)
def test_a_minute_of_load_on_sqlite_without_database_is_locked(portal, sandbox_factory):
    shop = sandbox_factory(seed={"customers": 3, "products": 3, "orders": 0})
    portal.migrate()
    order_automations = [
        make_automation(portal, shop, f"Ship orders {n}", steps=ORDER_STEPS if n == 1 else [])
        for n in (1, 2, 3)
    ]
    others = [
        make_automation(
            portal,
            shop,
            "Welcome customers",
            trigger_id="customer_created",
            steps=[("update_customer", {"email": "{{ trigger.email }}", "lastname": "Welcomed"})],
        ),
        make_automation(
            portal,
            shop,
            "New products",
            trigger_id="product_created",
            steps=[("get_product_by_sku", {"sku": "{{ trigger.sku }}"})],
        ),
    ]
    every = order_automations + others
    portal.manage(
        "ensure_superuser", DJANGO_SUPERUSER_USERNAME="owner", DJANGO_SUPERUSER_PASSWORD=PASSWORD
    )
    web_url = portal.start_web()
    start_workers(portal)

    stop = threading.Event()
    made, activity = store_activity(shop, stop)
    answers: collections.Counter = collections.Counter()
    clicks = threading.Thread(
        target=staff_clicks,
        args=(web_url, [ids["automation"] for ids in every], stop, answers),
        daemon=True,
    )
    clicks.start()
    subscriptions = [ids["subscription"] for ids in every]
    queue_polls(portal, subscriptions, rounds=int(LOAD_SECONDS), pause=1.0, name="dispatcher")
    portal.wait_for(
        "the minute of load",
        lambda: portal.processes["dispatcher"].poll() is not None,
        limit=LOAD_SECONDS + START_LIMIT,
        alive=[*WORKERS, "web"],
    )
    stop.set()
    activity.join(10)
    clicks.join(60)
    assert portal.processes["dispatcher"].returncode == 0, portal.log("dispatcher")

    # One more round of polls after the store went quiet: every order is an event, once.
    queue_polls(portal, subscriptions, rounds=1, pause=0, name="last-polls").wait(START_LIMIT)
    for ids in order_automations:
        count = f"SELECT COUNT(*) FROM {EVENTS} WHERE automation_id = {ids['automation']}"
        portal.wait_for(
            f"{made['orders']} events of automation {ids['automation']}",
            lambda count=count: portal.value(count) >= made["orders"],
            limit=120,
            alive=WORKERS,
        )
        duplicates = portal.value(
            f"SELECT COUNT(*) - COUNT(DISTINCT entity_id) FROM {EVENTS} "
            f"WHERE automation_id = {ids['automation']}"
        )
        assert (portal.value(count), duplicates) == (made["orders"], 0)
    unfinished = f"SELECT COUNT(*) FROM {RUNS} WHERE status IN ('pending', 'running')"
    portal.wait_for("every run to end", lambda: portal.value(unfinished) == 0, limit=120)

    assert made["orders"] >= 100 and answers[200] >= 50, (made, answers)
    assert set(answers) == {200}, answers  # no page failed
    shipped = collections.Counter(s["order_id"] for s in shop.store.shipments.values())
    assert len(shipped) == made["orders"] and max(shipped.values()) == 1
    for name in [*WORKERS, "web", "dispatcher", "last-polls"]:
        output = portal.log(name)
        assert LOCKED not in output, f"{name}: {LOCKED}"
        assert not re.search(r"Traceback|ERROR", output), f"{name}:\n{output[-3000:]}"

"""The faults matrix: every trigger and every action against every fault the sandbox injects.

For each pair, over real HTTP: no event missed, none repeated, nothing created twice, and each
failure shown in the subscription or the run with a message in plain words. The README's
"Reliability and security" section reports this matrix.
"""

from __future__ import annotations

import json
import time

import pytest

from automations import polling, run_tasks, runs
from automations.models import RunStatus, TriggerEvent, TriggerSubscription
from tests.automations.runs_helpers import automation, fire, runs_of, sandbox_connection

pytestmark = pytest.mark.django_db(transaction=True)

# A timeout: the store holds the request longer than the client waits for an answer.
READ_TIMEOUT = 0.25
HOLD = 1.0

# fault id -> (faults to plan as (kind, extra), words the recorded failure must contain).
# `times` is set per use; None in the words: the fault passes unnoticed (renewed, retried).
READ_FAULTS = {
    "429-retry-after": ([("rate_limit", {"retry_after": 45})], "slow down"),
    "500": ([("server_error", {})], "internal error"),
    "503-maintenance": ([("maintenance", {})], "maintenance"),
    "timeout": ([("latency", {"seconds": HOLD})], f"did not answer within {READ_TIMEOUT:g}"),
    "dropped": ([("drop_connection", {})], "connection"),
    "malformed-json": ([("malformed_json", {})], "expect"),
}

TRIGGERS = {
    # trigger id: (path it searches, options)
    "customer_created": ("/V1/customers/search", {}),
    "customer_updated": ("/V1/customers/search", {"include_created": True}),
    "order_created": ("/V1/orders", {}),
    "product_created": ("/V1/products", {}),
}
RECORDS = 25
PAGE = 10


def real_sleep(shop):
    """The store really holds requests for latency faults (timeouts need a real wait)."""
    shop.sleep = time.sleep


def store_ids(shop, trigger_id: str) -> list[int]:
    table = {"customer": "customers", "order": "orders", "product": "products"}
    return sorted(getattr(shop.store, table[trigger_id.split("_")[0]]).rows)


def event_ids(made) -> list[int]:
    return sorted(
        TriggerEvent.objects.filter(automation=made, is_replay=False).values_list(
            "entity_id", flat=True
        )
    )


@pytest.mark.parametrize("fault_id", sorted(READ_FAULTS))
@pytest.mark.parametrize("trigger_id", sorted(TRIGGERS))
def test_a_trigger_polling_through_a_fault_misses_and_repeats_nothing(
    sandbox_factory, poll, monkeypatch, trigger_id, fault_id
):
    monkeypatch.setattr(polling, "enqueue_poll", lambda subscription_id: None)  # polls by hand
    shop = sandbox_factory(seed={"customers": RECORDS, "products": RECORDS, "orders": RECORDS})
    real_sleep(shop)
    connection = sandbox_connection(shop)
    path, options = TRIGGERS[trigger_id]
    made = automation(connection, trigger_id=trigger_id, name=trigger_id)
    TriggerSubscription.objects.filter(automation=made).update(options={"start": "all", **options})
    overrides = {"read_timeout": READ_TIMEOUT, "sleep": lambda seconds: None}

    first = poll(made, page_size=PAGE, page_budget=1, client_overrides=overrides)
    assert first.ok and first.more and first.new_events == PAGE
    # The fault outlasts the client's own retries (three tries): the poll fails on page 2.
    faults, words = READ_FAULTS[fault_id]
    for kind, extra in faults:
        shop.faults.add(kind, method="GET", path=path, times=3, **extra)
    failed = poll(made, page_size=PAGE, client_overrides=overrides)

    assert not failed.ok and failed.new_events == 0
    subscription = TriggerSubscription.objects.get(automation=made)
    assert words in subscription.last_error.lower(), subscription.last_error
    assert "tries again by itself" in subscription.last_error
    assert subscription.consecutive_failures == 1 and subscription.last_poll_outcome == "failed"
    shop.faults.clear()  # the store is back
    recovered = poll(made, page_size=PAGE, page_budget=50, client_overrides=overrides)
    assert recovered.ok and not recovered.more
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0 and subscription.last_poll_outcome == "ok"
    again = poll(made, page_size=PAGE, client_overrides=overrides)
    assert again.ok and again.new_events == 0

    assert event_ids(made) == store_ids(shop, trigger_id)  # each record once, none missed


@pytest.mark.parametrize("trigger_id", sorted(TRIGGERS))
def test_a_trigger_polls_on_through_an_admin_token_expiry(
    sandbox_factory, poll, monkeypatch, trigger_id
):
    monkeypatch.setattr(polling, "enqueue_poll", lambda subscription_id: None)
    shop = sandbox_factory(seed={"customers": RECORDS, "products": RECORDS, "orders": RECORDS})
    connection = sandbox_connection(shop, auth="session")
    path, options = TRIGGERS[trigger_id]
    made = automation(connection, trigger_id=trigger_id, name=trigger_id)
    TriggerSubscription.objects.filter(automation=made).update(options={"start": "all", **options})
    assert poll(made, page_size=PAGE, page_budget=1).more
    signed_in = shop.requests.count(("POST", "/V1/tfa/provider/google/authenticate"))

    shop.faults.add("expired_token", method="GET", path=path)
    done = poll(made, page_size=PAGE, page_budget=50)

    assert done.ok and not done.more
    assert shop.requests.count(("POST", "/V1/tfa/provider/google/authenticate")) == signed_in + 1
    assert event_ids(made) == store_ids(shop, trigger_id)


# -- actions ---------------------------------------------------------------------------------

SKU = "Tee/Red + Blue"
EMAIL = "known@example.com"


@pytest.fixture
def store(sandbox_factory):
    shop = sandbox_factory(seed={"customers": 0, "products": 0, "orders": 0})
    shop.store.product_save({"sku": SKU, "name": "Tee", "price": 20})
    shop.store.customer_create({"email": EMAIL, "firstname": "Kim", "lastname": "Known"})
    real_sleep(shop)
    return shop


def customers_with(shop, email):
    return [c for c in shop.store.customers.rows.values() if c["email"] == email]


def products_with(shop, sku):
    return [p for p in shop.store.products.rows.values() if p["sku"] == sku]


# action id: (inputs, (method, path) of its main request, check of the store afterwards)
ACTIONS = {
    "create_customer": (
        {"email": "new@example.com", "firstname": "Nia", "lastname": "Ray", "website_id": 1},
        ("POST", "/V1/customers"),
        lambda shop: len(customers_with(shop, "new@example.com")) == 1,
    ),
    "create_product": (
        {"sku": "NEW/1", "name": "New", "price": 5},
        ("POST", "/V1/products"),
        lambda shop: len(products_with(shop, "NEW/1")) == 1,
    ),
    "create_shipment": (
        {
            "order_increment_id": "{{ trigger.increment_id }}",
            "track_number": "1Z",
            "carrier_code": "ups",
        },
        ("POST", "/V1/order/*/ship"),
        lambda shop: len(shop.store.shipments) == 1,
    ),
    "get_customer_by_email": (
        {"email": EMAIL},
        ("GET", "/V1/customers/search"),
        lambda shop: len(shop.store.customers.rows) == 1,
    ),
    "get_product_by_sku": (
        {"sku": SKU},
        ("GET", "/V1/products/*"),
        lambda shop: len(shop.store.products.rows) == 1,
    ),
    "update_customer": (
        {"email": EMAIL, "lastname": "Changed"},
        ("PUT", "/V1/customers/*"),
        lambda shop: [c["lastname"] for c in customers_with(shop, EMAIL)] == ["Changed"],
    ),
    "update_product": (
        {"sku": SKU, "price": 25},
        ("PUT", "/V1/products/*"),
        lambda shop: [p["price"] for p in products_with(shop, SKU)] == [25],
    ),
}
WRITE_FAULTS = {
    # Before the store applied the write: it never arrives, or is held and then dropped.
    "timeout-before-applied": (
        [("latency", {"seconds": HOLD}), ("drop_connection", {})],
        f"did not answer within {READ_TIMEOUT:g}|connection",
    ),
    # After: the store carried it out and the answer is lost, or comes too late.
    "dropped-after-applied": ([("apply_then_drop", {})], "connection"),
    "timeout-after-applied": (
        [("apply_then_drop", {"seconds": HOLD})],
        f"did not answer within {READ_TIMEOUT:g}|connection",
    ),
}
ACTION_FAULTS = {
    **{key: (faults, words) for key, (faults, words) in READ_FAULTS.items()},
    "dropped": ([("drop_connection", {})], "connection"),
    **WRITE_FAULTS,
}
READS = ("get_customer_by_email", "get_product_by_sku")


def matrix():
    for action_id in sorted(ACTIONS):
        for fault_id in sorted(ACTION_FAULTS):
            if action_id in READS and fault_id in WRITE_FAULTS:
                continue  # a read applies nothing
            yield pytest.param(action_id, fault_id, id=f"{action_id}-{fault_id}")


def finish(event, clock, limit=8):
    """Run the event's steps, then retries as the dispatcher does when they are due."""
    runs.event_runs_execute(event.pk)
    for _ in range(limit):
        (run,) = runs_of(event)
        if run.status != RunStatus.PENDING:
            return run
        clock.advance((run.next_attempt_at - clock.now).total_seconds())
        run_tasks.dispatch_runs()
    raise AssertionError(f"the run did not end: {run.attempt_log}")


@pytest.mark.parametrize(("action_id", "fault_id"), list(matrix()))
def test_an_action_through_a_fault_ends_succeeded_once_with_the_failure_recorded(
    store, clock, monkeypatch, action_id, fault_id
):
    monkeypatch.setitem(runs.CLIENT_OPTIONS, "read_timeout", READ_TIMEOUT)
    order = store.store.order_create(lines=[(SKU, 1)], state="processing")
    inputs, (method, path), done = ACTIONS[action_id]
    event = fire(automation(sandbox_connection(store), (action_id, inputs)), order)
    faults, words = ACTION_FAULTS[fault_id]
    for kind, extra in faults:
        store.faults.add(kind, method=method, path=path, times=1, **extra)

    run = finish(event, clock)

    assert run.status == RunStatus.SUCCEEDED, json.dumps(run.attempt_log)
    assert done(store)  # done once: nothing created twice, the change made
    first = run.attempt_log[0]
    if first["outcome"] == "succeeded":
        # The store applied it and the answer was lost: found by looking, not sent again.
        assert fault_id in ("dropped-after-applied", "timeout-after-applied")
        assert first["note"] == "found in the store after an unknown outcome"
    else:
        assert first["outcome"] in ("retry", "unknown_outcome")
        assert any(word in first["error"].lower() for word in words.split("|")), json.dumps(first)
        assert len(run.attempt_log) >= 2


@pytest.mark.parametrize("action_id", sorted(ACTIONS))
def test_an_action_runs_on_through_an_admin_token_expiry(store, clock, action_id):
    order = store.store.order_create(lines=[(SKU, 1)], state="processing")
    inputs, _request, done = ACTIONS[action_id]
    event = fire(automation(sandbox_connection(store, auth="session"), (action_id, inputs)), order)
    # Any request that reads the token: the sign-in and POST /V1/customers do not.
    store.faults.add("expired_token")

    run = finish(event, clock)

    assert run.status == RunStatus.SUCCEEDED and run.attempts == 1
    assert done(store)
    if action_id != "create_customer":  # POST /V1/customers is anonymous: it reads no token
        assert not store.faults.pending()  # the token was refused once, and renewed


@pytest.mark.parametrize(
    ("action_id", "fault_id"),
    [
        ("create_customer", "503-maintenance"),
        ("create_shipment", "500"),
        ("update_product", "429-retry-after"),
    ],
)
def test_a_fault_that_outlasts_the_retries_fails_the_run_saying_why(
    store, clock, settings, action_id, fault_id
):
    settings.ACTION_RUN_MAX_ATTEMPTS = 3
    order = store.store.order_create(lines=[(SKU, 1)], state="processing")
    inputs, (method, path), _done = ACTIONS[action_id]
    event = fire(automation(sandbox_connection(store), (action_id, inputs)), order)
    faults, words = ACTION_FAULTS[fault_id]
    for kind, extra in faults:
        store.faults.add(kind, method=method, path=path, times=10, **extra)

    run = finish(event, clock)

    assert run.status == RunStatus.FAILED and run.attempts == 3
    assert words in run.error_message.lower() and "Gave up after 3 attempts" in run.error_message
    assert len(store.store.shipments) == 0 and not customers_with(store, "new@example.com")

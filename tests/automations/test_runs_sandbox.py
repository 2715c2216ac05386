"""Runs over real HTTP against the sandbox store: the steps, retries and unknown outcomes."""

from __future__ import annotations

import pytest

from automations import run_tasks, runs
from automations.models import ActionRun, RunStatus
from magento.sandbox.store import DEFAULT_GRANTS
from tests.automations.runs_helpers import (
    automation,
    fire,
    record_text,
    runs_of,
    sandbox_connection,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("private_network_allowed"),
]

SKU = "Tee/Red + Blue & Co ü"


@pytest.fixture
def shop(sandbox_factory):
    server = sandbox_factory(seed={"customers": 2, "products": 0, "orders": 0})
    server.store.product_save({"sku": SKU, "name": "Tee", "price": 20})
    server.store.product_save({"sku": "MUG-1", "name": "Mug", "price": 8})
    return server


def new_order(shop, lines=((SKU, 2), ("MUG-1", 1))):
    return shop.store.order_create(lines=list(lines), state="processing")


def ship_automation(connection):
    return automation(
        connection,
        ("get_product_by_sku", {"sku": "{{ trigger.items.0.sku }}"}),
        (
            "create_shipment",
            {
                "order_increment_id": "{{ trigger.increment_id }}",
                "track_number": "1Z-{{ trigger.increment_id }}",
                "carrier_code": "ups",
                "comment": "Packed: {{ steps.1.name }}",
            },
        ),
    )


def test_an_event_runs_its_steps_in_order_and_ships_once(shop, clock):
    connection = sandbox_connection(shop)
    order = new_order(shop)
    event = fire(ship_automation(connection), order)

    runs.event_runs_execute(event.pk)
    runs.event_runs_execute(event.pk)  # a second delivery of the task changes nothing

    product_run, ship_run = runs_of(event)
    assert [product_run.status, ship_run.status] == ["succeeded", "succeeded"]
    assert product_run.output["sku"] == SKU
    assert product_run.request_path == "/V1/products/Tee%2FRed%20%2B%20Blue%20%26%20Co%20%C3%BC"
    assert ship_run.inputs["track_number"] == f"1Z-{order['increment_id']}"
    assert ship_run.inputs["comment"] == "Packed: Tee"
    assert ship_run.request_method == "POST"
    assert ship_run.request_path == f"/V1/order/{order['entity_id']}/ship"
    assert ship_run.subject == f"order {order['increment_id']}"
    assert ship_run.attempts == 1 and ship_run.attempt_log[0]["outcome"] == "succeeded"
    shipments = shop.store.shipments
    assert len(shipments) == 1
    assert ship_run.output["id"] == next(iter(shipments))
    assert ship_run.response == ship_run.output["id"]
    assert shop.store.shipments[ship_run.output["id"]]["tracks"][0]["track_number"].startswith(
        "1Z-"
    )
    assert shop.store.orders.rows[order["entity_id"]]["state"] == "complete"


def test_a_failed_step_skips_the_later_ones(shop, clock):
    connection = sandbox_connection(shop)
    made = automation(
        connection,
        ("get_product_by_sku", {"sku": "NO-SUCH-SKU"}),
        ("create_shipment", {"order_increment_id": "{{ trigger.increment_id }}"}),
    )
    event = fire(made, new_order(shop))

    runs.event_runs_execute(event.pk)

    first, second = runs_of(event)
    assert first.status == RunStatus.FAILED and first.error_class == "NotFoundError"
    assert first.attempts == 1 and first.next_attempt_at is None
    assert second.status == RunStatus.SKIPPED
    assert "step 1 (get_product_by_sku) failed" in second.error_message
    assert shop.store.shipments == {}


def test_a_missing_path_fails_the_run_naming_the_path(shop, clock):
    connection = sandbox_connection(shop)
    made = automation(connection, ("get_product_by_sku", {"sku": "{{ trigger.items.5.sku }}"}))
    event = fire(made, new_order(shop))

    runs.event_runs_execute(event.pk)

    (run,) = runs_of(event)
    assert run.status == RunStatus.FAILED
    assert run.error_class == "MappingError"
    assert "trigger.items.5.sku" in run.error_message
    assert "list of 2" in run.error_message


@pytest.mark.parametrize(
    ("kind", "extra"),
    [("rate_limit", {"retry_after": 120}), ("maintenance", {}), ("server_error", {})],
)
def test_transient_failures_wait_and_retry(shop, clock, kind, extra):
    connection = sandbox_connection(shop)
    made = automation(connection, ("get_product_by_sku", {"sku": SKU}))
    event = fire(made, new_order(shop))
    shop.faults.add(kind, method="GET", path="/V1/products/*", times=2, **extra)

    runs.event_runs_execute(event.pk)
    (run,) = runs_of(event)
    wait = 120 if kind == "rate_limit" else 30
    assert run.status == RunStatus.PENDING and run.attempts == 1
    assert (run.next_attempt_at - clock.now).total_seconds() == wait
    assert run.attempt_log[0]["outcome"] == "retry"

    clock.advance(wait - 1)
    assert run_tasks.dispatch_runs() == {"stuck_failed": 0, "events_queued": 0}
    clock.advance(1)
    assert run_tasks.dispatch_runs()["events_queued"] == 1  # runs at once (Q sync in tests)
    (run,) = runs_of(event)
    assert run.status == RunStatus.PENDING and run.attempts == 2
    second_wait = 120 if kind == "rate_limit" else 60  # exponential without Retry-After
    assert (run.next_attempt_at - clock.now).total_seconds() == second_wait

    clock.advance(second_wait)
    run_tasks.dispatch_runs()
    (run,) = runs_of(event)
    assert run.status == RunStatus.SUCCEEDED and run.attempts == 3
    assert [entry["outcome"] for entry in run.attempt_log] == ["retry", "retry", "succeeded"]


def test_retries_stop_at_the_maximum(shop, clock, settings):
    settings.ACTION_RUN_MAX_ATTEMPTS = 2
    connection = sandbox_connection(shop)
    made = automation(
        connection, ("get_product_by_sku", {"sku": SKU}), ("get_product_by_sku", {"sku": SKU})
    )
    event = fire(made, new_order(shop))
    shop.faults.add("maintenance", method="GET", path="/V1/products/*", times=5)

    runs.event_runs_execute(event.pk)
    clock.advance(30)
    run_tasks.dispatch_runs()

    first, second = runs_of(event)
    assert first.status == RunStatus.FAILED and first.attempts == 2
    assert first.error_class == "MaintenanceError"
    assert "Gave up after 2 attempts" in first.error_message
    assert second.status == RunStatus.SKIPPED


@pytest.mark.parametrize(
    ("grants", "step", "error_class"),
    [
        (
            DEFAULT_GRANTS - {"Magento_Catalog::products"},
            ("get_product_by_sku", {"sku": SKU}),
            "AuthenticationError",
        ),
        (
            DEFAULT_GRANTS,
            ("create_customer", {"email": "dup@example.com", "firstname": "A", "lastname": "B"}),
            "ValidationError",
        ),
    ],
)
def test_permanent_failures_fail_at_once(sandbox_factory, clock, grants, step, error_class):
    shop = sandbox_factory(
        granted_resources=grants, seed={"customers": 0, "products": 1, "orders": 0}
    )
    shop.store.customer_create({"email": "dup@example.com", "firstname": "A", "lastname": "B"})
    connection = sandbox_connection(shop)
    event = fire(automation(connection, step), {"entity_id": 1})

    runs.event_runs_execute(event.pk)

    (run,) = runs_of(event)
    assert run.status == RunStatus.FAILED and run.attempts == 1
    assert run.error_class == error_class
    assert run.response["status"] in (400, 401)


def test_an_expired_admin_token_is_renewed_and_the_step_goes_on(shop, clock):
    connection = sandbox_connection(shop, auth="session")
    made = automation(
        connection, ("get_product_by_sku", {"sku": SKU}), ("get_product_by_sku", {"sku": "MUG-1"})
    )
    event = fire(made, new_order(shop))
    first_event_runs = runs.event_runs_execute(event.pk)
    assert [run.status for run in first_event_runs] == ["succeeded", "succeeded"]

    shop.change_state(expire_admin_tokens=True)
    again = fire(made, new_order(shop), entity_id=999)
    assert [run.status for run in runs.event_runs_execute(again.pk)] == ["succeeded", "succeeded"]


def order_creates(shop):
    order = new_order(shop)
    return (
        "create_shipment",
        {"order_increment_id": order["increment_id"]},
        "/V1/order/*/ship",
        lambda: len(shop.store.shipments),
    )


CREATES = {
    "create_customer": (
        {"email": "new@example.com", "firstname": "Nia", "lastname": "Ray", "website_id": 1},
        "/V1/customers",
        lambda shop: sum(
            1 for c in shop.store.customers.rows.values() if c["email"] == "new@example.com"
        ),
    ),
    "create_product": (
        {"sku": "NEW/1", "name": "New", "price": 5},
        "/V1/products",
        lambda shop: sum(1 for p in shop.store.products.rows.values() if p["sku"] == "NEW/1"),
    ),
    "create_shipment": (
        None,
        "/V1/order/*/ship",
        lambda shop: len(shop.store.shipments),
    ),
}


@pytest.mark.parametrize("action_id", sorted(CREATES))
@pytest.mark.parametrize("applied", [True, False], ids=["store-applied-it", "store-did-not"])
def test_an_unknown_outcome_looks_in_the_store_before_sending_again(
    shop, clock, action_id, applied
):
    inputs, path, count = CREATES[action_id]
    if inputs is None:
        inputs = {"order_increment_id": new_order(shop)["increment_id"]}
    connection = sandbox_connection(shop)
    event = fire(automation(connection, (action_id, inputs)), {"entity_id": 1})
    shop.faults.add("apply_then_drop" if applied else "drop_connection", method="POST", path=path)

    runs.event_runs_execute(event.pk)
    (run,) = runs_of(event)

    if applied:
        assert run.status == RunStatus.SUCCEEDED and run.attempts == 1
        assert run.attempt_log[0]["note"] == "found in the store after an unknown outcome"
        assert run.output  # the record found is the output later steps use
    else:
        assert run.status == RunStatus.PENDING
        assert run.attempt_log[0]["note"] == "not found in the store after an unknown outcome"
        assert count(shop) == 0
        clock.advance(30)
        run_tasks.dispatch_runs()
        (run,) = runs_of(event)
        assert run.status == RunStatus.SUCCEEDED and run.attempts == 2
    assert count(shop) == 1


def test_a_shipment_found_after_an_unknown_outcome_is_ours_not_an_older_one(shop, clock):
    order = new_order(shop)
    first_item = order["items"][0]
    shop.store.order_ship(
        order["entity_id"], items=[{"order_item_id": first_item["item_id"], "qty": 1}]
    )
    connection = sandbox_connection(shop)
    event = fire(
        automation(connection, ("create_shipment", {"order_id": order["entity_id"]})), order
    )
    shop.faults.add("drop_connection", method="POST", path="/V1/order/*/ship")

    runs.event_runs_execute(event.pk)

    (run,) = runs_of(event)
    assert run.status == RunStatus.PENDING  # the older shipment was not taken for ours
    clock.advance(30)
    run_tasks.dispatch_runs()
    (run,) = runs_of(event)
    assert run.status == RunStatus.SUCCEEDED
    assert len(shop.store.shipments) == 2


def test_stuck_runs_are_failed_and_the_later_steps_skipped(shop, clock, settings):
    connection = sandbox_connection(shop)
    made = automation(
        connection, ("get_product_by_sku", {"sku": SKU}), ("get_product_by_sku", {"sku": SKU})
    )
    event = fire(made, new_order(shop))
    first, _second = runs_of(event)
    ActionRun.objects.filter(pk=first.pk).update(
        status=RunStatus.RUNNING, started_at=clock.now, attempts=1
    )

    clock.advance(settings.Q_CLUSTER["timeout"] - 1)
    assert runs.runs_fail_stuck() == 0
    clock.advance(2)
    assert runs.runs_fail_stuck() == 1

    first, second = runs_of(event)
    assert first.status == RunStatus.FAILED and first.error_class == "StuckRun"
    assert "check the store" in first.error_message
    assert second.status == RunStatus.SKIPPED
    runs.event_runs_execute(event.pk)  # nothing runs again
    assert [r.status for r in runs_of(event)] == ["failed", "skipped"]


def test_a_run_is_claimed_once(shop, clock):
    connection = sandbox_connection(shop)
    event = fire(automation(connection, ("get_product_by_sku", {"sku": SKU})), new_order(shop))
    (run,) = runs_of(event)

    assert runs._claim(run, clock.now) is True
    assert runs._claim(run, clock.now) is False
    runs.event_runs_execute(event.pk)  # running elsewhere: left alone
    (run,) = runs_of(event)
    assert run.status == RunStatus.RUNNING and run.attempts == 1


def test_no_secret_reaches_a_run_record(shop, clock):
    connection = sandbox_connection(shop)
    c = shop.credentials
    made = automation(
        connection,
        (
            "create_customer",
            {
                "email": "sec@example.com",
                "firstname": "Sam",
                "lastname": "Secret",
                "password": "Hunter2-Hunter2",
                # A secret that slipped into a mapping is scrubbed too.
                "taxvat": c.access_token,
            },
        ),
    )
    event = fire(made, {"entity_id": 1})
    runs.event_runs_execute(event.pk)

    (run,) = runs_of(event)
    assert run.status == RunStatus.SUCCEEDED
    text = record_text(run)
    for secret in (c.access_token, c.consumer_secret, c.access_token_secret, "Hunter2-Hunter2"):
        assert secret not in text
    assert run.inputs["password"] == "[hidden]"

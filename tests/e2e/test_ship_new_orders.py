"""End to end: the sandbox store over real HTTP, a poll, the worker's tasks (Django-Q2 in sync
mode, and `poll --sync`), and the example automation of `make demo`: new orders end as
shipments in the store, every run is recorded, and a re-poll never ships twice."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from automations import run_tasks
from automations.demo import demo_spec
from automations.models import ActionRun, TriggerEvent, TriggerSubscription
from automations.polling import subscription_poll
from automations.services import automation_save
from tests.automations.runs_helpers import sandbox_connection

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def private_network_allowed(settings):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True


@pytest.fixture
def shop(sandbox_factory):
    server = sandbox_factory(seed={"customers": 2, "products": 3, "orders": 0})
    return server


@pytest.fixture
def example(shop):
    connection = sandbox_connection(shop, name="Demo sandbox store")
    spec = demo_spec(connection)
    spec.options = {"start": "all"}  # the store has no order yet: every one counts
    return automation_save(spec=spec)


def order(shop, state="processing"):
    sku = shop.store.products.rows[1]["sku"]
    return shop.store.order_create(lines=[(sku, 1)], state=state)


def shipments_by_order(shop) -> dict[int, int]:
    counts: dict[int, int] = {}
    for shipment in shop.store.shipments.values():
        counts[shipment["order_id"]] = counts.get(shipment["order_id"], 0) + 1
    return counts


def poll(automation):
    return subscription_poll(subscription_id=automation.trigger.pk)


def test_new_orders_are_shipped_once_and_every_run_is_recorded(shop, example):
    shippable = [order(shop), order(shop, "new"), order(shop)]
    canceled = order(shop, "canceled")

    result = poll(example)  # the worker's tasks run as each page commits (sync mode)

    assert (result.ok, result.new_events) == (True, 4)
    assert shipments_by_order(shop) == {o["entity_id"]: 1 for o in shippable}
    runs = ActionRun.objects.order_by("event__entity_id", "step_position")
    assert [(r.event.entity_id, r.step_position, r.status) for r in runs] == [
        *[(o["entity_id"], p, "succeeded") for o in shippable for p in (1, 2)],
        (canceled["entity_id"], 1, "succeeded"),
        (canceled["entity_id"], 2, "failed"),
    ]
    failed = runs.get(status="failed")
    assert "canceled" in failed.error_message
    shipped = runs.filter(step_position=2, status="succeeded").first()
    assert shipped.inputs["track_number"].startswith("DEMO-")
    assert shipped.inputs["comment"].endswith(f"{shop.store.products.rows[1]['name']}.")
    assert all(r.attempts == 1 and r.finished_at for r in runs)

    # Polling again, and again from the very start (as after a crash that lost the cursor):
    # no new event, no new run, no second shipment.
    assert poll(example).new_events == 0
    TriggerSubscription.objects.filter(automation=example).update(
        cursor_timestamp=None, cursor_entity_id=None
    )
    again = poll(example)
    assert (again.new_events, again.duplicates) == (0, 4)
    for event in TriggerEvent.objects.all():  # a task delivered twice changes nothing
        run_tasks.execute_event_runs(event.pk)
    assert ActionRun.objects.count() == 8
    assert shipments_by_order(shop) == {o["entity_id"]: 1 for o in shippable}

    late = order(shop)
    assert poll(example).new_events == 1
    assert shipments_by_order(shop)[late["entity_id"]] == 1
    assert ActionRun.objects.count() == 10


def test_poll_sync_runs_the_steps_itself_and_the_queued_task_ships_nothing_more(
    shop, example, monkeypatch
):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)  # tasks wait in the broker, as with a real worker
    placed = order(shop)
    out = io.StringIO()
    call_command("poll", example.name, "--sync", stdout=out)
    printed = json.loads(out.getvalue())
    assert printed["new_events"] == 1
    assert printed["runs"] == {"succeeded": 2}
    assert shipments_by_order(shop) == {placed["entity_id"]: 1}
    # The worker now takes the queued task: the steps are done, nothing is sent again.
    run_tasks.execute_event_runs(TriggerEvent.objects.get().pk)
    assert shipments_by_order(shop) == {placed["entity_id"]: 1}
    assert ActionRun.objects.filter(status="succeeded").count() == 2

"""Work left behind by a killed process is taken over at once, not after the timeouts.

A process of this machine that no longer exists holds nothing: its poll lease is taken over
(by exactly one poller), and its running step is resolved: a create whose record reached the
store succeeds with it, anything else fails saying to check the store.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess

import pytest
from django.utils import timezone

from automations import polling, runs, tasks
from automations.models import ActionRun, RunStatus, TriggerEvent, TriggerSubscription
from automations.workers import owner_is_dead, this_host, this_worker
from magento.client import MagentoClient
from tests.automations.runs_helpers import automation, fire, runs_of, sandbox_connection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def dead_pid():
    """The pid of a process that has ended (and been reaped)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing after it runs, no `except Exception` sees it."""


def test_only_a_stopped_process_of_this_machine_counts_as_dead(dead_pid):
    assert owner_is_dead(f"{this_host()}:{dead_pid}")
    assert owner_is_dead(f"{this_host()}:{dead_pid}:a1b2c3d4")
    assert not owner_is_dead(this_worker())
    assert not owner_is_dead(f"{this_host()}:{os.getppid()}:a1b2c3d4")  # alive
    assert not owner_is_dead(f"another-machine:{dead_pid}")  # cannot be checked from here
    for name in ("", "w1", f"{this_host()}:", f"{this_host()}:pid", f"{this_host()}:0"):
        assert not owner_is_dead(name)


# -- poll leases -------------------------------------------------------------------------------


def hold_lease(automation, owner: str) -> TriggerSubscription:
    TriggerSubscription.objects.filter(automation=automation).update(
        lease_owner=owner, lease_expires_at=timezone.now() + dt.timedelta(hours=1)
    )
    return TriggerSubscription.objects.get(automation=automation)


def test_a_lease_of_a_killed_poller_is_taken_over_at_once(
    shop, make_automation, poll, dead_pid, monkeypatch
):
    shop.store.seed(orders=7)
    automation = make_automation(options={"start": "all"})
    hold_lease(automation, f"{this_host()}:{dead_pid}:deadbeef")

    result = poll(automation)

    assert result.ok and result.new_events == 7
    subscription = TriggerSubscription.objects.get(automation=automation)
    assert subscription.lease_owner == "" and subscription.lease_expires_at is None


@pytest.mark.parametrize(
    "owner",
    [
        pytest.param(lambda pid: f"{this_host()}:{os.getppid()}:deadbeef", id="alive-here"),
        pytest.param(lambda pid: f"another-machine:{pid}:deadbeef", id="on-another-machine"),
    ],
)
def test_a_lease_of_a_live_or_unknown_poller_is_left_alone(
    shop, make_automation, poll, dead_pid, owner
):
    shop.store.seed(orders=2)
    automation = make_automation(options={"start": "all"})
    held = hold_lease(automation, owner(dead_pid))

    result = poll(automation)

    assert not result.ok and "running" in result.error and result.requests == 0
    assert TriggerSubscription.objects.get(pk=held.pk).lease_owner == held.lease_owner
    assert TriggerEvent.objects.count() == 0


def test_two_pollers_taking_over_a_dead_lease_one_wins(shop, make_automation, dead_pid):
    automation = make_automation()
    held = hold_lease(automation, f"{this_host()}:{dead_pid}:deadbeef")
    now = timezone.now()
    assert polling._lease_take(held.pk, "first", now) is True
    # The second matches the dead owner no longer: "first" is alive (this process's tests).
    assert polling._lease_take(held.pk, "second", now) is False
    assert TriggerSubscription.objects.get(pk=held.pk).lease_owner == "first"


def test_the_dispatcher_requeues_a_poll_whose_poller_was_killed(
    shop, make_automation, dead_pid, monkeypatch
):
    automation = make_automation()
    queued = []
    monkeypatch.setattr(polling, "enqueue_poll", queued.append)
    now = timezone.now()
    TriggerSubscription.objects.filter(automation=automation).update(
        last_poll_at=now - dt.timedelta(hours=1), poll_queued_at=now
    )
    subscription = hold_lease(automation, f"{this_host()}:{os.getppid()}:deadbeef")
    assert polling.polls_dispatch(now=now) == []  # alive: its poll is running

    hold_lease(automation, f"{this_host()}:{dead_pid}:deadbeef")
    assert polling.polls_dispatch(now=now) == [subscription.pk]


def test_a_starting_worker_requeues_polls_queued_before_it(shop, make_automation, monkeypatch):
    automation = make_automation()
    queued = []
    monkeypatch.setattr(polling, "enqueue_poll", queued.append)
    now = timezone.now()
    TriggerSubscription.objects.filter(automation=automation).update(
        last_poll_at=now - dt.timedelta(hours=1), poll_queued_at=now - dt.timedelta(seconds=5)
    )
    assert polling.polls_dispatch(now=now) == []  # queued a moment ago: waiting for a worker
    subscription_id = automation.trigger.pk
    assert polling.polls_dispatch(now=now, lost_queued_before=now) == [subscription_id]


# -- running steps -----------------------------------------------------------------------------


def run_until_killed(event, monkeypatch, *, after_answer: bool = True) -> ActionRun:
    """Execute the event's runs, killing the "worker" when a POST is answered (the store has
    carried it out) or as it is about to be sent; the run is left as a SIGKILL leaves it."""
    real_decode = MagentoClient._decode
    real_request = MagentoClient._send

    def decode(self, response, method, path, *rest):
        if method == "POST" and after_answer:
            raise WorkerKilled
        return real_decode(self, response, method, path, *rest)

    def send(self, method, *args, **kwargs):
        if method == "POST" and not after_answer:
            raise WorkerKilled
        return real_request(self, method, *args, **kwargs)

    monkeypatch.setattr(MagentoClient, "_decode", decode)
    monkeypatch.setattr(MagentoClient, "_send", send)
    with pytest.raises(WorkerKilled):
        runs.event_runs_execute(event.pk)
    monkeypatch.setattr(MagentoClient, "_decode", real_decode)
    monkeypatch.setattr(MagentoClient, "_send", real_request)
    killed = ActionRun.objects.get(event=event, status=RunStatus.RUNNING)
    assert killed.worker == this_worker()
    return killed


def died(run: ActionRun, pid: int) -> None:
    ActionRun.objects.filter(pk=run.pk).update(worker=f"{this_host()}:{pid}")


def first_sku(shop) -> str:
    return next(iter(shop.store.products.rows.values()))["sku"]


CUSTOMER = {"email": "ada@example.com", "firstname": "Ada", "lastname": "L", "website_id": 1}


@pytest.mark.parametrize("applied", [True, False], ids=["store-applied-it", "never-sent"])
@pytest.mark.parametrize("action_id", ["create_customer", "create_product", "create_shipment"])
def test_a_create_whose_worker_was_killed_is_resolved_at_once_by_looking_in_the_store(
    shop, clock, monkeypatch, dead_pid, action_id, applied
):
    connection = sandbox_connection(shop)
    order = shop.store.order_create(lines=[(first_sku(shop), 1)], state="processing")
    inputs = {
        "create_customer": CUSTOMER,
        "create_product": {"sku": "KILLED/1", "name": "Killed", "price": 3},
        "create_shipment": {"order_increment_id": "{{ trigger.increment_id }}"},
    }[action_id]
    made = automation(
        connection, (action_id, inputs), ("get_product_by_sku", {"sku": first_sku(shop)})
    )
    event = fire(made, order)
    killed = run_until_killed(event, monkeypatch, after_answer=applied)

    assert runs.runs_fail_stuck() == 0  # its process (this one) is alive: still running
    died(killed, dead_pid)
    assert runs.runs_fail_stuck() == 1
    assert runs.runs_fail_stuck() == 0

    create, later = runs_of(event)
    if applied:
        assert create.status == RunStatus.SUCCEEDED and create.output
        assert create.attempt_log[-1]["note"] == "found in the store after the worker stopped"
        assert later.status == RunStatus.SUCCEEDED  # the event's later steps went on
    else:
        assert create.status == RunStatus.FAILED and create.error_class == "StuckRun"
        assert "check the store before running it again" in create.error_message
        assert later.status == RunStatus.SKIPPED
    assert create.worker == "" and create.finished_at is not None
    made_count = {
        "create_customer": sum(
            1 for c in shop.store.customers.rows.values() if c["email"] == CUSTOMER["email"]
        ),
        "create_product": sum(
            1 for p in shop.store.products.rows.values() if p["sku"] == "KILLED/1"
        ),
        "create_shipment": len(shop.store.shipments),
    }[action_id]
    assert made_count == (1 if applied else 0)  # and nothing was sent again


def test_a_shipment_killed_before_sending_is_not_taken_for_an_older_one(
    shop, clock, monkeypatch, dead_pid
):
    connection = sandbox_connection(shop)
    order = shop.store.order_create(lines=[(first_sku(shop), 2)], state="processing")
    item = order["items"][0]
    shop.store.order_ship(order["entity_id"], items=[{"order_item_id": item["item_id"], "qty": 1}])
    event = fire(
        automation(connection, ("create_shipment", {"order_id": order["entity_id"]})), order
    )
    killed = run_until_killed(event, monkeypatch, after_answer=False)
    assert killed.memo["shipments_before"]  # noted before sending

    died(killed, dead_pid)
    runs.runs_fail_stuck()

    (run,) = runs_of(event)
    assert run.status == RunStatus.FAILED and len(shop.store.shipments) == 1


def test_a_read_whose_worker_was_killed_fails_saying_so(shop, clock, monkeypatch, dead_pid):
    connection = sandbox_connection(shop)
    event = fire(
        automation(connection, ("get_product_by_sku", {"sku": first_sku(shop)})), {"entity_id": 1}
    )
    (run,) = runs_of(event)
    assert runs._claim(run, clock.now)
    died(run, dead_pid)

    assert tasks.recover()["stuck_resolved"] == 1

    (run,) = runs_of(event)
    assert run.status == RunStatus.FAILED and run.error_class == "StuckRun"
    assert run.attempt_log[-1]["error"] == "stuck"


def test_a_manual_run_whose_process_was_killed_is_resolved(shop, clock, monkeypatch, dead_pid):
    connection = sandbox_connection(shop)
    real_decode = MagentoClient._decode

    def decode(self, response, method, path, *rest):
        if method == "POST":
            raise WorkerKilled
        return real_decode(self, response, method, path, *rest)

    monkeypatch.setattr(MagentoClient, "_decode", decode)
    with pytest.raises(WorkerKilled):
        runs.action_run_manual(
            action_id="create_customer", connection=connection, inputs=dict(CUSTOMER)
        )
    monkeypatch.setattr(MagentoClient, "_decode", real_decode)
    run = ActionRun.objects.get()
    assert run.status == RunStatus.RUNNING
    died(run, dead_pid)

    assert runs.runs_fail_stuck() == 1

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.output["email"] == CUSTOMER["email"]


def test_a_starting_worker_requeues_runs_whose_tasks_were_lost(shop, clock, monkeypatch):
    connection = sandbox_connection(shop)
    event = fire(
        automation(connection, ("get_product_by_sku", {"sku": first_sku(shop)})), {"entity_id": 1}
    )
    ActionRun.objects.filter(event=event).update(queued_at=clock.now - dt.timedelta(seconds=5))
    queued = []
    monkeypatch.setattr(runs, "_enqueue", queued.extend)

    assert runs.runs_enqueue_due() == []  # queued a moment ago: its task is waiting
    assert runs.runs_enqueue_due(lost_queued_before=clock.now) == [event.pk]
    assert queued == [event.pk]


def test_a_backlog_whose_follow_up_poll_was_lost_is_due_again(shop, make_automation, monkeypatch):
    automation = make_automation()
    queued = []
    monkeypatch.setattr(polling, "enqueue_poll", queued.append)
    now = timezone.now()
    TriggerSubscription.objects.filter(automation=automation).update(
        last_poll_at=now - dt.timedelta(seconds=30),
        backlog_remaining=5000,
        poll_queued_at=now - dt.timedelta(seconds=30),
    )
    assert polling.polls_dispatch(now=now) == []  # its follow-up is waiting for a worker
    later = now + dt.timedelta(seconds=polling.QUEUED_GRACE_SECONDS)
    assert polling.polls_dispatch(now=later) == [automation.trigger.pk]  # well within 5 minutes

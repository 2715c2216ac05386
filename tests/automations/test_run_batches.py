"""A worker task runs the steps of many events together (automations.runs.events_runs_execute).

Over real HTTP against the sandbox store: the events' steps in order, bookkeeping that does not
grow with the number of runs, a write claimed before it is sent and recorded at once, reads
recorded together, two tasks with the same events, a task out of time, and a killed worker.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from automations import run_tasks, runs
from automations.models import ActionRun, AlertKind, AlertState, RunStatus
from magento.client import MagentoClient
from tests.automations.runs_helpers import automation, fire, runs_of, sandbox_connection

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("private_network_allowed"),
]


class WorkerKilled(BaseException):
    """Stands for SIGKILL: no `except Exception` sees it."""


@pytest.fixture
def shop(sandbox_factory):
    server = sandbox_factory(seed={"customers": 0, "products": 0, "orders": 0})
    for number in range(1, 61):
        server.store.product_save({"sku": f"SKU-{number}", "name": f"Product {number}", "price": 5})
    return server


def lookups(shop, *, steps=2, name="Look up"):
    """An automation that looks a product up, then (by default) looks it up again by the name
    of the SKU the first step found: the second step depends on the first one's output."""
    chain = [("get_product_by_sku", {"sku": "{{ trigger.sku }}"})]
    chain += [("get_product_by_sku", {"sku": "{{ steps.1.sku }}"})] * (steps - 1)
    connection_ = sandbox_connection(shop, name=name)
    return automation(connection_, *chain, name=name, trigger_id="product_created")


def events_for(made, first: int, count: int):
    return [
        fire(made, {"id": number, "sku": f"SKU-{number}"}) for number in range(first, first + count)
    ]


def test_a_task_runs_each_event_s_steps_in_order(shop, clock):
    made = lookups(shop)
    events = events_for(made, 1, 5)
    shop.requests.clear()

    result = run_tasks.execute_events_runs([event.pk for event in events])

    assert result is None  # the task's own return value is not the history
    for number, event in enumerate(events, start=1):
        first, second = runs_of(event)
        assert (first.status, second.status) == (RunStatus.SUCCEEDED, RunStatus.SUCCEEDED)
        assert first.output["sku"] == second.output["sku"] == f"SKU-{number}"
        assert second.inputs == {"sku": f"SKU-{number}"}
        assert first.attempts == second.attempts == 1
        assert [entry["outcome"] for entry in first.attempt_log] == ["succeeded"]
        assert first.finished_at is not None and first.duration_ms is not None
        assert first.worker == "" and first.started_at is not None
    assert [method for method, _ in shop.requests] == ["GET"] * 10


def test_the_bookkeeping_of_a_task_does_not_grow_with_its_runs(shop, clock, settings):
    """The statements of a task are the same for 5 events as for 40 (reads: no claim, the
    results of a round in one prepared statement)."""
    settings.RUN_BATCH_EVENTS = 100
    made = lookups(shop)
    runs.events_runs_execute([event.pk for event in events_for(made, 1, 1)])  # the client kept
    few, many = events_for(made, 2, 5), events_for(made, 7, 40)

    counts = []
    for events in (few, many):
        with CaptureQueriesContext(connection) as captured:
            runs.events_runs_execute([event.pk for event in events])
        counts.append(len(captured.captured_queries))

    assert counts[0] == counts[1]
    assert counts[0] <= 12  # a read, and per round of steps: a client check, results, alerts
    done = ActionRun.objects.filter(status=RunStatus.SUCCEEDED).count()
    assert done == 2 * 46


def test_a_write_is_claimed_before_it_is_sent_and_recorded_before_the_next_request(
    shop, clock, monkeypatch
):
    made = automation(
        sandbox_connection(shop),
        ("get_product_by_sku", {"sku": "{{ trigger.sku }}"}),
        ("update_product", {"sku": "{{ steps.1.sku }}", "name": "Renamed {{ trigger.id }}"}),
        name="Rename",
        trigger_id="product_created",
    )
    events = events_for(made, 1, 3)
    seen = []
    real_send = MagentoClient._send

    def send(self, method, *args, **kwargs):
        # What the database holds at the moment each write leaves for the store.
        if method == "PUT":
            seen.append(
                {
                    run.event_id: (run.step_position, run.status, run.inputs)
                    for run in ActionRun.objects.filter(step_position=2)
                }
            )
        return real_send(self, method, *args, **kwargs)

    monkeypatch.setattr(MagentoClient, "_send", send)
    runs.events_runs_execute([event.pk for event in events])

    ids = [event.pk for event in events]
    assert len(seen) == 3
    for index, snapshot in enumerate(seen):
        # The write going out is claimed with its inputs; the writes before it are recorded.
        status, inputs = snapshot[ids[index]][1:]
        assert status == RunStatus.RUNNING
        assert (inputs["sku"], inputs["name"]) == (f"SKU-{index + 1}", f"Renamed {index + 1}")
        assert [snapshot[ids[before]][1] for before in range(index)] == ["succeeded"] * index
    assert [shop.store.products.rows[i]["name"] for i in sorted(shop.store.products.rows)][:3] == [
        "Renamed 1",
        "Renamed 2",
        "Renamed 3",
    ]


@pytest.mark.parametrize("overlap", [3, 1], ids=["same-events", "one-event-in-common"])
def test_two_tasks_with_the_same_events_record_each_step_once(
    shop, clock, monkeypatch, caplog, overlap
):
    """A task queued twice (the recovery queues again what may be lost): the second delivery
    runs while the first waits for the store; each step is recorded once, and the shipment of
    the later step is made once."""
    connection_ = sandbox_connection(shop)
    made = automation(
        connection_,
        ("get_product_by_sku", {"sku": "SKU-1"}),
        ("create_shipment", {"order_increment_id": "{{ trigger.increment_id }}"}),
        name="Ship",
    )
    orders = [shop.store.order_create(lines=[("SKU-1", 1)], state="processing") for _ in range(3)]
    events = [fire(made, order) for order in orders]
    ids = [event.pk for event in events]
    real_send = MagentoClient._send
    interrupted = []

    def send(self, method, *args, **kwargs):
        if not interrupted:
            interrupted.append(True)
            runs.events_runs_execute(ids[:overlap])  # the other delivery, start to end
        return real_send(self, method, *args, **kwargs)

    monkeypatch.setattr(MagentoClient, "_send", send)
    with caplog.at_level("INFO", logger="automations.runs"):
        runs.events_runs_execute(ids)

    # The first delivery read the products of the events in common too, and kept none of
    # those answers; it went on with the others.
    kept_not = [r for r in caplog.records if "its result is not kept" in r.getMessage()]
    assert len(kept_not) == overlap
    for event in events:
        lookup, ship = runs_of(event)
        assert (lookup.status, ship.status) == (RunStatus.SUCCEEDED, RunStatus.SUCCEEDED)
        assert lookup.attempts == ship.attempts == 1
        assert len(lookup.attempt_log) == len(ship.attempt_log) == 1
    assert len(shop.store.shipments) == 3


def test_a_task_out_of_time_starts_no_more_steps_and_queues_the_rest(
    shop, clock, settings, monkeypatch
):
    settings.RUN_TASK_SECONDS = 10
    made = lookups(shop, steps=2)
    events = events_for(made, 1, 4)
    queued = []
    monkeypatch.setattr(runs, "_enqueue", queued.append)
    ticks = iter(range(0, 1000, 3))  # each look at the clock: 3 seconds later

    runs.events_runs_execute([event.pk for event in events], clock=lambda: next(ticks))

    done = ActionRun.objects.filter(status=RunStatus.SUCCEEDED).count()
    assert 0 < done < 8
    assert not ActionRun.objects.filter(status=RunStatus.RUNNING).exists()
    assert len(queued) == 1
    waiting = set(
        ActionRun.objects.filter(status=RunStatus.PENDING).values_list("event_id", flat=True)
    )
    assert waiting and waiting <= set(queued[0])
    assert all(r.attempts == 0 for r in ActionRun.objects.filter(status=RunStatus.PENDING))

    runs.events_runs_execute(queued[0])  # the task queued for the rest
    assert ActionRun.objects.filter(status=RunStatus.SUCCEEDED).count() == 8


def test_reads_of_a_killed_worker_are_left_pending_and_read_again(shop, clock, monkeypatch):
    """A worker killed before it wrote its round's results (reads are recorded together) leaves
    those runs as they were: pending, no attempt counted; the recovery at the next worker's
    start queues them, and they are read once more."""
    made = lookups(shop, steps=1)
    events = events_for(made, 1, 6)

    def killed(pending):
        raise WorkerKilled

    monkeypatch.setattr(runs, "_results_write", killed)
    with pytest.raises(WorkerKilled):
        runs.events_runs_execute([event.pk for event in events])
    monkeypatch.undo()
    monkeypatch.setattr("automations.runs._now", clock)

    assert set(ActionRun.objects.values_list("status", "attempts", "worker")) == {
        (RunStatus.PENDING, 0, "")
    }
    queued = []
    monkeypatch.setattr(runs, "_enqueue", queued.append)
    started = timezone.now()  # a worker starting after the kill
    assert runs.runs_enqueue_due(lost_queued_before=started) == [e.pk for e in events]
    runs.events_runs_execute(queued[0])
    assert set(ActionRun.objects.values_list("status", "attempts")) == {(RunStatus.SUCCEEDED, 1)}


def test_events_are_queued_in_tasks_of_run_batch_events(settings, monkeypatch):
    settings.RUN_BATCH_EVENTS = 3
    queued = []
    monkeypatch.setattr(
        "django_q.tasks.async_task", lambda name, ids, **options: queued.append((name, ids))
    )

    runs._enqueue([1, 2, 3, 4, 2, 5, 6, 7])

    assert queued == [
        (runs.EXECUTE_BATCH_TASK, [1, 2, 3]),
        (runs.EXECUTE_BATCH_TASK, [4, 5, 6]),
        (runs.EXECUTE_BATCH_TASK, [7]),
    ]


def test_a_task_queued_by_the_previous_release_still_runs_its_event(shop, clock):
    made = lookups(shop, steps=2)
    (event,) = events_for(made, 1, 1)

    run_tasks.execute_event_runs(event.pk)  # automations.run_tasks.execute_event_runs(id)

    assert [run.status for run in runs_of(event)] == [RunStatus.SUCCEEDED] * 2


def test_a_success_in_a_task_ends_the_open_problem_of_its_automation_only(shop, clock):
    made = lookups(shop, steps=1)
    other = lookups(shop, steps=1, name="Other")
    AlertState.objects.create(
        automation=made, kind=AlertKind.RUNS, failing_since=timezone.now(), alerted=True
    )
    AlertState.objects.create(automation=other, kind=AlertKind.POLLS, failing_since=timezone.now())
    events = events_for(made, 1, 2) + events_for(other, 3, 2)

    runs.events_runs_execute([event.pk for event in events])

    state = AlertState.objects.get(automation=made, kind=AlertKind.RUNS)
    assert state.failing_since is None and not state.alerted  # the recovery is told once
    assert AlertState.objects.get(automation=other).failing_since is not None  # polls: not ours


def test_a_retried_read_whose_worker_was_killed_is_queued_again(shop, clock, monkeypatch):
    """A run tried before (a person retried it) keeps its attempts: killed while it was read,
    it is still queued again when the next worker starts."""
    made = lookups(shop, steps=1)
    (event,) = events_for(made, 1, 1)
    ActionRun.objects.filter(event=event).update(status=RunStatus.FAILED, attempts=5)
    queued = []
    monkeypatch.setattr(runs, "_enqueue", queued.append)
    (run,) = runs_of(event)
    assert runs.runs_retry(run_ids=[run.pk]).retried
    assert queued == [[event.pk]]

    def killed(pending):
        raise WorkerKilled

    monkeypatch.setattr(runs, "_results_write", killed)
    with pytest.raises(WorkerKilled):
        runs.events_runs_execute(queued.pop())
    (run,) = runs_of(event)
    assert (run.status, run.attempts, run.next_attempt_at) == (RunStatus.PENDING, 5, None)

    assert runs.runs_enqueue_due(lost_queued_before=timezone.now()) == [event.pk]


def test_a_write_another_task_claimed_first_is_not_sent(shop, clock, monkeypatch):
    """Between reading its runs and sending a write, a task finds the write taken: the other
    delivery of the task ran it. It sends nothing, and records nothing over the other's."""
    made = automation(
        sandbox_connection(shop),
        ("create_shipment", {"order_increment_id": "{{ trigger.increment_id }}"}),
        name="Ship",
    )
    orders = [shop.store.order_create(lines=[("SKU-1", 1)], state="processing") for _ in range(2)]
    ids = [fire(made, order).pk for order in orders]
    real_flush = runs._Batch._flush
    interrupted = []

    def flush(self):
        # The first task flushes before claiming its first write: the other delivery runs then.
        if not interrupted:
            interrupted.append(True)
            runs.events_runs_execute(ids)
        return real_flush(self)

    monkeypatch.setattr(runs._Batch, "_flush", flush)
    shop.requests.clear()
    runs.events_runs_execute(ids)

    # The other delivery's requests only: for each order, look it up, look for shipments, ship.
    assert [method for method, _ in shop.requests] == ["GET", "GET", "POST"] * 2
    assert len(shop.store.shipments) == 2
    for run in ActionRun.objects.all():
        assert (run.status, run.attempts, len(run.attempt_log)) == (RunStatus.SUCCEEDED, 1, 1)

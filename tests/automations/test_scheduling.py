"""Scheduling: one Django-Q2 schedule every minute queues the polls that are due, from each
subscription's own timing; interval changes and disabling count from the next minute."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_q.models import Schedule

from automations import polling, tasks
from automations.models import Automation, TriggerEvent, TriggerSubscription
from automations.services import automation_set_enabled, subscription_update

pytestmark = pytest.mark.django_db

MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def queued(monkeypatch):
    """The subscription ids whose poll was queued (callbacks run as on commit)."""
    ids: list[int] = []
    monkeypatch.setattr(polling, "enqueue_poll", ids.append)
    return ids


def dispatch(now, capture):
    with capture(execute=True):
        return polling.polls_dispatch(now=now)


def test_one_dispatch_schedule_every_minute_exists_after_migrate():
    schedule = Schedule.objects.get(func="automations.tasks.dispatch")
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 1, -1)
    assert Schedule.objects.filter(func="automations.tasks.dispatch").count() == 1


def test_create_poll_change_interval_disable_enable_delete(
    shop, make_automation, poll, queued, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    automation = make_automation(poll_interval_minutes=5)
    subscription = TriggerSubscription.objects.get(automation=automation)
    now = timezone.now()
    # A new automation is due at once, and queued once however often the dispatcher runs.
    assert dispatch(now, capture) == [subscription.pk]
    assert dispatch(now + MINUTE, capture) == []
    assert queued == [subscription.pk]
    result = poll(automation)
    assert result.ok
    subscription.refresh_from_db()
    polled_at = subscription.last_poll_at
    assert subscription.poll_queued_at is None
    assert subscription.next_poll_at == polled_at + 5 * MINUTE
    assert dispatch(polled_at + 2 * MINUTE, capture) == []
    assert dispatch(polled_at + 5 * MINUTE, capture) == [subscription.pk]
    poll(automation)
    subscription.refresh_from_db()
    polled_at = subscription.last_poll_at
    # A shorter interval counts at the next dispatch, without a restart.
    subscription_update(subscription=subscription, poll_interval_minutes=1)
    assert dispatch(polled_at + 1 * MINUTE, capture) == [subscription.pk]
    subscription.refresh_from_db()
    assert subscription.next_poll_at == polled_at + MINUTE  # shown in the admin
    poll(automation)
    subscription.refresh_from_db()
    polled_at = subscription.last_poll_at
    # Disabled: never queued; enabled again: due at once.
    automation_set_enabled(automation=automation, enabled=False)
    assert dispatch(polled_at + 10 * MINUTE, capture) == []
    automation_set_enabled(automation=automation, enabled=True)
    assert dispatch(polled_at + 10 * MINUTE, capture) == [subscription.pk]
    # Deleted: gone from the dispatcher with its subscription.
    Automation.objects.filter(pk=automation.pk).delete()
    assert dispatch(polled_at + 60 * MINUTE, capture) == []
    assert queued == [subscription.pk] * 4


def test_a_worker_back_after_hours_polls_once_not_once_per_missed_slot(
    shop, make_automation, poll, queued, django_capture_on_commit_callbacks
):
    automation = make_automation(poll_interval_minutes=1)
    poll(automation)
    subscription = TriggerSubscription.objects.get(automation=automation)
    later = subscription.last_poll_at + dt.timedelta(hours=3)
    capture = django_capture_on_commit_callbacks
    assert dispatch(later, capture) == [subscription.pk]
    assert dispatch(later + MINUTE, capture) == []
    assert dispatch(later + 2 * MINUTE, capture) == []
    assert queued == [subscription.pk]


def test_a_failing_subscription_waits_for_its_backoff(
    shop, make_automation, poll, queued, django_capture_on_commit_callbacks
):
    automation = make_automation(poll_interval_minutes=1)
    shop.faults.add("rate_limit", path="/V1/orders", retry_after=600)
    assert not poll(automation).ok
    subscription = TriggerSubscription.objects.get(automation=automation)
    capture = django_capture_on_commit_callbacks
    assert dispatch(subscription.last_poll_at + 5 * MINUTE, capture) == []
    assert dispatch(subscription.last_poll_at + 11 * MINUTE, capture) == [subscription.pk]


def test_the_dispatch_task_runs_the_poll_in_the_worker(
    shop, make_automation, django_capture_on_commit_callbacks
):
    # Q_CLUSTER["sync"]: the queued poll task runs here, through the real task functions.
    automation = make_automation()
    shop.store.clock.advance(5)
    order = shop.store.order_create()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.dispatch() == {"polls_queued": 1, "stuck_failed": 0, "events_queued": 0}
    assert list(TriggerEvent.objects.values_list("entity_id", flat=True)) == [order["entity_id"]]
    assert TriggerEvent.objects.get().automation == automation


def test_a_polled_event_runs_its_steps_through_the_worker_tasks(
    shop, make_automation, django_capture_on_commit_callbacks
):
    from automations.models import ActionRun, AutomationStep, RunStatus

    automation = make_automation()
    AutomationStep.objects.create(
        automation=automation,
        position=1,
        action_id="create_shipment",
        connection=automation.trigger.connection,
        inputs={"order_increment_id": "{{ trigger.increment_id }}"},
    )
    shop.store.clock.advance(5)
    order = shop.store.order_create()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.dispatch()
    run = ActionRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert run.inputs["order_increment_id"] == order["increment_id"]
    shipped = [s for s in shop.store.shipments.values() if s["order_id"] == order["entity_id"]]
    assert len(shipped) == 1


def test_the_poll_command_prints_one_json_line(shop, make_automation):
    make_automation(name="Ship new orders", options={"start": "all"})
    shop.store.seed(orders=3)
    out = io.StringIO()
    call_command("poll", "ship NEW orders", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    printed = json.loads(lines[0])
    assert {k: printed[k] for k in ("fetched", "new_events", "duplicates", "requests", "more")} == {
        "fetched": 3,
        "new_events": 3,
        "duplicates": 0,
        "requests": 1,
        "more": False,
    }
    assert printed["cursor"]["entity_id"] == max(shop.store.orders.rows)


def test_the_poll_command_fails_with_the_reason(shop, make_automation):
    make_automation(name="Ship new orders")
    shop.faults.add("firewall", path="/V1/orders")  # not retried: nothing waits
    with pytest.raises(CommandError, match="Polling 'Ship new orders' failed"):
        call_command("poll", "Ship new orders", stdout=io.StringIO())
    with pytest.raises(CommandError, match="no automation named"):
        call_command("poll", "Nothing", stdout=io.StringIO())

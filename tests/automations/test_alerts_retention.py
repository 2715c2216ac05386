"""E-mail alerts (polls that keep failing, runs that fail for good, recovery, the hourly limit),
each user's alert choices, and the pruning of old history."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from automations import runs
from automations.alerts import alerts_poll_outcome, alerts_run_finished
from automations.models import ActionRun, AlertSubscription, RunStatus, StartedBy, TriggerEvent
from automations.retention import history_prune
from tests.automations.history_helpers import (
    fill_history,
    history_automation,
    history_event,
    history_run,
)
from tests.automations.runs_helpers import automation, fire, sandbox_connection

pytestmark = pytest.mark.django_db
# Alerts are e-mailed when their transaction commits.
committed = pytest.mark.django_db(transaction=True)

T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def watched(make_connection):
    return history_automation(make_connection(), name="Ship new orders")


@pytest.fixture
def subscribed(editor):
    AlertSubscription.objects.create(user=editor, poll_failures=True, run_failures=True)
    return editor


def fail_polls(automation, times, start=T0, minutes=5):
    for number in range(1, times + 1):
        alerts_poll_outcome(
            automation_id=automation.pk,
            ok=False,
            consecutive_failures=number,
            error="The store did not answer (HTTP 503).",
            now=start + dt.timedelta(minutes=minutes * number),
        )


@committed
def test_polls_that_keep_failing_alert_once_an_hour_then_say_it_works_again(
    watched, subscribed, mailoutbox, settings
):
    settings.ALERT_POLL_FAILURES = 3
    fail_polls(watched, 2)
    assert mailoutbox == []
    fail_polls(watched, 10)  # the third failure in a row alerts; the next seven wait
    assert len(mailoutbox) == 1
    first = mailoutbox[0]
    assert first.to == ["eddie-editor@example.com"]
    assert first.subject == (
        "[Automation Portal] Automation 'Ship new orders': its polls keep failing"
    )
    assert "its last 3 polls failed" in first.body and "HTTP 503" in first.body
    assert reverse("automations_alerts") in first.body

    alerts_poll_outcome(
        automation_id=watched.pk,
        ok=False,
        consecutive_failures=11,
        error="The store did not answer (HTTP 503).",
        now=T0 + dt.timedelta(minutes=75),  # an hour after the alert
    )
    assert len(mailoutbox) == 2
    assert "7 more failure(s) since the last e-mail" in mailoutbox[1].body

    alerts_poll_outcome(automation_id=watched.pk, ok=True, now=T0 + dt.timedelta(minutes=80))
    assert len(mailoutbox) == 3
    assert mailoutbox[2].subject.endswith("Automation 'Ship new orders' works again")
    alerts_poll_outcome(automation_id=watched.pk, ok=True, now=T0 + dt.timedelta(minutes=85))
    assert len(mailoutbox) == 3  # once


@committed
def test_a_problem_held_back_by_the_hourly_limit_sends_no_recovery(watched, subscribed, mailoutbox):
    fail_polls(watched, 3)
    alerts_poll_outcome(automation_id=watched.pk, ok=True, now=T0 + dt.timedelta(minutes=20))
    fail_polls(watched, 3, start=T0 + dt.timedelta(minutes=25))  # within the hour: held back
    alerts_poll_outcome(automation_id=watched.pk, ok=True, now=T0 + dt.timedelta(minutes=50))
    assert [m.subject.rsplit(": ", 1)[-1] for m in mailoutbox] == [
        "its polls keep failing",
        "[Automation Portal] Automation 'Ship new orders' works again",
    ]


@committed
def test_a_run_that_fails_for_good_alerts_and_a_later_success_recovers(
    watched, subscribed, mailoutbox
):
    event = history_event(watched, entity_id=42, key="000000042")
    failed = history_run(
        event, status=RunStatus.FAILED, subject="NOPE", error="The product doesn't exist."
    )
    alerts_run_finished(run=failed, now=T0)
    (alert,) = mailoutbox
    assert alert.subject.endswith("Automation 'Ship new orders': a run failed")
    assert f"run {failed.pk} (step 1 get_product_by_sku, NOPE) failed for good" in alert.body
    assert reverse("admin:automations_actionrun_change", args=[failed.pk]) in alert.body

    succeeded = history_run(history_event(watched, entity_id=43, key="43"), subject="TEE")
    alerts_run_finished(run=succeeded, now=T0 + dt.timedelta(minutes=3))
    assert mailoutbox[-1].subject.endswith("works again")


@committed
def test_tests_of_an_automation_and_people_who_did_not_ask_get_nothing(
    watched, editor, auditor, mailoutbox
):
    AlertSubscription.objects.create(user=editor, poll_failures=True, run_failures=False)
    event = history_event(watched, entity_id=42, key="42")
    failed = history_run(event, status=RunStatus.FAILED, error="Gone.")
    alerts_run_finished(run=failed, now=T0)
    assert mailoutbox == []  # the editor asked for poll alerts only, the auditor for none
    ActionRun.objects.filter(pk=failed.pk).update(started_by=StartedBy.TEST)
    AlertSubscription.objects.filter(user=editor).update(run_failures=True)
    failed.refresh_from_db()
    alerts_run_finished(run=failed, now=T0 + dt.timedelta(hours=2))
    assert mailoutbox == []


@committed
def test_a_mail_server_that_fails_does_not_break_the_run(watched, subscribed, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens there
    failed = history_run(
        history_event(watched, entity_id=1, key="1"), status=RunStatus.FAILED, error="Gone."
    )
    alerts_run_finished(run=failed, now=T0)
    assert "could not be e-mailed" in caplog.text


@committed
def test_a_final_run_failure_in_the_executor_alerts(
    subscribed, mailoutbox, sandbox_factory, private_network_allowed
):
    shop = sandbox_factory(seed={"customers": 0, "products": 0, "orders": 0})
    made = automation(sandbox_connection(shop), ("get_product_by_sku", {"sku": "NOPE"}))
    event = fire(made, {"entity_id": 1})
    runs.event_runs_execute(event.pk)
    (run,) = ActionRun.objects.filter(event=event)
    assert run.status == RunStatus.FAILED
    assert len(mailoutbox) == 1 and "a run failed" in mailoutbox[0].subject


def test_each_user_chooses_their_own_alerts(client, editor, auditor):
    url = reverse("automations_alerts")
    client.force_login(editor)
    page = client.get(url).content.decode()
    form = re.search(r'<form method="post" id="alerts-form">.*?</form>', page, re.S).group(0)
    assert "eddie-editor@example.com" in page and "checked" not in form
    client.post(url, {"poll_failures": "on"})
    choice = AlertSubscription.objects.get(user=editor)
    assert (choice.poll_failures, choice.run_failures) == (True, False)
    client.force_login(auditor)
    client.post(url, {"run_failures": "on"})
    assert AlertSubscription.objects.get(user=auditor).run_failures is True
    assert AlertSubscription.objects.get(user=editor).run_failures is False


def test_old_events_and_runs_are_pruned_in_batches_and_young_ones_kept(watched, settings):
    settings.RUN_RETENTION_DAYS = 90
    now = timezone.now()
    fill_history(watched, 25, start=now - dt.timedelta(days=91))
    young = fill_history(
        history_automation(watched.trigger.connection, name="Young"),
        5,
        start=now - dt.timedelta(days=89),
    )
    result = history_prune(now=now, batch_size=10)
    assert (result.events, result.runs, result.more) == (25, 25, False)
    assert set(TriggerEvent.objects.values_list("pk", flat=True)) == {e.pk for e in young}
    assert ActionRun.objects.count() == 5


def test_pruning_stops_at_its_time_budget_and_says_more_remains(watched, settings):
    fill_history(watched, 30, start=timezone.now() - dt.timedelta(days=200))
    ticks = iter(range(100))
    result = history_prune(batch_size=10, time_budget=2, monotonic=lambda: next(ticks))
    assert result.more is True and result.runs == 10
    assert history_prune(days=0).runs == 0  # 0 keeps everything
    assert ActionRun.objects.count() == 20


def test_a_daily_schedule_prunes_the_history(settings):
    schedule = Schedule.objects.get(name="Automations: prune old run history")
    assert (schedule.func, schedule.schedule_type) == ("automations.tasks.prune_history", "D")


@committed
def test_polls_failing_in_the_poll_service_alert_and_recover(
    subscribed, mailoutbox, shop, make_automation, poll, settings
):
    settings.ALERT_POLL_FAILURES = 2
    watched = make_automation(name="Watch orders")
    shop.faults.add("firewall", path="/V1/orders", times=2)
    assert not poll(watched).ok
    assert mailoutbox == []
    assert not poll(watched).ok
    (alert,) = mailoutbox
    assert "Automation 'Watch orders': its polls keep failing" in alert.subject
    assert "HTTP 403" in alert.body
    assert poll(watched).ok
    assert mailoutbox[-1].subject.endswith("Automation 'Watch orders' works again")

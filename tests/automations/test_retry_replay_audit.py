"""Retry and Replay over real HTTP against the sandbox, the audit trail, and the CSV export."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from automations import runs
from automations.models import ActionRun, RunStatus, StartedBy, TriggerEvent
from automations.services import automation_set_enabled
from tests.automations.history_helpers import fill_history, history_automation, history_event
from tests.automations.runs_helpers import automation, fire, runs_of, sandbox_connection

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("private_network_allowed"),
]

RUNS = reverse("admin:automations_actionrun_changelist")
EVENTS = reverse("admin:automations_triggerevent_changelist")


@pytest.fixture
def shop(sandbox_factory):
    server = sandbox_factory(seed={"customers": 0, "products": 0, "orders": 0})
    server.store.product_save({"sku": "TEE", "name": "Tee", "price": 20})
    return server


def three_steps(connection, name="Ship new orders"):
    """Step 2 looks up a product the store does not have yet."""
    return automation(
        connection,
        ("get_product_by_sku", {"sku": "TEE"}),
        ("get_product_by_sku", {"sku": "{{ trigger.sku }}"}),
        ("get_product_by_sku", {"sku": "TEE"}),
        name=name,
    )


def failed_event(shop, connection=None, name="Ship new orders", sku="MUG"):
    made = three_steps(connection or sandbox_connection(shop), name=name)
    event = fire(made, {"entity_id": 1, "sku": sku})
    runs.event_runs_execute(event.pk)
    assert [run.status for run in runs_of(event)] == ["succeeded", "failed", "skipped"]
    return event


def test_retry_runs_the_failed_step_and_the_skipped_ones_never_a_succeeded_one(shop, editor):
    event = failed_event(shop)
    first, failed, _ = runs_of(event)
    shop.store.product_save({"sku": "MUG", "name": "Mug", "price": 8})

    result = runs.runs_retry(run_ids=[failed.pk], user=editor)

    assert [run.pk for run in result.retried] == [failed.pk] and not result.refused
    after = runs_of(event)
    assert [run.status for run in after] == ["succeeded", "succeeded", "succeeded"]
    assert after[0].attempts == 1 and after[0].attempt_log == first.attempt_log
    assert after[1].attempts == 2 and after[1].output["sku"] == "MUG"
    assert after[1].error_message == "" and after[2].error_message == ""
    assert after[1].attempt_log[1] == {
        "retried_at": after[1].attempt_log[1]["retried_at"],
        "retried_by": "eddie-editor",
    }
    entry = LogEntry.objects.get(object_id=str(failed.pk))
    assert entry.user == editor
    assert entry.get_change_message() == (
        "Retried get_product_by_sku and the 1 skipped step(s) after it."
    )


def test_retry_refuses_runs_that_did_not_fail(shop, editor):
    event = failed_event(shop)
    succeeded, _, skipped = runs_of(event)
    result = runs.runs_retry(run_ids=[succeeded.pk, skipped.pk], user=editor)
    assert not result.retried
    assert "It is succeeded: only failed runs are retried." in result.refused[succeeded.pk]
    assert "It is skipped" in result.refused[skipped.pk]
    assert [run.status for run in runs_of(event)] == ["succeeded", "failed", "skipped"]


def test_a_retry_that_fails_again_keeps_the_later_steps_skipped(shop, editor):
    event = failed_event(shop)
    runs.runs_retry(run_ids=[runs_of(event)[1].pk], user=editor)
    after = runs_of(event)
    assert [run.status for run in after] == ["succeeded", "failed", "skipped"]
    assert after[1].attempts == 2


def test_retry_uses_the_step_as_configured_now(shop, editor):
    event = failed_event(shop)
    failed = runs_of(event)[1]
    failed.step.inputs = {"sku": "TEE"}
    failed.step.save()
    runs.runs_retry(run_ids=[failed.pk], user=editor)
    assert runs_of(event)[1].status == RunStatus.SUCCEEDED


def test_a_create_stopped_mid_step_looks_in_the_store_before_sending_again(shop, editor, clock):
    connection = sandbox_connection(shop)
    made = automation(
        connection,
        (
            "create_customer",
            {"email": "nia@example.com", "firstname": "Nia", "lastname": "Ray", "website_id": 1},
        ),
    )
    event = fire(made, {"entity_id": 1})
    (run,) = runs_of(event)
    # The worker sent the create, the store made the customer, then the worker was killed.
    shop.store.customer_create(
        {"email": "nia@example.com", "firstname": "Nia", "lastname": "Ray", "website_id": 1}
    )
    ActionRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, started_at=clock.now, attempts=1
    )
    clock.advance(10_000)
    assert runs.runs_fail_stuck() == 1

    runs.runs_retry(run_ids=[run.pk], user=editor)

    (run,) = runs_of(event)
    assert run.status == RunStatus.SUCCEEDED
    assert run.output["email"] == "nia@example.com"
    emails = [c["email"] for c in shop.store.customers.rows.values()]
    assert emails.count("nia@example.com") == 1


def test_a_run_by_hand_is_retried_with_its_inputs_and_audited(shop, editor):
    connection = sandbox_connection(shop)
    run = runs.action_run_manual(
        action_id="get_product_by_sku", connection=connection, inputs={"sku": "MUG"}, user=editor
    )
    assert run.status == RunStatus.FAILED
    shop.store.product_save({"sku": "MUG", "name": "Mug", "price": 8})
    result = runs.runs_retry(run_ids=[run.pk], user=editor)
    assert result.retried[0].status == RunStatus.SUCCEEDED
    messages = [
        entry.get_change_message()
        for entry in LogEntry.objects.filter(object_id=str(run.pk)).order_by("pk")
    ]
    assert messages == [
        "Ran get_product_by_sku by hand on connection 'Sandbox': failed.",
        "Retried get_product_by_sku.",
    ]


def test_the_retry_button_and_action_for_editors(shop, editor_client):
    event = failed_event(shop)
    failed = runs_of(event)[1]
    shop.store.product_save({"sku": "MUG", "name": "Mug", "price": 8})
    page = editor_client.post(
        reverse("admin:automations_actionrun_retry", args=[failed.pk]), follow=True
    )
    assert f"Run {failed.pk} (get_product_by_sku): retried, now succeeded." in (
        page.content.decode()
    )
    assert [run.status for run in runs_of(event)] == ["succeeded"] * 3

    again = failed_event(shop, runs_of(event)[0].connection, name="Second", sku="CUP")
    shop.store.product_save({"sku": "CUP", "name": "Cup", "price": 4})
    response = editor_client.post(
        RUNS,
        {"action": "retry_runs", "_selected_action": [run.pk for run in runs_of(again)]},
        follow=True,
    )
    text = response.content.decode()
    assert "retried, now succeeded" in text
    assert "2 selected run(s) were not failed and were left as they are." in text


def test_replay_from_the_list_and_from_the_page_is_audited(shop, editor, editor_client):
    event = failed_event(shop)
    response = editor_client.post(
        EVENTS, {"action": "replay_events", "_selected_action": [event.pk]}, follow=True
    )
    assert "Replayed 1 event(s)" in response.content.decode()
    replay = TriggerEvent.objects.get(is_replay=True)
    assert replay.replay_of == event and replay.replayed_by == editor
    assert len(runs_of(replay)) == 3
    page = editor_client.post(
        reverse("admin:automations_triggerevent_replay", args=[replay.pk]), follow=True
    )
    assert "It is a replay: replay the original event instead." in page.content.decode()
    entry = LogEntry.objects.get(object_id=str(event.pk))
    assert entry.get_change_message() == (
        f"Replayed as event {replay.pk} of automation 'Ship new orders'."
    )


def test_enabling_and_disabling_are_in_the_audit_trail_auditors_read(shop, editor, auditor_client):
    made = three_steps(sandbox_connection(shop))
    automation_set_enabled(automation=made, enabled=False, user=editor)
    automation_set_enabled(automation=made, enabled=True, user=editor)
    automation_set_enabled(automation=made, enabled=True, user=editor)  # no change: no entry
    page = auditor_client.get(reverse("admin:admin_logentry_changelist")).content.decode()
    rows = re.findall(r'<tr>\s*<td class="action-checkbox">.*?</tr>|<tr>.*?</tr>', page, re.S)
    assert sum("eddie-editor" in row and "Ship new orders" in row for row in rows) == 2
    assert "Disabled." in page and "Enabled: polling from the next minute." in page
    assert reverse("admin:automations_automation_change", args=[made.pk]) in page
    assert "add_logentry" not in page and 'name="_save"' not in page


def test_csv_export_streams_the_filtered_list_and_defuses_formulas(auditor_client, make_connection):
    made = history_automation(make_connection())
    fill_history(made, 30, failed_every=3)
    history_event(made, entity_id=99, key="=HYPERLINK(1)")
    response = auditor_client.get(
        reverse("admin:automations_actionrun_export"), {"status__exact": "failed"}
    )
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["Run", "Queued (UTC)", "Finished (UTC)", "Status"]
    assert len(rows) == 1 + 10 and {row[3] for row in rows[1:]} == {"failed"}

    events = auditor_client.get(reverse("admin:automations_triggerevent_export"), {"q": "99"})
    rows = list(csv.reader(io.StringIO(b"".join(events.streaming_content).decode())))
    assert len(rows) == 2 and rows[1][6] == "'=HYPERLINK(1)"


def test_manual_runs_from_the_command_line_start_nothing_in_the_audit_trail(shop):
    connection = sandbox_connection(shop)
    run = runs.action_run_manual(
        action_id="get_product_by_sku",
        connection=connection,
        inputs={"sku": "TEE"},
        started_by=StartedBy.COMMAND,
    )
    assert run.status == RunStatus.SUCCEEDED
    assert not LogEntry.objects.exists()  # no person is known

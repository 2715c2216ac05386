"""An event says whether it was stored with runs (`has_runs`), and the event list's "No runs"
filter reads that: set by the poller and by replays from the steps they read, corrected by
runs_create_for_events when a caller got it wrong, and filled in for older events by migration
0008."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from automations.models import ActionRun, AutomationStep, TriggerEvent
from automations.runs import automation_steps, runs_create_for_events
from automations.services import events_replay_selected
from tests.automations.history_helpers import history_event

pytestmark = pytest.mark.django_db


def steps(automation, *pairs) -> None:
    """Steps (action_id, inputs) after the automation's own, on its trigger's connection."""
    start = automation.steps.count()
    for position, (action_id, inputs) in enumerate(pairs, start=start + 1):
        AutomationStep.objects.create(
            automation=automation,
            position=position,
            action_id=action_id,
            connection=automation.trigger.connection,
            inputs=inputs,
        )


def stored(event) -> bool:
    return TriggerEvent.objects.values_list("has_runs", flat=True).get(pk=event.pk)


def new_event(automation, entity_id: int, **fields) -> TriggerEvent:
    return history_event(automation, entity_id=entity_id, **fields)


def test_a_poll_stores_events_saying_whether_they_have_runs(shop, make_automation, poll):
    shop.store.seed(orders=3)
    with_steps = make_automation(options={"start": "all"}, name="Ship")
    steps(with_steps, ("get_product_by_sku", {"sku": "{{ trigger.items.0.sku }}"}))
    without = make_automation(options={"start": "all"}, name="Watch only")
    with CaptureQueriesContext(connection) as captured:
        assert poll(with_steps).new_events == 3 and poll(without).new_events == 3

    events = TriggerEvent.objects.order_by("automation_id", "entity_id")
    assert [(e.automation_id, e.has_runs) for e in events] == [
        (with_steps.pk, True),
        (with_steps.pk, True),
        (with_steps.pk, True),
        (without.pk, False),
        (without.pk, False),
        (without.pk, False),
    ]
    has_runs = {e.pk: e.has_runs for e in events}
    assert {e.pk: ActionRun.objects.filter(event=e).exists() for e in events} == has_runs
    # Stored right at once: no event was corrected afterwards.
    updates = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("UPDATE")]
    assert not [sql for sql in updates if "automations_triggerevent" in sql]


def test_runs_create_for_events_corrects_an_event_whose_flag_is_wrong(shop, make_automation):
    automation = make_automation(name="Ship")
    steps(automation, ("get_product_by_sku", {"sku": "A"}), ("get_product_by_sku", {"sku": "B"}))
    said_no = new_event(automation, 1, has_runs=False)
    said_yes = new_event(automation, 2, has_runs=True)
    runs = runs_create_for_events([said_no, said_yes])
    assert len(runs) == 4
    assert (said_no.has_runs, stored(said_no), stored(said_yes)) == (True, True, True)

    automation.steps.all().delete()
    wrong = new_event(automation, 3, has_runs=True)
    assert runs_create_for_events([wrong], automation_steps([automation.pk])) == []
    assert (wrong.has_runs, stored(wrong)) == (False, False)


def test_a_replay_has_runs_when_its_automation_has_steps_now(shop, make_automation, editor):
    automation = make_automation(name="Ship")
    original = new_event(automation, 1)
    (bare,) = events_replay_selected(event_ids=[original.pk], user=editor).replays
    assert (bare.has_runs, stored(bare), ActionRun.objects.filter(event=bare).count()) == (
        False,
        False,
        0,
    )
    steps(automation, ("get_product_by_sku", {"sku": "A"}))
    (replay,) = events_replay_selected(event_ids=[original.pk], user=editor).replays
    assert (replay.has_runs, stored(replay), ActionRun.objects.filter(event=replay).count()) == (
        True,
        True,
        1,
    )


@pytest.mark.django_db(transaction=True)
def test_migration_0008_marks_the_events_that_have_runs():
    from django.db.migrations.executor import MigrationExecutor

    before = [("automations", "0007_event_record_json")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    executor.loader.build_graph()
    old = executor.loader.project_state(before).apps
    event_model = old.get_model("automations", "TriggerEvent")
    run_model = old.get_model("automations", "ActionRun")
    with_runs, without = (
        event_model.objects.create(
            trigger_id="order_created", entity_id=n, dedup_key=str(n), record={"entity_id": n}
        )
        for n in (1, 2)
    )
    run_model.objects.create(event=with_runs, action_id="get_product_by_sku", status="failed")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert dict(TriggerEvent.objects.values_list("pk", "has_runs")) == {
        with_runs.pk: True,
        without.pk: False,
    }


def test_the_no_runs_list_walks_the_index_of_events_without_runs(
    editor_client, shop, make_automation
):
    automation = make_automation(name="Watch only")
    bare = new_event(automation, 1)
    steps(automation, ("get_product_by_sku", {"sku": "A"}))
    with_runs = new_event(automation, 2)
    runs_create_for_events([with_runs])
    response = editor_client.get(
        reverse("admin:automations_triggerevent_changelist"), {"run_status": "none"}
    )
    listing = response.context["cl"]
    assert [event.pk for event in listing.result_list] == [bare.pk]
    sql, params = listing.queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    # In the list's order, so no sorting of every event without runs either.
    assert "event_without_runs" in plan and "ORDER BY" not in plan, plan

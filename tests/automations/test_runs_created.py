"""Each event gets one pending run per step, in step order, and never a second one."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from automations.models import (
    ActionRun,
    Automation,
    AutomationStep,
    RunStatus,
    TriggerEvent,
    TriggerSubscription,
)
from automations.runs import runs_create_for_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def automation(make_connection):
    main = make_connection(name="Main shop")
    other = make_connection(name="Other shop")
    automation = Automation.objects.create(name="Ship new orders")
    TriggerSubscription.objects.create(
        automation=automation, connection=main, trigger_id="order_created"
    )
    # Saved out of order: runs follow the positions, not the insert order.
    AutomationStep.objects.create(
        automation=automation,
        position=2,
        action_id="create_shipment",
        connection=main,
        inputs={"order_increment_id": "{{ trigger.increment_id }}"},
    )
    AutomationStep.objects.create(
        automation=automation,
        position=1,
        action_id="get_product_by_sku",
        connection=other,
        inputs={"sku": "{{ trigger.items.0.sku }}"},
    )
    return automation


def event(automation, entity_id):
    return TriggerEvent.objects.create(
        subscription=automation.trigger,
        automation=automation,
        automation_name=automation.name,
        trigger_id="order_created",
        entity_id=entity_id,
        dedup_key=str(entity_id),
        record={"entity_id": entity_id, "increment_id": f"00000000{entity_id}"},
    )


def test_one_pending_run_per_step_in_order(automation):
    first, second = event(automation, 1), event(automation, 2)
    runs_create_for_events([first, second])
    runs = list(ActionRun.objects.order_by("event_id", "step_position"))
    assert [(r.event_id, r.step_position, r.action_id) for r in runs] == [
        (first.pk, 1, "get_product_by_sku"),
        (first.pk, 2, "create_shipment"),
        (second.pk, 1, "get_product_by_sku"),
        (second.pk, 2, "create_shipment"),
    ]
    assert {r.status for r in runs} == {RunStatus.PENDING}
    assert runs[0].connection_name == "Other shop"
    assert runs[0].input_mapping == {"sku": "{{ trigger.items.0.sku }}"}
    assert runs[0].automation_name == "Ship new orders"


def test_a_second_call_for_the_same_event_is_refused(automation):
    first = event(automation, 1)
    runs_create_for_events([first])
    with pytest.raises(IntegrityError), transaction.atomic():
        runs_create_for_events([first])
    assert ActionRun.objects.count() == 2


def test_an_automation_without_steps_makes_no_runs(automation):
    automation.steps.all().delete()
    assert runs_create_for_events([event(automation, 1)]) == []

"""Run history rows made straight in the database (no store needed): events, runs, failures."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from automations.models import (
    ActionRun,
    Automation,
    AutomationStep,
    RunStatus,
    TriggerEvent,
    TriggerSubscription,
)


def history_automation(connection, *, name="Ship new orders", trigger_id="order_created"):
    automation = Automation.objects.create(name=name)
    TriggerSubscription.objects.create(
        automation=automation, connection=connection, trigger_id=trigger_id
    )
    AutomationStep.objects.create(
        automation=automation,
        position=1,
        action_id="get_product_by_sku",
        connection=connection,
        inputs={"sku": "{{ trigger.items.0.sku }}"},
    )
    return automation


def history_event(
    automation, *, entity_id, key="", at=None, record=None, changes=None, has_runs=False
):
    subscription = automation.trigger
    return TriggerEvent.objects.create(
        subscription=subscription,
        automation=automation,
        automation_name=automation.name,
        connection=subscription.connection,
        trigger_id=subscription.trigger_id,
        entity_id=entity_id,
        entity_key=key,
        dedup_key=str(entity_id),
        record=record or {"entity_id": entity_id, "increment_id": key},
        changes=changes,
        detected_at=at or timezone.now(),
        lag_seconds=12.0,
        has_runs=has_runs,
    )


def history_run(
    event,
    *,
    status=RunStatus.SUCCEEDED,
    subject="",
    at=None,
    error="",
    response=None,
    position=1,
    action_id="get_product_by_sku",
):
    at = at or event.detected_at
    connection = event.connection
    # Runs come with their event (the poller writes both at once): the event says it has runs.
    TriggerEvent.objects.filter(pk=event.pk).update(has_runs=True)
    event.has_runs = True
    return ActionRun.objects.create(
        event=event,
        automation_id=event.automation_id,
        automation_name=event.automation_name,
        step_position=position,
        action_id=action_id,
        connection=connection,
        connection_name=connection.name if connection else "",
        status=status,
        subject=subject,
        queued_at=at,
        started_at=at,
        finished_at=at + dt.timedelta(seconds=1) if status != RunStatus.PENDING else None,
        attempts=1,
        attempt_log=[
            {
                "attempt": 1,
                "started_at": at.isoformat(),
                "finished_at": (at + dt.timedelta(seconds=1)).isoformat(),
                "duration_ms": 1000,
                "outcome": "succeeded" if status == RunStatus.SUCCEEDED else "failed",
                "error": error,
            }
        ],
        request_method="GET",
        request_path=f"/V1/products/{subject}",
        response=response,
        error_class="NotFoundError" if error else "",
        error_message=error,
    )


def fill_history(automation, count, *, start=None, failed_every=0, minutes_apart=1):
    """`count` events with one run each, a minute apart, ending at `start` (default now)."""
    start = start or timezone.now()
    # Ids of their own per automation, so several fills never collide.
    first_id = 10_000 + 100_000 * (automation.pk % 1000)
    events = []
    for number in range(count):
        at = start - dt.timedelta(minutes=number * minutes_apart)
        events.append(
            TriggerEvent(
                subscription=automation.trigger,
                automation=automation,
                automation_name=automation.name,
                connection=automation.trigger.connection,
                trigger_id=automation.trigger.trigger_id,
                entity_id=first_id + number,
                entity_key=f"{100_000_000 + first_id + number:09d}",
                dedup_key=str(first_id + number),
                record={"entity_id": first_id + number},
                detected_at=at,
                lag_seconds=5.0,
                has_runs=True,
            )
        )
    events = TriggerEvent.objects.bulk_create(events)
    runs = [
        ActionRun(
            event=event,
            automation=automation,
            automation_name=automation.name,
            step_position=1,
            action_id="get_product_by_sku",
            connection=event.connection,
            connection_name=event.connection.name,
            status=RunStatus.FAILED
            if failed_every and number % failed_every == 0
            else RunStatus.SUCCEEDED,
            subject=f"SKU-{number}",
            queued_at=event.detected_at,
            finished_at=event.detected_at,
            error_message="The product that was requested doesn't exist."
            if failed_every and number % failed_every == 0
            else "",
        )
        for number, event in enumerate(events)
    ]
    ActionRun.objects.bulk_create(runs)
    return events

"""Set-ups the engine tests run inside a portal process (PortalProcesses.shell), with the
portal's own settings and keys: a connection to the sandbox store and automations on it.

Workers and shells import this module by its name, so it must stay importable from the project
folder, and it imports the portal only inside its functions.
"""

from __future__ import annotations

import json
import time


def make_automation(spec: str) -> None:
    """Create the connection (once) and an automation from a JSON spec; print their ids.

    spec: {"store": {store_domain, consumer_key, consumer_secret, access_token,
    access_token_secret}, "name", "trigger_id", "options", "steps": [[action_id, inputs], ...]}
    """
    from automations.models import AutomationStep
    from automations.services import automation_create
    from connections.models import AuthMethod, Connection

    wanted = json.loads(spec)
    store = wanted["store"]
    connection = Connection.objects.filter(name="Sandbox").first() or Connection.objects.create(
        name="Sandbox",
        status="verified",
        auth_method=AuthMethod.INTEGRATION_TOKEN,
        **store,
    )
    automation = automation_create(
        name=wanted["name"],
        connection=connection,
        trigger_id=wanted.get("trigger_id", "order_created"),
        options=wanted.get("options") or {"start": "all"},
        poll_interval_minutes=wanted.get("poll_interval_minutes", 5),
    )
    for position, (action_id, inputs) in enumerate(wanted.get("steps", []), start=1):
        AutomationStep.objects.create(
            automation=automation,
            position=position,
            action_id=action_id,
            connection=connection,
            inputs=inputs,
        )
    print(
        json.dumps(
            {
                "automation": automation.pk,
                "subscription": automation.trigger.pk,
                "connection": connection.pk,
            }
        )
    )


def queue_polls(subscription_ids: list[int], *, rounds: int, pause: float) -> None:
    """Queue a poll of each subscription, `rounds` times, `pause` seconds apart (a dispatcher in
    a hurry: polls asked for more often than they can finish)."""
    from automations.polling import enqueue_poll

    for _ in range(rounds):
        for subscription_id in subscription_ids:
            enqueue_poll(subscription_id)
        time.sleep(pause)


def poll_and_print_records(subscription_id: int) -> None:
    """Poll the subscription until its backlog is drained; print its events' records, read
    back through the ORM, as one JSON object by entity id (with the column's compression and
    type on PostgreSQL)."""
    from django.db import connection

    from automations.models import TriggerEvent
    from automations.polling import subscription_poll

    while True:
        result = subscription_poll(subscription_id=subscription_id)
        if not result.ok:
            raise SystemExit(result.error)
        if not result.more:
            break
    records = {
        str(event.entity_id): event.record
        for event in TriggerEvent.objects.filter(subscription_id=subscription_id)
    }
    compression = column_type = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT DISTINCT pg_column_compression(record) FROM automations_triggerevent"
            )
            compression = sorted(str(row[0]) for row in cursor.fetchall())
            cursor.execute(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = 'automations_triggerevent'::regclass AND attname = 'record'"
            )
            column_type = cursor.fetchone()[0]
    print(json.dumps({"records": records, "compression": compression, "type": column_type}))


def drain_watching_event_reads(subscription_id: int, *, from_start: bool = False) -> None:
    """Poll the subscription until its backlog is drained (from its start point again when
    `from_start`); print the totals, and the statements that read trigger events meanwhile, as
    one JSON object."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from automations.models import TriggerSubscription
    from automations.polling import subscription_poll

    if from_start:
        TriggerSubscription.objects.filter(pk=subscription_id).update(
            cursor_timestamp=None, cursor_entity_id=None
        )
    totals = {"new_events": 0, "duplicates": 0, "fetched": 0}
    with CaptureQueriesContext(connection) as captured:
        while True:
            result = subscription_poll(subscription_id=subscription_id)
            if not result.ok:
                raise SystemExit(result.error)
            for name in totals:
                totals[name] += getattr(result, name)
            if not result.more:
                break
    reads = [
        query["sql"][:200]
        for query in captured.captured_queries
        if "automations_triggerevent" in query["sql"]
        and not query["sql"].lstrip().upper().startswith("INSERT")
    ]
    print(json.dumps({**totals, "event_reads": reads}))


def run_batch_one_changed(automation_id: int, skus: list[str]) -> None:
    """Store an event per SKU with its runs, then execute them in one batch; while the batch
    writes its results, another delivery records the first run first. Print each run's
    stored result as one JSON object by SKU."""
    from automations import runs
    from automations.models import ActionRun, Automation, TriggerEvent

    automation = Automation.objects.get(pk=automation_id)
    events = [
        TriggerEvent.objects.create(
            subscription=automation.trigger,
            automation=automation,
            automation_name=automation.name,
            trigger_id="product_created",
            entity_id=number,
            entity_key=sku,
            dedup_key=str(number),
            record={"id": number, "sku": sku, "name": 'Zoë "😀" / 日本'},
            has_runs=True,
        )
        for number, sku in enumerate(skus, start=1)
    ]
    runs.runs_create_for_events(events)
    first = ActionRun.objects.get(event=events[0])
    flush = runs._Batch._flush

    def another_delivery_first(batch):
        # Committed on its own just before this batch writes what it read.
        ActionRun.objects.filter(pk=first.pk).update(
            status="succeeded", attempts=1, error_message="recorded by the other delivery"
        )
        runs._Batch._flush = flush
        return flush(batch)

    runs._Batch._flush = another_delivery_first
    try:
        runs.events_runs_execute([event.pk for event in events])
    finally:
        runs._Batch._flush = flush
    stored = {}
    for run in ActionRun.objects.filter(event__in=events).select_related("event"):
        stored[run.event.entity_key] = {
            "status": run.status,
            "attempts": run.attempts,
            "error_message": run.error_message,
            "output_sku": (run.output or {}).get("sku"),
            "response_sku": (run.response or {}).get("sku"),
            "attempt_log": len(run.attempt_log or []),
            "finished": run.finished_at is not None,
            "next_attempt_at": run.next_attempt_at,
            "inputs": run.inputs,
            "duration_ms": run.duration_ms is not None,
        }
    print(json.dumps(stored, default=str))

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

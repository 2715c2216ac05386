"""Shared set-up for the run tests: sandbox connections, automations, events and a clock."""

from __future__ import annotations

import datetime as dt
import json

from automations import runs
from automations.models import (
    ActionRun,
    Automation,
    AutomationStep,
    TriggerEvent,
    TriggerSubscription,
)
from connections.models import AuthMethod, Connection


class Clock:
    """Stands in for automations.runs._now: moves only when told to."""

    def __init__(self):
        self.now = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def sandbox_connection(server, *, name="Sandbox", auth="oauth") -> Connection:
    """A saved connection to the sandbox: OAuth 1.0a by default, or an admin session."""
    c = server.credentials
    fields = {"name": name, "store_domain": server.url, "status": "verified"}
    if auth == "oauth":
        fields.update(
            auth_method=AuthMethod.INTEGRATION_TOKEN,
            access_token=c.access_token,
            consumer_key=c.consumer_key,
            consumer_secret=c.consumer_secret,
            access_token_secret=c.access_token_secret,
        )
    else:
        fields.update(
            auth_method=AuthMethod.SESSION,
            admin_username=c.admin_username,
            admin_password=c.admin_password,
            totp_secret=c.totp_secret,
        )
    return Connection.objects.create(**fields)


def automation(connection, *steps, name="Ship new orders", trigger_id="order_created"):
    """An automation on `connection` with steps given as (action_id, inputs) pairs."""
    made = Automation.objects.create(name=name)
    TriggerSubscription.objects.create(
        automation=made, connection=connection, trigger_id=trigger_id
    )
    for position, (action_id, inputs) in enumerate(steps, start=1):
        AutomationStep.objects.create(
            automation=made,
            position=position,
            action_id=action_id,
            connection=connection,
            inputs=inputs,
        )
    return made


def fire(automation, record, *, entity_id=None) -> TriggerEvent:
    """Store an event for `record` with its runs, as the poller does (in one transaction)."""
    entity_id = entity_id or record.get("entity_id") or record.get("id")
    event = TriggerEvent.objects.create(
        subscription=automation.trigger,
        automation=automation,
        automation_name=automation.name,
        connection=automation.trigger.connection,
        trigger_id=automation.trigger.trigger_id,
        entity_id=entity_id,
        dedup_key=str(entity_id),
        record=record,
    )
    runs.runs_create_for_events([event])
    return event


def runs_of(event) -> list[ActionRun]:
    return list(ActionRun.objects.filter(event=event).order_by("step_position"))


def record_text(run: ActionRun) -> str:
    """Every column of a run as one text (for 'no secret anywhere' checks)."""
    values = {f.attname: getattr(run, f.attname) for f in ActionRun._meta.concrete_fields}
    return json.dumps(values, default=str)

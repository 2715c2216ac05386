"""Reading for the dashboard and for the automation form.

The dashboard: a fixed handful of aggregate queries, whatever the history's size. Per
automation, the last day's events and runs are counted with one GROUP BY each over the date
indexes (only the last day's rows are read); the chart is one GROUP BY hour and status.

The automation form and its Test: the sample is the newest record the trigger would read (its
search, with its filters, newest first, one row). When the store has none yet, or cannot be
asked, the picker offers the trigger's declared `sample_fields` instead, and says why.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Avg, Count, Max, OuterRef, Q, Subquery
from django.db.models.functions import TruncHour
from django.utils import timezone

from automations.actions import action_choices, get_action
from automations.models import (
    ActionRun,
    Automation,
    PollOutcome,
    RunStatus,
    TriggerEvent,
)
from automations.polling import subscription_due_at
from automations.triggers import get_trigger, trigger_choices
from automations.triggers._base import OptionsError
from connections import diagnosis as dx
from connections.clients import PlainHttpNotAllowed, connection_client, connection_secrets
from connections.models import SECRET_FIELDS, Connection
from magento.errors import MagentoError
from magento.search import SearchCriteria

WINDOW = dt.timedelta(hours=24)
RECENT_FAILURES = 10


@dataclass
class CatchingUp:
    """A subscription reading a backlog: how far it is, how fast, how long to go."""

    fetched: int
    total: int
    per_minute: float | None
    minutes_left: float | None

    @property
    def percent(self) -> int:
        return int(100 * self.fetched / self.total) if self.total else 100


@dataclass
class AutomationRow:
    automation: Automation
    trigger_label: str = "—"
    connection_name: str = "—"
    last_poll_at: dt.datetime | None = None
    last_poll_ok: bool | None = None
    next_poll_at: dt.datetime | None = None
    consecutive_failures: int = 0
    lag_seconds: float | None = None
    events: int = 0
    runs: int = 0
    runs_failed: int = 0
    last_error: str = ""
    last_error_at: dt.datetime | None = None
    last_failed_run_id: int | None = None
    catching_up: CatchingUp | None = None


@dataclass
class HourBar:
    start: dt.datetime
    succeeded: int = 0
    failed: int = 0


@dataclass
class Dashboard:
    now: dt.datetime
    connections: list[Connection]
    automations: list[AutomationRow]
    recent_failures: list[ActionRun]
    hours: list[HourBar]
    totals: dict[str, int] = field(default_factory=dict)


def catching_up_of(subscription: Any, now: dt.datetime) -> CatchingUp | None:
    """Progress of a backlog, from the fields the poller keeps (None when not catching up)."""
    if subscription is None or subscription.backlog_remaining is None:
        return None
    fetched = subscription.backlog_fetched or 0
    total = fetched + subscription.backlog_remaining
    per_minute = minutes_left = None
    started = subscription.backlog_started_at
    if started is not None and fetched:
        elapsed = max((now - started).total_seconds(), 1.0) / 60
        per_minute = fetched / elapsed
        minutes_left = subscription.backlog_remaining / per_minute
    return CatchingUp(fetched, total, per_minute, minutes_left)


def dashboard_read(*, now: dt.datetime | None = None) -> Dashboard:
    """Everything the dashboard shows, in a constant number of queries."""
    now = now or timezone.now()
    since = now - WINDOW
    labels = dict(trigger_choices())

    connections = list(Connection.objects.defer(*SECRET_FIELDS, "admin_token").order_by("name"))
    last_failure = ActionRun.objects.filter(
        automation=OuterRef("pk"), status=RunStatus.FAILED, queued_at__gte=since
    ).order_by("-queued_at", "-id")
    automations = list(
        Automation.objects.select_related("trigger", "trigger__connection")
        .annotate(
            last_failed_run_id=Subquery(last_failure.values("pk")[:1]),
            last_failed_error=Subquery(last_failure.values("error_message")[:1]),
            last_failed_at=Subquery(last_failure.values("queued_at")[:1]),
        )
        .order_by("name")
    )
    events = {
        row["automation_id"]: row
        for row in TriggerEvent.objects.filter(detected_at__gte=since)
        .values("automation_id")
        .annotate(count=Count("id"), lag=Avg("lag_seconds"), last=Max("detected_at"))
        .order_by()
    }
    runs = {
        row["automation_id"]: row
        for row in ActionRun.objects.filter(queued_at__gte=since)
        .values("automation_id")
        .annotate(count=Count("id"), failed=Count("id", filter=Q(status=RunStatus.FAILED)))
        .order_by()
    }
    rows = []
    for automation in automations:
        row = AutomationRow(automation=automation)
        subscription = getattr(automation, "trigger", None)
        if subscription is not None:
            row.trigger_label = labels.get(subscription.trigger_id, subscription.trigger_id)
            row.connection_name = subscription.connection.name
            row.last_poll_at = subscription.last_poll_at
            if subscription.last_poll_outcome != PollOutcome.NEVER:
                row.last_poll_ok = subscription.last_poll_outcome == PollOutcome.OK
            row.next_poll_at = subscription_due_at(subscription) if automation.enabled else None
            row.consecutive_failures = subscription.consecutive_failures
            row.catching_up = catching_up_of(subscription, now)
            if subscription.last_poll_outcome == PollOutcome.FAILED:
                row.last_error = subscription.last_error
                row.last_error_at = subscription.last_error_at
        event_row = events.get(automation.pk) or {}
        run_row = runs.get(automation.pk) or {}
        row.events = event_row.get("count", 0)
        row.lag_seconds = event_row.get("lag")
        row.runs = run_row.get("count", 0)
        row.runs_failed = run_row.get("failed", 0)
        row.last_failed_run_id = automation.last_failed_run_id
        if automation.last_failed_run_id and not row.last_error:
            row.last_error = automation.last_failed_error
            row.last_error_at = automation.last_failed_at
        rows.append(row)

    recent_failures = list(
        ActionRun.objects.filter(status=RunStatus.FAILED)
        .order_by("-queued_at", "-id")
        .only(
            "pk",
            "action_id",
            "automation_name",
            "subject",
            "error_message",
            "queued_at",
            "finished_at",
            "event_id",
            "started_by",
        )[:RECENT_FAILURES]
    )
    return Dashboard(
        now=now,
        connections=connections,
        automations=rows,
        recent_failures=recent_failures,
        hours=runs_per_hour(now=now),
        totals={
            "events": sum(row["count"] for row in events.values()),
            "runs": sum(row["count"] for row in runs.values()),
            "failed": sum(row["failed"] for row in runs.values()),
        },
    )


def runs_per_hour(*, now: dt.datetime) -> list[HourBar]:
    """Finished runs per hour over the last 24 hours (oldest first), by their queue time."""
    current = now.replace(minute=0, second=0, microsecond=0)
    start = current - dt.timedelta(hours=23)
    bars = {
        start + dt.timedelta(hours=h): HourBar(start + dt.timedelta(hours=h)) for h in range(24)
    }
    counted = (
        ActionRun.objects.filter(
            queued_at__gte=start, status__in=(RunStatus.SUCCEEDED, RunStatus.FAILED)
        )
        .annotate(hour=TruncHour("queued_at", tzinfo=dt.UTC))
        .values("hour", "status")
        .annotate(count=Count("id"))
        .order_by()
    )
    for row in counted:
        bar = bars.get(row["hour"])
        if bar is None:
            continue
        if row["status"] == RunStatus.SUCCEEDED:
            bar.succeeded += row["count"]
        else:
            bar.failed += row["count"]
    return list(bars.values())


SOURCE_STORE = "store"
SOURCE_DECLARED = "declared"
# The picker lists paths down to this depth (items.0.sku is 3) and at most this many.
MAX_PATH_DEPTH = 4
MAX_PATHS = 300
EXAMPLE_LENGTH = 60
# A sample is fetched while the form waits: no client retries, the connection's timeout.
SAMPLE_CLIENT_OPTIONS = {"max_retries": 0}


@dataclass
class Sample:
    """A sample record of a trigger (None when the store has none) and its pickable fields.

    `fields` are (path, example) pairs: "items.0.sku", "MH01-XS-Black". `note` says where
    they come from in words.
    """

    trigger_id: str
    record: dict[str, Any] | None = None
    source: str = SOURCE_DECLARED
    note: str = ""
    fields: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "trigger": self.trigger_id,
            "source": self.source,
            "note": self.note,
            "fields": [list(pair) for pair in self.fields],
        }


def record_paths(record: Any, *, prefix: str = "", depth: int = 0) -> list[tuple[str, str]]:
    """Every path in a record a reference can name, with an example value, lists by their
    first item: [("increment_id", "000000042"), ("items", "list of 2"), ("items.0.sku", ...)].
    """
    found: list[tuple[str, str]] = []
    if isinstance(record, dict):
        entries = [(str(key), value) for key, value in record.items()]
    elif isinstance(record, list):
        entries = [("0", record[0])] if record else []
    else:
        return found
    for key, value in entries:
        if len(found) >= MAX_PATHS:
            break
        path = f"{prefix}.{key}" if prefix else key
        found.append((path, _example(value)))
        if isinstance(value, dict | list) and depth + 1 < MAX_PATH_DEPTH:
            found.extend(record_paths(value, prefix=path, depth=depth + 1))
    return found[:MAX_PATHS]


def _example(value: Any) -> str:
    if isinstance(value, list):
        return f"list of {len(value)}"
    if isinstance(value, dict):
        return "object"
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= EXAMPLE_LENGTH else text[: EXAMPLE_LENGTH - 1] + "…"


def declared_fields(trigger_id: str) -> list[tuple[str, str]]:
    """The trigger's declared sample fields, without examples."""
    return [(name, "") for name in get_trigger(trigger_id).sample_fields]


def trigger_sample(
    *, connection: Connection | None, trigger_id: str, options: dict[str, Any] | None = None
) -> Sample:
    """The newest record the trigger would read from the store, with its fields.

    Never raises for the store's sake: when it cannot be read (no connection, an error, no
    record yet) the sample has no record, the declared fields, and a note saying why.
    """
    trigger = get_trigger(trigger_id)
    sample = Sample(trigger_id=trigger_id, fields=declared_fields(trigger_id))
    if connection is None:
        sample.note = "Choose a connection to see a real record's fields."
        return sample
    try:
        criteria = trigger.criteria(trigger.clean_options(options or {}))
    except OptionsError:
        criteria = SearchCriteria()
    criteria = (
        criteria.sort_by(trigger.timestamp_field, "DESC")
        .sort_by(trigger.id_field, "DESC")
        .with_page_size(1)
        .with_current_page(1)
    )
    secrets: list[str] = []
    try:
        secrets = connection_secrets(connection)
        client = connection_client(connection, **SAMPLE_CLIENT_OPTIONS)
    except (PlainHttpNotAllowed, ValueError, *dx.UNREADABLE_ERRORS) as problem:
        sample.note = (
            f"The store could not be asked for a sample ({_scrubbed(problem, secrets)}); "
            "these are the fields such records usually have."
        )
        return sample
    try:
        result = getattr(client, trigger.resource).search(criteria)
    except MagentoError as problem:
        sample.note = (
            f"The store could not be asked for a sample ({_scrubbed(problem.message, secrets)}); "
            "these are the fields such records usually have."
        )
        return sample
    finally:
        client.close()
    if not result.items:
        sample.note = (
            f"{connection.name} has no {trigger.label.lower()} record yet; these are the fields "
            "such records usually have."
        )
        return sample
    record = result.items[0]
    sample.record = record
    sample.source = SOURCE_STORE
    key = trigger.entity_key(record) or str(record.get(trigger.id_key, ""))
    sample.note = f"Fields of the newest record in {connection.name}: {key}."
    sample.fields = record_paths(record)
    return sample


def _scrubbed(problem: Any, secrets: list[str]) -> str:
    return dx.scrub(str(problem), secrets) if secrets else str(problem)


def action_output_fields() -> dict[str, list[str]]:
    """For each action id, the output fields later steps usually refer to."""
    return {
        action_id: list(get_action(action_id).output_fields) for action_id, _ in action_choices()
    }

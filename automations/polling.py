"""Polling a trigger subscription: walk the store from the cursor and turn records into events.

The guarantees, and where each is kept:
- No missed records: a keyset walk on (timestamp, id) in the store's UTC (magento.search
  .iter_keyset), begun a look-back window behind the cursor so rows that became visible late
  are read too; the start point is fixed when the subscription is enabled (start_from).
- No duplicate events: a unique constraint on (subscription, dedup key); a page's events, its
  snapshots, its runs and the new cursor are written in one short transaction, after the page's
  request has been answered. A crash at any point leaves a state the next poll continues from.
- Pages are pipelined: while a page is written, the next one is requested in a background
  thread that does no database work (one request in flight; see _PageFetcher). A page whose
  write fails ends the walk, and the page requested meanwhile is dropped unwritten.
- One poll at a time: a lease in the subscription row, taken and renewed with conditional
  UPDATEs (works the same on SQLite and PostgreSQL).
- Bounded work: a page budget and a time budget well below the worker timeout; while more
  remains, a follow-up poll is queued as soon as this one commits.
- Failures back off exponentially (bounded by an hour, at least what Retry-After asks), are
  recorded on the subscription in words, and clear themselves on the next good poll.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.db.models.sql import Query
from django.utils import timezone

from automations.alerts import alerts_poll_outcome
from automations.binding import server_binding_cursor
from automations.models import (
    UNIQUE_EVENT_CONSTRAINT,
    EntitySnapshot,
    PollOutcome,
    TriggerEvent,
    TriggerSubscription,
)
from automations.runs import automation_steps, runs_create_for_events, runs_enqueue_for_events
from automations.triggers import Trigger, get_trigger
from automations.triggers._base import OptionsError
from automations.triggers.customer_updated import changed_fields
from automations.workers import owner_is_dead, this_worker
from connections.clients import ConnectionUnusable, connection_client_for_task
from connections.models import Connection, ConnectionStatus
from magento import errors as magento_errors
from magento.auth import IntegrationTokenAuth, OAuth1Auth
from magento.search import MAX_PAGE_SIZE, KeysetPage, KeysetPosition, format_magento_time

logger = logging.getLogger(__name__)

PAGE_SIZE = 100
PAGE_BUDGET = 20
_WORKER_TIMEOUT = int(settings.Q_CLUSTER.get("timeout") or 240)
# Well below the worker's timeout: one more page may take a read timeout plus retries.
TIME_BUDGET_SECONDS = min(60.0, _WORKER_TIMEOUT / 4)
# Longer than any poll can run (the worker kills it at its timeout), so a lease only expires
# when its poller is dead.
LEASE_SECONDS = _WORKER_TIMEOUT + 60
# A queued poll that has not started after this long is taken as lost (the worker died).
QUEUED_GRACE_SECONDS = int(settings.Q_CLUSTER.get("retry") or 300)
BACKOFF_BASE_SECONDS = 60
BACKOFF_MAX_SECONDS = 3600
# Errors that will not pass by themselves start further up the backoff: 8 minutes, then 16 ...
PERMANENT_BACKOFF_STEPS = 3
# The client retries a little by itself; longer outages are the poll's backoff's business.
CLIENT_OVERRIDES = {"max_retries": 2, "max_retry_seconds": 20.0}

POLL_TASK = "automations.tasks.poll_subscription"


class PollBusy(Exception):
    """Another poll of this subscription holds the lease."""


class LeaseLost(Exception):
    """The lease expired and another poller took it: this poll's writes are dropped."""


@dataclass
class PollResult:
    """What one poll did. `cursor` is where the walk stands: {"timestamp", "entity_id"}."""

    fetched: int = 0
    new_events: int = 0
    duplicates: int = 0
    left_out: int = 0
    requests: int = 0
    cursor: dict[str, Any] | None = None
    more: bool = False
    ok: bool = True
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The JSON the poll command prints (without `ok`/`error`, which decide its exit)."""
        data = asdict(self)
        data.pop("ok")
        data.pop("error")
        return data


def backoff_seconds(failures: int, retry_after: float | None = None) -> float:
    """Wait after `failures` failed polls in a row: 1, 2, 4 ... minutes, at most an hour, and at
    least what the store asked for with Retry-After (also bounded by the hour)."""
    delay = BACKOFF_BASE_SECONDS * 2 ** max(0, min(failures - 1, 16))
    if retry_after is not None:
        delay = max(delay, retry_after)
    return float(min(delay, BACKOFF_MAX_SECONDS))


def _cursor_of(subscription: TriggerSubscription) -> KeysetPosition | None:
    if subscription.cursor_timestamp is None or subscription.cursor_entity_id is None:
        return None
    return KeysetPosition(subscription.cursor_timestamp, subscription.cursor_entity_id)


def cursor_as_dict(position: KeysetPosition | None) -> dict[str, Any] | None:
    """A cursor as people and JSON read it (Magento's UTC time format)."""
    if position is None:
        return None
    return {"timestamp": format_magento_time(position.timestamp), "entity_id": position.entity_id}


def new_lease_owner() -> str:
    """A name for one poll: host, process and a random part."""
    return f"{this_worker()}:{uuid.uuid4().hex[:8]}"


def _lease_take(subscription_id: int, owner: str, now: dt.datetime) -> bool:
    # One conditional UPDATE: whoever's WHERE still matches when it runs wins, on SQLite (one
    # writer at a time) as on PostgreSQL (the WHERE is checked again after the row lock).
    expires = now + dt.timedelta(seconds=LEASE_SECONDS)
    taken = (
        TriggerSubscription.objects.filter(pk=subscription_id)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now))
        .update(lease_owner=owner, lease_expires_at=expires)
    )
    if taken == 1:
        return True
    # A lease whose poller was killed on this machine is taken over at once; matching the old
    # owner exactly means two pollers taking it over cannot both win.
    holder = (
        TriggerSubscription.objects.filter(pk=subscription_id)
        .values_list("lease_owner", flat=True)
        .first()
    )
    if not holder or not owner_is_dead(holder):
        return False
    taken = TriggerSubscription.objects.filter(pk=subscription_id, lease_owner=holder).update(
        lease_owner=owner, lease_expires_at=expires
    )
    if taken == 1:
        logger.warning(
            "Subscription %s: took over the lease of %s, whose process has stopped",
            subscription_id,
            holder,
        )
    return taken == 1


def _owned(subscription_id: int, owner: str):
    return TriggerSubscription.objects.filter(pk=subscription_id, lease_owner=owner)


def walk_start(
    subscription: TriggerSubscription,
) -> tuple[KeysetPosition | None, dt.datetime | None]:
    """Where a poll begins: (after a position, or since a time).

    A poll continuing a backlog begins exactly at the cursor. Otherwise it begins a look-back
    window behind the cursor (rows that became visible late), never before start_from.
    """
    cursor = _cursor_of(subscription)
    start_from = subscription.start_from
    continuing = cursor is not None and subscription.backlog_remaining is not None
    if continuing and (start_from is None or cursor.timestamp >= start_from):
        return cursor, None
    if cursor is None:
        return None, start_from
    since = cursor.timestamp - dt.timedelta(seconds=subscription.lookback_seconds)
    if start_from is not None:
        since = max(since, start_from)
    return None, since


def subscription_poll(
    *,
    subscription_id: int,
    page_size: int = PAGE_SIZE,
    page_budget: int = PAGE_BUDGET,
    time_budget: float = TIME_BUDGET_SECONDS,
    client_overrides: dict[str, Any] | None = None,
    lease_owner: str | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> PollResult:
    """Poll one subscription now: read what is new in the store and store it as events.

    Returns what was done; a failure is recorded on the subscription (and in `error`) rather
    than raised. Raises TriggerSubscription.DoesNotExist for an unknown id. Never holds a
    database transaction while waiting for the store.
    """
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page size must be 1..{MAX_PAGE_SIZE}")
    owner = lease_owner or new_lease_owner()
    started = timezone.now()
    result = PollResult()
    if not _lease_take(subscription_id, owner, started):
        TriggerSubscription.objects.only("pk").get(pk=subscription_id)  # DoesNotExist if gone
        result.ok = False
        result.error = "Another poll of this automation is running; this one was skipped."
        return result
    subscription = TriggerSubscription.objects.select_related("automation").get(pk=subscription_id)
    result.cursor = cursor_as_dict(_cursor_of(subscription))
    if not subscription.automation.enabled:
        _owned(subscription_id, owner).update(lease_owner="", lease_expires_at=None)
        result.ok = False
        result.error = "The automation is disabled: enable it to poll its trigger."
        return result
    try:
        trigger = get_trigger(subscription.trigger_id)
        options = trigger.clean_options(subscription.options)
        overrides = {**CLIENT_OVERRIDES, **(client_overrides or {})}
        client = connection_client_for_task(subscription.connection_id, **overrides)
        with client:
            _walk(
                client,
                subscription,
                trigger,
                options,
                owner,
                result,
                page_size=page_size,
                page_budget=page_budget,
                deadline=monotonic() + time_budget,
                monotonic=monotonic,
            )
    except LeaseLost:
        result.ok = False
        result.error = (
            "The poll took too long and another poll took over; its last page was not kept."
        )
        logger.warning("Subscription %s: lease lost by %s", subscription_id, owner)
        return result
    except ConnectionUnusable as error:
        return _failed(subscription, owner, started, result, error.message)
    except KeyError as error:
        return _failed(subscription, owner, started, result, f"{error.args[0]}.")
    except OptionsError as error:
        return _failed(
            subscription, owner, started, result, f"The trigger's options are not valid: {error}."
        )
    except magento_errors.MagentoError as error:
        _failed(
            subscription,
            owner,
            started,
            result,
            describe_error(error),
            retry_after=magento_errors.retry_after(error),
            transient=magento_errors.is_transient(error),
        )
        if isinstance(error, magento_errors.AuthenticationError):
            _recheck_connection(subscription.connection_id, error, client_overrides)
        return result
    except Exception as error:
        logger.exception("Subscription %s: the poll failed unexpectedly", subscription_id)
        return _failed(
            subscription,
            owner,
            started,
            result,
            f"The poll failed unexpectedly ({type(error).__name__}); the worker's log has the "
            "details.",
        )
    _succeeded(subscription, owner, started, result)
    return result


def _walk(client, subscription, trigger, options, owner, result, **limits) -> None:
    after, since = walk_start(subscription)
    resource = getattr(client, trigger.resource)
    pages = resource.iter_since(
        trigger.timestamp_field,
        trigger.criteria(options),
        after=after,
        since=since,
        page_size=limits["page_size"],
    )
    cursor = _cursor_of(subscription)
    read = 0
    with _PageFetcher(pages, result, background=_fetches_without_database(client)) as fetcher:
        page = fetcher.first()
        while True:
            read += 1
            result.fetched += page.fetched
            # Decided before writing, so the next page is only asked for when it will be
            # written (unless this page's write fails): the budgets bound the requests exactly.
            another = (
                page.more
                and read < limits["page_budget"]
                and limits["monotonic"]() < limits["deadline"]
            )
            if another:
                fetcher.ask_next()  # requested while this page is written
            cursor = _page_write(subscription, trigger, options, owner, page, cursor, result)
            result.cursor = cursor_as_dict(cursor)
            if not another:
                result.more = page.more
                return
            page = fetcher.next()


def _fetches_without_database(client) -> bool:
    """Whether the client's requests leave the database alone, so they may run in another
    thread. An integration token is a header; OAuth signs each request itself (the way of
    signing a path it may learn and record only concerns paths with escaped characters, which
    search paths do not have). An admin session reads its token from the connection row on
    every request, so those walks fetch in the polling thread, one page after another."""
    return isinstance(client.auth, IntegrationTokenAuth | OAuth1Auth)


class _PageFetcher:
    """The walk's requests, one at a time: page N+1 is asked for in a background thread while
    page N is written in this one.

    The thread only runs the page generator (HTTP and JSON decoding, no database), and the
    client is never used by two threads at once: the generator is advanced either by the
    thread (between `ask_next` and `next`) or not at all. A failed request raises its own
    error from `next`, as if it had been made here. Leaving the block (a failed write) waits
    for a request still under way and drops its page unwritten.
    """

    def __init__(self, pages, result: PollResult, *, background: bool) -> None:
        self._pages = pages
        self._result = result
        self._pool = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="poll-fetch")
            if background
            else None
        )
        self._pending: Future | None = None

    def __enter__(self) -> _PageFetcher:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def first(self) -> KeysetPage:
        """The first page, requested in this thread (there is nothing to write meanwhile)."""
        self._result.requests += 1
        return next(self._pages)

    def ask_next(self) -> None:
        """Start requesting the next page (in this thread, `next` makes the request)."""
        if self._pool is not None and self._pending is None:
            self._result.requests += 1
            self._pending = self._pool.submit(next, self._pages)

    def next(self) -> KeysetPage:
        """The next page, once its request has been answered."""
        if self._pending is None:
            self._result.requests += 1
            return next(self._pages)
        pending, self._pending = self._pending, None
        return pending.result()


@transaction.atomic
def _page_write(
    subscription: TriggerSubscription,
    trigger: Trigger,
    options: dict[str, Any],
    owner: str,
    page: KeysetPage,
    cursor: KeysetPosition | None,
    result: PollResult,
) -> KeysetPosition | None:
    """One page's events, snapshots, runs, cursor and lease renewal, in one transaction."""
    now = timezone.now()
    by_key = {trigger.dedup_key(item): (position, item) for position, item in page.records}
    snapshots: dict[int, EntitySnapshot] = {}
    if trigger.keeps_snapshots:
        ids = [trigger.entity_id(item) for _, item in page.records]
        snapshots = {
            snapshot.entity_id: snapshot
            for snapshot in EntitySnapshot.objects.filter(
                subscription_id=subscription.pk, entity_id__in=ids
            )
        }
    texts = page.record_texts
    text_of = (
        {id(item): text for (_, item), text in zip(page.records, texts, strict=True)}
        if texts is not None
        else {}
    )
    rows: list[dict[str, Any]] = []
    for key, (position, item) in by_key.items():
        entity_id = trigger.entity_id(item)
        changes = None
        if trigger.keeps_snapshots:
            # Also for a record already delivered (a version read again in the look-back
            # window): the store sends a record as it is now, so that writes what was there.
            snapshot = snapshots.get(entity_id)
            if snapshot is not None:
                changes = changed_fields(snapshot.data, item)
            EntitySnapshot.objects.update_or_create(
                subscription_id=subscription.pk,
                entity_id=entity_id,
                defaults={"data": item, "seen_at": now},
            )
        if not trigger.fires_for(item, options):
            result.left_out += 1
            continue
        rows.append(
            {
                "subscription_id": subscription.pk,
                "automation_id": subscription.automation_id,
                "automation_name": subscription.automation.name,
                "connection_id": subscription.connection_id,
                "trigger_id": trigger.id,
                "entity_id": entity_id,
                "entity_key": trigger.entity_key(item),
                "dedup_key": key,
                "record": item,
                "changes": changes,
                "record_timestamp": position.timestamp,
                "detected_at": now,
                "lag_seconds": max(0.0, (now - position.timestamp).total_seconds()),
            }
        )
    steps = automation_steps([subscription.automation_id]) if rows else {}
    for row in rows:
        row["has_runs"] = bool(steps)
    events = _events_insert(rows, text_of)
    result.duplicates += len(rows) - len(events)
    if events:
        runs = runs_create_for_events(events, steps)
        with_runs = sorted({run.event_id for run in runs})
        if with_runs:
            transaction.on_commit(lambda: runs_enqueue_for_events(with_runs))
    result.new_events += len(events)
    if page.position is not None and (cursor is None or page.position > cursor):
        cursor = page.position
    fields: dict[str, Any] = {
        "lease_expires_at": now + dt.timedelta(seconds=LEASE_SECONDS),
        "updated_at": now,
    }
    if cursor is not None:
        fields["cursor_timestamp"] = cursor.timestamp
        fields["cursor_entity_id"] = cursor.entity_id
    if page.more:
        # A backlog: its progress is shown, and a poll after a crash continues at the cursor.
        fields["backlog_remaining"] = page.remaining if page.remaining is not None else 0
        fields["backlog_fetched"] = F("backlog_fetched") + page.fetched
        if subscription.backlog_started_at is None:
            subscription.backlog_started_at = now
            fields["backlog_started_at"] = now
    if _owned(subscription.pk, owner).update(**fields) != 1:
        raise LeaseLost  # rolls this page back: the poller that holds the lease reads it
    return cursor


_JSON_COLUMNS = ("record", "changes")


def _events_insert(rows: list[dict[str, Any]], text_of: dict[int, str]) -> list[TriggerEvent]:
    """Insert a page's events (`rows`: field name -> value, one dedup key each) in the current
    transaction, with one INSERT (on SQLite a few, whose statements take at most 999 values),
    and return those that were new as saved instances, in the order of `rows`.

    A row whose dedup key the subscription has already is left out by the unique index itself
    (`ON CONFLICT ... DO NOTHING` on `trigger_event_unique_per_subscription`): the database
    looks each key up in that index whatever its statistics say, and waits for another
    transaction writing the same key. Asking first with a query depended on the planner, which
    read every event of the subscription for each key instead once the table's statistics
    said the subscription had none: a second automation's first backlog on PostgreSQL took
    100 ms a page at 10,000 events, and more with each page (`make bench`).

    Each record is written as the JSON text the store sent for it (`text_of`, by the item's
    id()), so it is not encoded again; decoding that text gives the record, so it reads back
    equal. Other values are written as they are (dates as Django writes them); fields not in
    `rows` take their defaults. `bulk_create` cost more than the rest of a page's write
    (`make bench`): it prepares every field of every row, and on PostgreSQL it sends each
    column as a text array that psycopg quotes character by character in Python (about 70 ms
    a page of orders).
    """
    if not rows:
        return []
    from django.db import connection

    fields = [f for f in TriggerEvent._meta.concrete_fields if not f.primary_key]
    given = set(rows[0])
    unset = {f.attname: f.get_default() for f in fields if f.attname not in given}
    defaults = {
        f.attname: f.get_db_prep_save(unset[f.attname], connection)
        for f in fields
        if f.attname in unset
    }
    dates = {f.attname for f in fields if isinstance(f, models.DateTimeField)}
    ops = connection.ops
    postgres = connection.vendor == "postgresql"

    def column(name: str) -> list[Any]:
        """The column's values for the database, row by row."""
        if name in defaults:
            return [defaults[name]] * len(rows)
        values = [row[name] for row in rows]
        if name == "record":
            texts = [text_of.get(id(value)) for value in values]
            return [
                json.dumps(value) if text is None else text
                for value, text in zip(values, texts, strict=True)
            ]
        if name in _JSON_COLUMNS:  # as JSONField writes them (no encoder)
            return [None if value is None else json.dumps(value) for value in values]
        if name in dates:
            adapted = {v: ops.adapt_datetimefield_value(v) for v in set(values) if v is not None}
            return [adapted.get(value) for value in values]
        return values

    by_column = [column(f.attname) for f in fields]
    quote = ops.quote_name
    table = quote(TriggerEvent._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    key_column = quote(TriggerEvent._meta.get_field("dedup_key").column)
    ids: dict[str, int] = {}
    returned = f"{_conflict_clause(connection)} RETURNING {quote('id')}, {key_column}"
    if postgres:
        # One statement of one array per column: short, so psycopg converts it once and
        # caches it (a statement of 1,600 placeholders is split again in Python on every
        # page), and binary arrays are sent as they are, with nothing to quote.
        names = [f"c{number}" for number in range(len(fields))]
        arrays = ", ".join(
            f"%b::{'text' if f.attname in _JSON_COLUMNS else f.db_type(connection)}[]"
            for f in fields
        )
        selected = ", ".join(
            f"{name}::{f.db_type(connection)}" if f.attname in _JSON_COLUMNS else name
            for name, f in zip(names, fields, strict=True)
        )
        statement = (
            f"INSERT INTO {table} ({columns}) SELECT {selected} "  # noqa: S608
            f"FROM unnest({arrays}) AS page({', '.join(names)}) {returned}"
        )
        params = by_column
        with server_binding_cursor(connection) as cursor:
            cursor.execute(statement, params)
            ids.update((key, pk) for pk, key in cursor.fetchall())
    else:
        placeholders = ", ".join(["%s"] * len(fields))
        returning = connection.features.can_return_rows_from_bulk_insert
        if not returning:
            # SQLite before 3.35 returns nothing: the keys stored already are read first (the
            # lease keeps other pollers of the subscription out meanwhile).
            keys = [row["dedup_key"] for row in rows]
            stored = set(_keys_stored(rows[0]["subscription_id"], keys))
        batch = max(1, ops.bulk_batch_size(fields, rows))
        by_row = list(zip(*by_column, strict=True))
        with connection.cursor() as cursor:
            for start in range(0, len(rows), batch):
                chunk = rows[start : start + batch]
                values = ", ".join([f"({placeholders})"] * len(chunk))
                params = [value for values in by_row[start : start + batch] for value in values]
                # Names quoted from the model, placeholders written here; values are parameters.
                statement = f"INSERT INTO {table} ({columns}) VALUES {values}"  # noqa: S608
                if returning:
                    cursor.execute(f"{statement} {returned}", params)
                    ids.update((key, pk) for pk, key in cursor.fetchall())
                else:
                    cursor.execute(f"{statement} {_conflict_clause(connection)}", params)
        if not returning:
            new_keys = [key for key in keys if key not in stored]
            ids.update(_keys_stored(rows[0]["subscription_id"], new_keys))
    names = [f.attname for f in TriggerEvent._meta.concrete_fields]
    events = []
    for row in rows:
        if row["dedup_key"] not in ids:
            continue  # delivered already
        values = {**unset, **row, "id": ids[row["dedup_key"]]}
        events.append(TriggerEvent.from_db(connection.alias, names, [values[n] for n in names]))
    return events


def _keys_stored(subscription_id: int, keys: list[str]) -> dict[str, int]:
    """{dedup key: event id} of those of `keys` the subscription has (not replayed) events of."""
    found: dict[str, int] = {}
    for start in range(0, len(keys), 500):  # SQLite takes at most 999 values a statement
        found.update(
            TriggerEvent.objects.filter(
                subscription_id=subscription_id,
                is_replay=False,
                dedup_key__in=keys[start : start + 500],
            )
            .order_by()
            .values_list("dedup_key", "pk")
        )
    return found


_conflict_clauses: dict[str, str] = {}


def _conflict_clause(connection) -> str:
    """`ON CONFLICT (...) WHERE ... DO NOTHING` naming the unique constraint on (subscription,
    dedup key) of events not replayed. Its condition is compiled as the migration compiled the
    index's (SQLite accepts only the index's own WHERE expression)."""
    if connection.vendor in _conflict_clauses:
        return _conflict_clauses[connection.vendor]
    constraint = next(
        c for c in TriggerEvent._meta.constraints if c.name == UNIQUE_EVENT_CONSTRAINT
    )
    meta = TriggerEvent._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in constraint.fields)
    query = Query(TriggerEvent, alias_cols=False)
    where = query.build_where(constraint.condition)
    sql, params = where.as_sql(query.get_compiler(connection=connection), connection)
    editor = connection.SchemaEditorClass(connection, collect_sql=True)  # to quote, not to run
    condition = sql % tuple(editor.quote_value(p) for p in params)
    clause = f"ON CONFLICT ({columns}) WHERE {condition} DO NOTHING"
    _conflict_clauses[connection.vendor] = clause
    return clause


def _succeeded(subscription, owner, started, result: PollResult) -> None:
    now = timezone.now()
    interval = dt.timedelta(minutes=subscription.poll_interval_minutes)
    fields: dict[str, Any] = {
        "last_poll_at": started,
        "last_poll_outcome": PollOutcome.OK,
        "consecutive_failures": 0,
        "lease_owner": "",
        "lease_expires_at": None,
        "updated_at": now,
    }
    if result.more:
        fields.update(next_poll_at=now, poll_queued_at=now)
    else:
        fields.update(
            next_poll_at=started + interval,
            poll_queued_at=None,
            backlog_remaining=None,
            backlog_fetched=0,
            backlog_started_at=None,
        )
    with transaction.atomic():
        if _owned(subscription.pk, owner).update(**fields) == 1 and result.more:
            subscription_id = subscription.pk
            transaction.on_commit(lambda: enqueue_poll(subscription_id))
    alerts_poll_outcome(automation_id=subscription.automation_id, ok=True, now=now)
    logger.info(
        "Subscription %s polled: %s new, %s duplicates, %s requests, more=%s",
        subscription.pk,
        result.new_events,
        result.duplicates,
        result.requests,
        result.more,
    )


def _failed(
    subscription,
    owner,
    started,
    result: PollResult,
    message: str,
    *,
    retry_after=None,
    transient: bool = False,
) -> PollResult:
    now = timezone.now()
    failures = subscription.consecutive_failures + 1
    # A passing fault (magento.errors.is_transient) is tried again soon; one that needs a
    # person (a refused token, a missing permission, a deleted connection) less often.
    delay = backoff_seconds(failures + (0 if transient else PERMANENT_BACKOFF_STEPS), retry_after)
    next_at = now + dt.timedelta(seconds=delay)
    message = (
        f"{message} The portal tries again by itself at {next_at:%Y-%m-%d %H:%M} UTC "
        f"(failure {failures} in a row)."
    )
    result.ok = False
    result.error = message
    _owned(subscription.pk, owner).update(
        last_poll_at=started,
        last_poll_outcome=PollOutcome.FAILED,
        last_error=message[:2000],
        last_error_at=now,
        consecutive_failures=failures,
        next_poll_at=next_at,
        poll_queued_at=None,
        lease_owner="",
        lease_expires_at=None,
        updated_at=now,
    )
    alerts_poll_outcome(
        automation_id=subscription.automation_id,
        ok=False,
        consecutive_failures=failures,
        error=message,
        now=now,
    )
    logger.warning(
        "Subscription %s: poll failed (%s in a row), next try in %ds: %s",
        subscription.pk,
        failures,
        delay,
        message,
    )
    return result


def describe_error(error: magento_errors.MagentoError) -> str:
    """The store's error in a shop owner's words: what kind of failure, then the details."""
    text = str(error)
    kind = type(error).default_message
    if kind != magento_errors.MagentoError.default_message and kind not in text:
        text = f"{kind} ({text})"
    return text


def _recheck_connection(connection_id: int, error: Exception, client_overrides) -> None:
    """A 401 that survived renewing the credentials: check the connection as the Test button
    does, so it shows as failing with a diagnosis. Refused sign-ins are already recorded (and
    pause further sign-ins) by the token cache, so they are not tried again here."""
    if isinstance(
        error, magento_errors.InvalidCredentialsError | magento_errors.TwoFactorRequiredError
    ):
        return
    from connections.verification import connection_verify

    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None or connection.status == ConnectionStatus.FAILED:
        return
    try:
        connection_verify(connection=connection, **(client_overrides or {}))
    except Exception:
        logger.exception("Connection %s: re-checking after a refused poll failed", connection_id)


def enqueue_poll(subscription_id: int) -> None:
    """Queue one poll of the subscription in the Django-Q2 cluster."""
    from django_q.tasks import async_task

    async_task(POLL_TASK, subscription_id, task_name=f"poll subscription {subscription_id}")


# ----------------------------------------------------------------------------- scheduling


def subscription_due_at(subscription: TriggerSubscription) -> dt.datetime:
    """When the subscription should be polled next.

    After a failure: the backoff's time. In a backlog: straight after the last poll (its
    follow-up poll is queued at once; this finds it again if that task was lost). Otherwise: the
    last poll plus the interval as it is now (so a changed interval counts from the next
    dispatch), or at once if never polled.
    """
    if subscription.consecutive_failures and subscription.next_poll_at is not None:
        return subscription.next_poll_at
    if subscription.last_poll_at is None:
        return subscription.created_at
    if subscription.backlog_remaining is not None:
        return subscription.last_poll_at
    return subscription.last_poll_at + dt.timedelta(minutes=subscription.poll_interval_minutes)


def polls_dispatch(
    *, now: dt.datetime | None = None, lost_queued_before: dt.datetime | None = None
) -> list[int]:
    """Queue a poll of each enabled subscription that is due and not already queued or running.

    Run every minute by the one Django-Q2 schedule. A worker that was down finds each due
    subscription once, however many slots it missed. A poll whose process on this machine has
    stopped does not count as running. `lost_queued_before` (a worker starting up) counts polls
    queued before then as lost with the worker that had taken them. Returns the ids queued.
    """
    now = now or timezone.now()
    queued: list[int] = []
    candidates = TriggerSubscription.objects.filter(automation__enabled=True).only(
        "pk",
        "created_at",
        "poll_interval_minutes",
        "last_poll_at",
        "next_poll_at",
        "consecutive_failures",
        "poll_queued_at",
        "backlog_remaining",
        "lease_owner",
        "lease_expires_at",
    )
    grace = dt.timedelta(seconds=QUEUED_GRACE_SECONDS)
    for subscription in candidates:
        due_at = subscription_due_at(subscription)
        if due_at != subscription.next_poll_at:
            # Shown in the admin; follows interval changes within a minute.
            TriggerSubscription.objects.filter(pk=subscription.pk).update(next_poll_at=due_at)
        running = subscription.lease_expires_at is not None and subscription.lease_expires_at > now
        interrupted = running and owner_is_dead(subscription.lease_owner)
        if due_at > now and not interrupted:
            continue
        if running and not interrupted:
            continue  # a poll is running
        lost = interrupted or (
            lost_queued_before is not None
            and subscription.poll_queued_at is not None
            and subscription.poll_queued_at <= lost_queued_before
        )
        queued_at = subscription.poll_queued_at
        if queued_at is not None and queued_at > now - grace and not lost:
            continue  # a poll is waiting for a worker
        with transaction.atomic():
            claimed = (
                TriggerSubscription.objects.filter(
                    pk=subscription.pk, poll_queued_at=subscription.poll_queued_at
                ).update(poll_queued_at=now)
                == 1
            )
            if claimed:
                subscription_id = subscription.pk
                transaction.on_commit(lambda sid=subscription_id: enqueue_poll(sid))
                queued.append(subscription_id)
    return queued

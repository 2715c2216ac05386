"""Action runs: created with their trigger events, executed in order by the worker.

Life of a run: PENDING -> (RUNNING) -> SUCCEEDED | FAILED | SKIPPED. A step that writes to the
store is claimed with one conditional UPDATE (pending -> running) before it is sent, so two
workers never send the same write; a read goes from pending to its result, written only if the
run is still as it was read, so it is recorded once (see events_runs_execute). Steps run
in position order; a step that fails for good skips the later ones. A transient failure (rate
limit, store down, timeout: `magento.errors.is_transient`) puts the run back to PENDING with a
`next_attempt_at` (exponential backoff, or the store's Retry-After), and the per-minute
dispatcher queues it again when it is due. A create whose outcome is unknown (the request may
have reached the store) looks in the store before anything is sent again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connections, models, transaction
from django.db.models import Q
from django.utils import timezone

from automations.actions import Action, ActionInputError, ActionRefused, ActionResult, get_action
from automations.alerts import alerts_run_finished, alerts_runs_finished
from automations.audit import ADDITION, CHANGE, audit_log
from automations.binding import server_binding_cursor
from automations.mapping import MappingError, resolve_inputs
from automations.models import (
    ActionRun,
    Automation,
    AutomationStep,
    RunStatus,
    StartedBy,
    TriggerEvent,
)
from automations.workers import owner_is_dead, this_host, this_worker
from connections import diagnosis as dx
from connections.clients import (
    ConnectionUnusable,
    TaskClient,
    connection_client_for_task,
    connection_secrets,
    connection_task_client,
)
from connections.models import Connection
from magento.errors import MagentoError, UnknownOutcomeError, is_transient, retry_after

logger = logging.getLogger(__name__)

EXECUTE_BATCH_TASK = "automations.run_tasks.execute_events_runs"
# Runs never wait inside the client: every try is one attempt in the run's own log, and the
# wait between tries is the run's backoff, not a sleeping worker.
CLIENT_OPTIONS: dict[str, Any] = {"max_retries": 0}
MAX_ENQUEUE_PER_DISPATCH = 500

# Outcomes written in the attempt log.
OK, RETRY, FAILED, UNKNOWN = "succeeded", "retry", "failed", "unknown_outcome"
STUCK = "stuck"


def _now() -> dt.datetime:
    return timezone.now()


def runs_create_for_events(
    events: Iterable[TriggerEvent], steps: Mapping[int, list[Step]] | None = None
) -> list[ActionRun]:
    """One pending run per step of each event's automation, written in the caller's transaction.

    The poller calls this in the transaction that writes the events, so an event is never
    stored without its runs (a crash in between loses neither). Runs are unique per event and
    step position, so calling it twice for one event fails instead of running a step twice.
    `steps` are `automation_steps()` of the events' automations, when the caller read them to
    store the events with `has_runs` already right; an event whose `has_runs` is not right is
    corrected here (one UPDATE).
    """
    events = list(events)
    if steps is None:
        steps = automation_steps({e.automation_id for e in events if e.automation_id})
    wrong = [
        event
        for event in events
        if event.has_runs != bool(event.automation_id and steps.get(event.automation_id))
    ]
    for event in wrong:
        event.has_runs = not event.has_runs
    for has_runs in (True, False):
        ids = [event.pk for event in wrong if event.has_runs == has_runs]
        if ids:
            TriggerEvent.objects.filter(pk__in=ids).update(has_runs=has_runs)
    runs = [
        ActionRun(
            event=event,
            automation_id=event.automation_id,
            automation_name=step.automation_name,
            step_id=step.id,
            step_position=step.position,
            action_id=step.action_id,
            connection_id=step.connection_id,
            connection_name=step.connection_name,
            status=RunStatus.PENDING,
            started_by=StartedBy.TRIGGER,
            input_mapping=step.inputs,
            max_attempts=settings.ACTION_RUN_MAX_ATTEMPTS,
        )
        for event in events
        if event.automation_id is not None
        for step in steps.get(event.automation_id, [])
    ]
    return ActionRun.objects.bulk_create(runs) if runs else []


@dataclass(frozen=True)
class Step:
    """What a run copies from its step (and the step's automation and connection)."""

    id: int
    automation_id: int
    position: int
    action_id: str
    connection_id: int
    inputs: Any
    automation_name: str
    connection_name: str


def automation_steps(automation_ids: Iterable[int]) -> dict[int, list[Step]]:
    """{automation id: its steps, in order} for those of the automations that have any, read
    with one short query.

    Every page a poll writes asks this. Written as SQL, not as a queryset: building that query
    with its two joins cost the poller more than PostgreSQL took to answer it (`make bench`),
    and loading the connections would have decrypted their credentials for a name.
    """
    connection = connections[AutomationStep.objects.db]
    step, automation, store = (model._meta for model in (AutomationStep, Automation, Connection))
    quote = connection.ops.quote_name

    def column(meta, name: str) -> str:
        return f"{quote(meta.db_table)}.{quote(meta.get_field(name).column)}"

    selected = ", ".join(
        [
            column(step, name)
            for name in ("id", "automation", "position", "action_id", "connection", "inputs")
        ]
        + [column(automation, "name"), column(store, "name")]
    )
    ids = sorted(automation_ids)
    if not ids:
        return {}
    # Names quoted from the models, placeholders written here; values are parameters.
    sql = (
        f"SELECT {selected} FROM {quote(step.db_table)} "  # noqa: S608
        f"JOIN {quote(automation.db_table)} ON {column(automation, 'id')} = "
        f"{column(step, 'automation')} "
        f"JOIN {quote(store.db_table)} ON {column(store, 'id')} = {column(step, 'connection')} "
        f"WHERE {column(step, 'automation')} IN ({', '.join(['%s'] * len(ids))}) "
        f"ORDER BY {column(step, 'automation')}, {column(step, 'position')}"
    )
    inputs = step.get_field("inputs")
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        rows = cursor.fetchall()
    steps: dict[int, list[Step]] = {}
    for values in rows:
        read = Step(*values[:5], inputs.from_db_value(values[5], None, connection), *values[6:])
        steps.setdefault(read.automation_id, []).append(read)
    return steps


def runs_enqueue_for_events(event_ids: Iterable[int]) -> None:
    """Queue the execution of each event's runs once the current transaction commits."""
    ids = list(event_ids)
    if ids:
        transaction.on_commit(lambda: _enqueue(ids))


def event_batches(event_ids: Iterable[int]) -> list[list[int]]:
    """The events in the groups one task executes (`RUN_BATCH_EVENTS` each, order kept)."""
    ids = list(dict.fromkeys(event_ids))
    size = max(1, settings.RUN_BATCH_EVENTS)
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def _enqueue(event_ids: list[int]) -> None:
    from django_q.tasks import async_task

    for batch in event_batches(event_ids):
        name = f"runs of event {batch[0]}" + (f" and {len(batch) - 1} more" if batch[1:] else "")
        async_task(EXECUTE_BATCH_TASK, batch, task_name=name)


# -- executing -------------------------------------------------------------------------------


def event_runs_execute(event_id: int) -> list[ActionRun]:
    """Run the event's pending steps in order, as far as they can go now; returns the event's
    runs as they are afterwards (see events_runs_execute)."""
    return events_runs_execute([event_id]).get(event_id, [])


def events_runs_execute(
    event_ids: Iterable[int], *, clock: Callable[[], float] = time.monotonic
) -> dict[int, list[ActionRun]]:
    """Run the pending steps of these events, each event's in position order, as far as they
    can go now. Returns each event's runs as they are afterwards.

    An event stops at a step that is running elsewhere, waits for a retry, or failed (its later
    steps are then skipped). The events go forward together, a round at a time: one read for
    all their runs, then each event's next step, and the results written together, so a run's
    bookkeeping is a share of a few statements instead of several of its own.

    A step that changes the store is claimed (marked running, with what it will send) before it
    is sent, and its result is written as soon as it is answered: a worker killed in between
    leaves a running step that the recovery resolves. A read is neither claimed nor kept in
    memory long: its result is written with the others of the round (at the latest after
    `RUN_RESULTS_FLUSH_SECONDS`) only if the run is still as it was read, so of two tasks
    reading the same step one records it; a worker killed meanwhile leaves the step pending,
    and it is queued again and read again. A task that has run `RUN_TASK_SECONDS` starts no
    more steps and queues what is left.
    """
    batch = _Batch(list(dict.fromkeys(event_ids)), clock)
    try:
        batch.execute()
    finally:
        batch.close()
    return batch.result()


@dataclass
class _Result:
    """An attempt's result waiting to be written, and the run as the attempt found it."""

    run: ActionRun
    fields: dict[str, Any]
    status: str
    attempts: int
    worker: str


class _Batch:
    """The events of one task, going forward a round at a time (see events_runs_execute)."""

    def __init__(self, event_ids: list[int], clock: Callable[[], float]) -> None:
        self.event_ids = event_ids
        self.clock = clock
        self.deadline = clock() + settings.RUN_TASK_SECONDS
        self.runs: dict[int, list[ActionRun]] = {}
        self.active: list[int] = []
        self.pending: list[_Result] = []  # results not written yet
        self.pending_since = 0.0
        self.clients: dict[int | None, tuple[TaskClient | None, ConnectionUnusable | None]] = {}
        self.stale: set[int] = set()  # events whose runs are not all as this task knows them
        self.requeue: list[int] = []

    def execute(self) -> None:
        if not self.event_ids:
            return
        # One read for the runs of every event and the events (an event without runs has
        # nothing to do).
        for run in (
            ActionRun.objects.filter(event_id__in=self.event_ids)
            .select_related("event")
            .order_by("event_id", "step_position")
        ):
            self.runs.setdefault(run.event_id, []).append(run)
        self.active = [event_id for event_id in self.event_ids if event_id in self.runs]
        while self.active:
            self._round()

    def _round(self) -> None:
        now = _now()
        wanted = [run for run in (self._next_run(e, now) for e in self.active) if run]
        self.active = []
        went_on: list[int] = []
        try:
            for index, run in enumerate(wanted):
                if self.clock() >= self.deadline:
                    # Out of time: the steps not started, and the next steps of those done.
                    self.requeue = [later.event_id for later in wanted[index:]] + went_on
                    return
                if self._run(run):
                    went_on.append(run.event_id)
        finally:
            self._flush()
            self._release_clients()
        self.active = [event_id for event_id in went_on if event_id not in self.stale]

    def _next_run(self, event_id: int, now: dt.datetime) -> ActionRun | None:
        """The event's first step not done, when it may start now; else None (the event stops)."""
        for run in self.runs[event_id]:
            if run.status == RunStatus.SUCCEEDED:
                continue
            if run.status != RunStatus.PENDING:
                return None
            if run.next_attempt_at is not None and run.next_attempt_at > now:
                return None
            return run
        return None

    def _client(self, connection_id: int | None):
        if connection_id not in self.clients:
            self.clients[connection_id] = _task_client(connection_id)
        return self.clients[connection_id]

    def _release_clients(self) -> None:
        clients, self.clients = self.clients, {}
        for task_client, _ in clients.values():
            if task_client is not None:
                task_client.release()

    def _run(self, run: ActionRun) -> bool:
        """One attempt of the run; True when it was made (its result may still wait)."""
        outputs = {
            other.step_position: other.output
            for other in self.runs[run.event_id]
            if other.status == RunStatus.SUCCEEDED
        }
        attempts_read = run.attempts
        worker = this_worker()
        run.attempts += 1
        started = _now()

        def start(inputs: Any, subject: str) -> bool:
            # A write is claimed before it is sent, with what it asks: if this process dies,
            # the recovery knows the store may have been changed, and how to look.
            self._flush()
            claimed = _claim_as_read(
                run.pk, attempts_read, started, worker, inputs=inputs, subject=subject
            )
            if claimed:
                run.status, run.worker, run.memo = RunStatus.RUNNING, worker, None
            return claimed

        task_client, unusable = self._client(run.connection_id)
        fields = _attempt_fields(
            run,
            started,
            trigger=run.event.record,
            steps=outputs,
            literal_inputs=None,
            clock=self.clock,
            task_client=task_client,
            unusable=unusable,
            start=start,
        )
        if fields is None:  # another task claimed it first
            run.attempts = attempts_read
            self.stale.add(run.event_id)
            return False
        fields.update(attempts=run.attempts, started_at=started)
        claimed = run.status == RunStatus.RUNNING
        found = (
            (RunStatus.RUNNING, run.attempts, worker)
            if claimed
            else (RunStatus.PENDING, attempts_read, "")
        )
        if not self.pending:
            self.pending_since = self.clock()
        self.pending.append(_Result(run, fields, *found))
        if claimed or self.clock() - self.pending_since >= settings.RUN_RESULTS_FLUSH_SECONDS:
            self._flush()
        return True

    def _flush(self) -> None:
        """Write the results waiting, in one transaction, then what follows from them."""
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        # Nothing here changed the store (reads, or steps refused before sending)? Then if the
        # database server loses these results, the runs are still pending, and they are
        # queued and read again.
        lazy = all(result.status == RunStatus.PENDING for result in pending)
        try:
            with transaction.atomic():
                if lazy:
                    _lazy_commit()
                _results_write(pending)
            saved = [True] * len(pending)
        except _RunsChanged:
            # Some run changed since it was read (another task recorded it first): write only
            # those still as their attempt found them, read under lock.
            with transaction.atomic():
                if lazy:
                    _lazy_commit()
                held = _results_held(pending)
                _results_write([result for result in pending if result.run.pk in held])
            saved = [result.run.pk in held for result in pending]
        finished = []
        for result, was_saved in zip(pending, saved, strict=True):
            run = result.run
            if was_saved:
                for name, value in result.fields.items():
                    setattr(run, name, value)
            else:
                # A read recorded first by another task, or a claimed step resolved as stuck.
                logger.log(
                    logging.WARNING if result.status == RunStatus.RUNNING else logging.INFO,
                    "Run %s changed while it was tried here; its result is not kept.",
                    run.pk,
                )
                run.refresh_from_db()
                self.stale.add(run.event_id)
                continue
            if run.status == RunStatus.FAILED:
                _skip_after(run)
            if run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
                finished.append(run)
            if run.status != RunStatus.SUCCEEDED:
                self.stale.add(run.event_id)
        alerts_runs_finished(finished)

    def close(self) -> None:
        """Write what waits and queue what is left."""
        try:
            self._flush()
        finally:
            self._release_clients()
            if self.requeue:
                _enqueue(self.requeue)

    def result(self) -> dict[int, list[ActionRun]]:
        changed = [event_id for event_id in self.runs if event_id in self.stale]
        if changed:
            # Later steps skipped, or runs changed elsewhere: read those events again.
            fresh: dict[int, list[ActionRun]] = {}
            for run in ActionRun.objects.filter(event_id__in=changed).order_by(
                "event_id", "step_position"
            ):
                fresh.setdefault(run.event_id, []).append(run)
            self.runs.update(fresh)
        return self.runs


def _lazy_commit() -> None:
    """Let the current transaction commit without waiting for the disk (PostgreSQL's
    `synchronous_commit = off` for this transaction only): it is visible to everyone at once, and
    only a crash of the database server itself within a fraction of a second can lose it. Used
    only for what is safe to lose that way. (SQLite in WAL mode with synchronous=NORMAL already
    commits without waiting for the disk.)"""
    connection = connections[ActionRun.objects.db]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


# The result columns of an attempt, written for many runs with one prepared statement.
_RESULT_COLUMNS = (
    "status",
    "attempts",
    "started_at",
    "next_attempt_at",
    "finished_at",
    "output",
    "response",
    "request_method",
    "request_path",
    "error_class",
    "error_message",
    "attempt_log",
    "duration_ms",
    "worker",
    "memo",
    "inputs",
    "subject",
    "input_mapping",
)


# What a result's run must still be for the result to be written: as the attempt found it.
_RESULT_GUARD = ("id", "status", "attempts", "worker")


class _RunsChanged(Exception):
    """A result was not written: its run is no longer as the attempt found it."""


def _results_write(pending: list[_Result]) -> None:
    """Write each result where its run is still as the attempt found it, or raise _RunsChanged
    (the caller's transaction then writes none of them).

    One statement for all of them: each value goes through its model field's own preparation,
    as the ORM would do, without building a query per run. On SQLite a prepared UPDATE run
    for each result (`executemany`); on PostgreSQL one UPDATE joined to the results, sent as
    one array per column (`_results_write_arrays`).
    """
    if not pending:
        return
    connection = connections[ActionRun.objects.db]
    if connection.vendor == "postgresql":
        _results_write_arrays(connection, pending)
        return
    meta = ActionRun._meta
    quote = connection.ops.quote_name
    fields = [meta.get_field(name) for name in _RESULT_COLUMNS]
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    guard = " AND ".join(f"{quote(meta.get_field(name).column)} = %s" for name in _RESULT_GUARD)
    # Only the model's own quoted names are formatted in; every value is a parameter.
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {guard}"  # noqa: S608
    rows = []
    for result in pending:
        values = {name: getattr(result.run, name) for name in _RESULT_COLUMNS} | result.fields
        row = [field.get_db_prep_save(values[field.name], connection) for field in fields]
        rows.append([*row, result.run.pk, result.status, result.attempts, result.worker])
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
        if cursor.rowcount != len(pending):
            raise _RunsChanged


def _results_write_arrays(connection, pending: list[_Result]) -> None:
    """PostgreSQL: `UPDATE runs SET ... FROM unnest(one array per column) WHERE` each run is
    still as its attempt found it. Django turns off prepared statements (for connection
    poolers), so `executemany` had PostgreSQL parse the UPDATE again for every run, a third of
    the server's work on a result (`make bench`); this statement is parsed once a round."""
    meta = ActionRun._meta
    quote = connection.ops.quote_name
    fields = [meta.get_field(name) for name in _RESULT_COLUMNS]
    guards = [meta.get_field(name) for name in _RESULT_GUARD]
    json_fields = {col.name for col in fields if isinstance(col, models.JSONField)}

    def sql_type(col) -> str:
        return col.rel_db_type(connection) if col.primary_key else col.db_type(connection)

    columns: list[list[Any]] = [[] for _ in range(len(fields) + len(guards))]
    for result in pending:
        values = {name: getattr(result.run, name) for name in _RESULT_COLUMNS} | result.fields
        for number, col in enumerate(fields):
            value = values[col.name]
            if col.name in json_fields:
                # As JSONField writes it (None is SQL NULL), as text cast back to jsonb.
                value = None if value is None else json.dumps(value, cls=col.encoder)
            else:
                value = col.get_db_prep_save(value, connection)
            columns[number].append(value)
        for number, value in enumerate(
            (result.run.pk, result.status, result.attempts, result.worker), start=len(fields)
        ):
            columns[number].append(value)
    names = [f"c{number}" for number in range(len(columns))]
    arrays = ", ".join(
        f"%b::{'text' if col.name in json_fields else sql_type(col)}[]"
        for col in [*fields, *guards]
    )
    assignments = ", ".join(
        f"{quote(col.column)} = page.{name}"
        + (f"::{col.db_type(connection)}" if col.name in json_fields else "")
        for name, col in zip(names, fields, strict=False)
    )
    guard = " AND ".join(
        f"run.{quote(col.column)} = page.{name}"
        for name, col in zip(names[len(fields) :], guards, strict=True)
    )
    # Only the model's own quoted names are formatted in; every value is a parameter.
    sql = (
        f"UPDATE {quote(meta.db_table)} AS run SET {assignments} "  # noqa: S608
        f"FROM unnest({arrays}) AS page({', '.join(names)}) WHERE {guard}"
    )
    with server_binding_cursor(connection) as cursor:
        cursor.execute(sql, columns)
        if cursor.rowcount != len(pending):
            raise _RunsChanged


def _results_held(pending: list[_Result]) -> set[int]:
    """The runs still as their attempts found them, locked until the transaction ends."""
    found = {result.run.pk: (result.status, result.attempts, result.worker) for result in pending}
    rows = (
        ActionRun.objects.select_for_update()
        .filter(pk__in=list(found))
        .values_list("pk", "status", "attempts", "worker")
    )
    return {pk for pk, *now in rows if tuple(now) == found[pk]}


@dataclass
class _Attempt:
    """What one attempt found out; written to the run in one UPDATE at the end."""

    outcome: str = FAILED
    output: Any = None
    response: Any = None
    request_method: str = ""
    request_path: str = ""
    error_class: str = ""
    error_message: str = ""
    retry_in: float | None = None
    note: str = ""
    memo: dict[str, Any] = field(default_factory=dict)
    changes: dict[str, Any] = field(default_factory=dict)


def _claim_as_read(run_pk: int, attempts: int, now: dt.datetime, worker: str, **also: Any) -> bool:
    """Claim a pending run as it was read (pending -> running, one attempt more), with `also`.

    Only the run as it was read: every claim adds an attempt, so a run claimed (and put back)
    by another worker since is not claimed here, and the fields read are the row's own.
    """
    return bool(
        ActionRun.objects.filter(pk=run_pk, status=RunStatus.PENDING, attempts=attempts, worker="")
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(
            status=RunStatus.RUNNING,
            started_at=now,
            next_attempt_at=None,
            attempts=attempts + 1,
            worker=worker,
            memo=None,
            **also,
        )
    )


def _claim(run: ActionRun, now: dt.datetime) -> bool:
    worker = this_worker()
    claimed = _claim_as_read(run.pk, run.attempts, now, worker)
    if claimed:
        run.status, run.started_at, run.next_attempt_at = RunStatus.RUNNING, now, None
        run.worker, run.memo = worker, None
        run.attempts += 1
    return claimed


def _run_once(
    run: ActionRun,
    *,
    trigger: Any = None,
    steps: Mapping[int, Any] | None = None,
    literal_inputs: dict[str, Any] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """Claim one run (a run by hand, a retry of one) and make one attempt; True when it
    succeeded. Events' runs go through events_runs_execute."""
    started = _now()
    if not _claim(run, started):
        return False

    def start(inputs: Any, subject: str) -> bool:
        # Kept before anything is sent: if this process dies, the recovery knows what was asked.
        return bool(_running(run).update(inputs=inputs, subject=subject))

    task_client, unusable = _task_client(run.connection_id)
    try:
        fields = _attempt_fields(
            run,
            started,
            trigger=trigger,
            steps=steps,
            literal_inputs=literal_inputs,
            clock=clock,
            task_client=task_client,
            unusable=unusable,
            start=start,
        )
    finally:
        if task_client is not None:
            task_client.release()
    if fields is None:
        return False
    saved = ActionRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(**fields)
    if saved:
        # The row is what was just written: no second read of it.
        for name, value in fields.items():
            setattr(run, name, value)
    else:
        logger.warning("Run %s was no longer running when its attempt ended; kept as is.", run.pk)
        run.refresh_from_db()
    if run.status == RunStatus.FAILED and run.event_id is not None:
        _skip_after(run)
    if saved and run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
        alerts_run_finished(run=run)
    return run.status == RunStatus.SUCCEEDED


def _attempt_fields(
    run: ActionRun,
    started: dt.datetime,
    *,
    trigger: Any,
    steps: Mapping[int, Any] | None,
    literal_inputs: dict[str, Any] | None,
    clock: Callable[[], float],
    task_client: TaskClient | None,
    unusable: ConnectionUnusable | None,
    start: Callable[[Any, str], bool],
) -> dict[str, Any] | None:
    """Make one attempt of `run` (its attempt number already counted) and return the fields
    that record it; None when `start` found the run taken before a write was sent."""
    began = clock()
    secrets = task_client.secrets() if task_client else _secrets(run.connection_id)
    attempt = _attempt(run, trigger, steps, literal_inputs, secrets, task_client, unusable, start)
    if attempt is None:
        return None
    if task_client is not None:
        secrets = task_client.secrets()  # with an admin token signed in for during the attempt
    finished = _now()
    entry = {
        "attempt": run.attempts,
        "started_at": started.isoformat(),
        "finished_at": finished.isoformat(),
        "duration_ms": int((clock() - began) * 1000),
        "outcome": attempt.outcome,
        "error": attempt.error_message,
    }
    if attempt.note:
        entry["note"] = attempt.note
    if attempt.memo:
        entry["memo"] = attempt.memo
    fields: dict[str, Any] = {
        **attempt.changes,
        "output": attempt.output,
        "response": attempt.response,
        "request_method": attempt.request_method,
        "request_path": attempt.request_path[:1000],
        "error_class": attempt.error_class[:100],
        "error_message": attempt.error_message,
        "attempt_log": [*(run.attempt_log or []), entry],
        "duration_ms": entry["duration_ms"],
        "worker": "",
        "memo": None,
        "next_attempt_at": None,
        "finished_at": None,
    }
    if attempt.outcome in (RETRY, UNKNOWN) and run.attempts < run.max_attempts:
        delay = attempt.retry_in if attempt.retry_in is not None else 0
        fields.update(
            status=RunStatus.PENDING, next_attempt_at=finished + dt.timedelta(seconds=delay)
        )
        entry["retry_at"] = fields["next_attempt_at"].isoformat()
    elif attempt.outcome == OK:
        fields.update(status=RunStatus.SUCCEEDED, finished_at=finished)
    else:
        if attempt.outcome in (RETRY, UNKNOWN):
            fields["error_message"] = (
                f"{fields['error_message']} Gave up after {run.attempts} attempts."
                if run.attempts > 1
                else fields["error_message"]
            )
        fields.update(status=RunStatus.FAILED, finished_at=finished)
    return _scrub_fields(fields, secrets)


# What an attempt records that may quote a credential (a literal in a mapping, an answer).
_SCRUBBED_FIELDS = ("input_mapping", "inputs", "output", "response", "error_message", "attempt_log")


def _scrub_fields(fields: dict[str, Any], secrets: list[str]) -> dict[str, Any]:
    """`fields` with every credential hidden; one look at all of them when none is there."""
    values = {name: fields[name] for name in _SCRUBBED_FIELDS if name in fields}
    if not secrets or not _may_hold(values, secrets):
        return fields
    return {**fields, **{name: _scrub_each(value, secrets) for name, value in values.items()}}


def _running(run: ActionRun):
    """The run, while this attempt still holds it."""
    return ActionRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, attempts=run.attempts)


def _task_client(connection_id: int | None) -> tuple[TaskClient | None, ConnectionUnusable | None]:
    """The run's client (kept between runs), or why the connection cannot be used."""
    if connection_id is None:
        return None, None
    try:
        return connection_task_client(connection_id, **CLIENT_OPTIONS), None
    except ConnectionUnusable as unusable:
        return None, unusable


def _attempt(
    run, trigger, steps, literal_inputs, secrets, task_client, unusable, start
) -> _Attempt | None:
    result = _Attempt()
    try:
        action = get_action(run.action_id)
    except KeyError:
        return _failed(result, "UnknownAction", f"There is no action {run.action_id!r}.")
    if run.input_mapping:
        # The mapping as configured may hold a literal password: the record keeps it hidden.
        result.changes["input_mapping"] = action.redacted(run.input_mapping)
    values: Any = None
    try:
        if literal_inputs is not None:
            values = literal_inputs
        else:
            values = resolve_inputs(run.input_mapping or {}, trigger=trigger, steps=steps)
        cleaned = action.validate(values)
    except (MappingError, ActionInputError) as problem:
        message = "; ".join(f"{name}: {text}" for name, text in problem.errors.items())
        result.changes["inputs"] = _redacted(action, values)
        return _failed(result, type(problem).__name__, f"The step's inputs are wrong: {message}")
    result.changes["inputs"] = action.redacted(cleaned)
    result.changes["subject"] = action.subject(cleaned)[:255]
    if run.connection_id is None:
        return _failed(
            result,
            "ConnectionUnusable",
            "The store connection no longer exists: it was deleted. Choose another connection.",
        )
    previous = _last_attempt(run)
    action.memo = dict(previous.get("memo") or {})
    if task_client is None:
        return _failed(result, "ConnectionUnusable", unusable.message)
    if action.writes:
        # Kept before anything is sent: if this process dies, the recovery knows the store may
        # have been changed, and what was asked. A read needs nothing kept: it is read again.
        if not start(_scrub(result.changes["inputs"], secrets), result.changes["subject"]):
            return None
        action.memo_saver = lambda memo: _running(run).update(memo=memo)
    client = task_client.client
    try:
        if action.creates and _outcome_unknown(previous):
            found = action.find_existing(client, cleaned)
            if found is not None:
                return _succeeded(result, found, note="found in the store after an unknown outcome")
        try:
            return _succeeded(result, action.run(client, cleaned))
        except UnknownOutcomeError as unknown:
            result.memo = dict(action.memo)
            _note_error(result, unknown)
            if not action.creates:
                result.outcome, result.retry_in = RETRY, _backoff(run.attempts, unknown)
                return result
            result.outcome = UNKNOWN
            found = action.find_existing(client, cleaned)
            if found is not None:
                return _succeeded(result, found, note="found in the store after an unknown outcome")
            # The store has no trace of the write: sending it again cannot make a second one.
            result.outcome, result.retry_in = RETRY, _backoff(run.attempts, unknown)
            result.note = "not found in the store after an unknown outcome"
            return result
    except ActionRefused as refusal:
        result.response = refusal.response
        return _failed(result, "ActionRefused", refusal.message)
    except MagentoError as error:
        _note_error(result, error)
        if result.outcome != UNKNOWN:
            result.outcome = RETRY if is_transient(error) else FAILED
        result.retry_in = _backoff(run.attempts, error)
        result.memo = result.memo or dict(action.memo)
        return result
    except Exception as error:  # a bug: record it, never leave the run "running"
        logger.exception("Run %s of %s failed unexpectedly", run.pk, run.action_id)
        return _failed(result, type(error).__name__, "The portal failed while running this step.")


def _last_attempt(run: ActionRun) -> dict[str, Any]:
    """The log entry of the run's last attempt (a retry's own note is not an attempt)."""
    for entry in reversed(run.attempt_log or []):
        if "attempt" in entry:
            return entry
    return {}


def _outcome_unknown(entry: dict[str, Any]) -> bool:
    # A run whose worker stopped mid-step may have reached the store, like a lost answer.
    return entry.get("outcome") == UNKNOWN or entry.get("error") == STUCK


def _redacted(action: Action, values: Any) -> Any:
    return action.redacted(values) if isinstance(values, dict) else None


def _succeeded(result: _Attempt, found: ActionResult, *, note: str = "") -> _Attempt:
    result.outcome = OK
    result.output = found.output
    result.response = found.response
    result.request_method = found.request_method
    result.request_path = found.request_path
    result.error_class = result.error_message = ""
    result.note = note
    return result


def _failed(result: _Attempt, error_class: str, message: str) -> _Attempt:
    result.outcome = FAILED
    result.error_class = error_class
    result.error_message = message
    return result


def _note_error(result: _Attempt, error: MagentoError) -> None:
    result.error_class = type(error).__name__
    message = error.message + (f" ({'; '.join(error.errors)})" if error.errors else "")
    kind = type(error).default_message
    if is_transient(error) and kind not in message:
        # The store's own words for a passing fault are terse ("Too Many Requests"): say what
        # kind of failure it is first.
        message = f"{kind} ({message})"
    result.error_message = message
    result.request_method = error.method or result.request_method
    result.request_path = error.path or result.request_path
    answer: dict[str, Any] = {"status": error.status, "message": error.raw_message}
    if error.parameters is not None:
        answer["parameters"] = error.parameters
    if error.errors:
        answer["errors"] = error.errors
    if error.body_excerpt:
        answer["body_excerpt"] = error.body_excerpt
    result.response = answer


def _backoff(attempt: int, error: BaseException) -> float:
    """Seconds to wait before the next try: the store's Retry-After, else exponential."""
    asked = retry_after(error)
    if asked is not None:
        return max(1.0, asked)
    base = settings.ACTION_RUN_RETRY_BASE_SECONDS
    return float(min(settings.ACTION_RUN_RETRY_MAX_SECONDS, base * 2 ** max(0, attempt - 1)))


def _skip_after(run: ActionRun) -> None:
    """Skip the event's later steps that have not run: their input may depend on this one."""
    ActionRun.objects.filter(
        event_id=run.event_id, step_position__gt=run.step_position, status=RunStatus.PENDING
    ).update(
        status=RunStatus.SKIPPED,
        finished_at=_now(),
        next_attempt_at=None,
        error_message=f"Skipped because step {run.step_position} ({run.action_id}) failed.",
    )


def _secrets(connection_id: int | None) -> list[str]:
    if connection_id is None:
        return []
    try:
        connection = Connection.objects.get(pk=connection_id)
        return connection_secrets(connection)
    except Connection.DoesNotExist:
        return []
    except dx.UNREADABLE_ERRORS:
        return []  # what cannot be decrypted cannot be sent, so it cannot leak either


def _scrub(value: Any, secrets: list[str]) -> Any:
    if not secrets:
        return value
    if isinstance(value, dict | list) and not _may_hold(value, secrets):
        return value  # a whole answer (a product: thousands of strings) seldom holds one
    return _scrub_each(value, secrets)


def _may_hold(value: dict | list, secrets: list[str]) -> bool:
    """False only when no secret can be in `value`: none is in its JSON text, and each would
    be written there as it is (no character JSON escapes)."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return True
    for secret in secrets:
        if secret in text or json.dumps(secret, ensure_ascii=False)[1:-1] != secret:
            return True
    return False


def _scrub_each(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return dx.scrub(value, secrets)
    if isinstance(value, dict):
        return {
            _scrub_each(key, secrets): _scrub_each(item, secrets) for key, item in value.items()
        }
    if isinstance(value, list):
        return [_scrub_each(item, secrets) for item in value]
    return value


# -- the dispatcher's two jobs -----------------------------------------------------------------


def runs_enqueue_due(
    *, now: dt.datetime | None = None, lost_queued_before: dt.datetime | None = None
) -> list[int]:
    """Queue the events whose next step is due: a retry whose time has come, or a run whose
    task was lost (still waiting long after it was queued). `lost_queued_before` (a worker
    starting up) counts runs queued before then as lost too: the tasks a killed worker had taken
    went with it. Returns the event ids queued."""
    now = now or _now()
    lost_before = now - dt.timedelta(seconds=settings.ACTION_RUN_REQUEUE_AFTER_SECONDS)
    if lost_queued_before is not None:
        lost_before = max(lost_before, lost_queued_before)
    due = (
        ActionRun.objects.filter(status=RunStatus.PENDING, event__isnull=False)
        .filter(
            Q(next_attempt_at__lte=now)
            | Q(next_attempt_at__isnull=True, queued_at__lte=lost_before)
        )
        .order_by("next_attempt_at", "queued_at")
        .values_list("event_id", flat=True)
    )
    event_ids = list(dict.fromkeys(due[: MAX_ENQUEUE_PER_DISPATCH * 4]))[:MAX_ENQUEUE_PER_DISPATCH]
    _enqueue(event_ids)
    return event_ids


FOUND_AFTER_STOP = "found in the store after the worker stopped"


def runs_fail_stuck(*, now: dt.datetime | None = None) -> int:
    """Resolve the runs left "running" by a worker that stopped; returns how many.

    Stopped means: running longer than a task may live (the worker timed out, or died on
    another machine), or run by a process of this machine that no longer exists (killed), which
    is known at once. Such a run is not tried again, since the step may have changed the store.
    A create looks in the store first: when the record it was making is there, the run
    succeeds with it and the event's later steps go on; otherwise it fails, saying to check.
    """
    now = now or _now()
    timeout = int(settings.Q_CLUSTER.get("timeout") or 240)
    cutoff = now - dt.timedelta(seconds=timeout)
    stuck = list(ActionRun.objects.filter(status=RunStatus.RUNNING, started_at__lt=cutoff))
    on_this_host = ActionRun.objects.filter(
        status=RunStatus.RUNNING, worker__startswith=f"{this_host()}:"
    ).exclude(pk__in=[run.pk for run in stuck])
    stuck += [run for run in on_this_host if owner_is_dead(run.worker)]
    return sum(1 for run in stuck if _stuck_resolve(run, now=now, timeout=timeout))


def _stuck_resolve(run: ActionRun, *, now: dt.datetime, timeout: int) -> bool:
    entry: dict[str, Any] = {
        "attempt": run.attempts,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": now.isoformat(),
        "outcome": FAILED,
        "error": STUCK,
    }
    fields: dict[str, Any] = {"finished_at": now, "worker": "", "memo": None}
    found, lookup_failure = _stuck_lookup(run)
    if found is not None:
        secrets = _secrets(run.connection_id)
        entry.update(outcome=OK, error="", note=FOUND_AFTER_STOP)
        fields.update(
            status=RunStatus.SUCCEEDED,
            output=_scrub(found.output, secrets),
            response=_scrub(found.response, secrets),
            request_method=found.request_method,
            request_path=found.request_path[:1000],
            error_class="",
            error_message="",
        )
    else:
        fields.update(
            status=RunStatus.FAILED,
            error_class="StuckRun",
            error_message=(
                f"The worker stopped while this step was running (it ran longer than {timeout} "
                "seconds, or the worker was restarted). It may or may not have changed the "
                f"store: check the store before running it again.{lookup_failure}"
            ),
        )
    fields["attempt_log"] = [*(run.attempt_log or []), entry]
    resolved = ActionRun.objects.filter(
        pk=run.pk, status=RunStatus.RUNNING, attempts=run.attempts, worker=run.worker
    ).update(**fields)
    if not resolved:
        return False
    logger.warning("Run %s: its worker %s stopped; %s", run.pk, run.worker or "?", entry)
    if run.event_id is not None:
        if found is not None:
            _enqueue([run.event_id])  # the later steps go on
        else:
            _skip_after(run)
    run.refresh_from_db()
    alerts_run_finished(run=run)
    return True


def _stuck_lookup(run: ActionRun) -> tuple[ActionResult | None, str]:
    """For a create: the record it made, if the store has it; else (None, why not looked)."""
    try:
        action = get_action(run.action_id)
    except KeyError:
        return None, ""
    if not action.creates or run.connection_id is None or not isinstance(run.inputs, dict):
        return None, ""
    previous = (run.attempt_log or [])[-1] if run.attempt_log else {}
    action.memo = dict(run.memo or previous.get("memo") or {})
    try:
        client = connection_client_for_task(run.connection_id, **CLIENT_OPTIONS)
    except ConnectionUnusable as unusable:
        return None, f" (The portal could not look: {unusable.message})"
    try:
        return action.find_existing(client, run.inputs), ""
    except MagentoError as error:
        return None, f" (The portal could not look in the store: {error.message})"
    except (KeyError, TypeError, ValueError):
        return None, ""  # the inputs were not recorded in full: nothing to look for
    finally:
        client.close()


# -- manual runs ---------------------------------------------------------------------------------


def action_run_manual(
    *,
    action_id: str,
    connection: Connection,
    inputs: dict[str, Any],
    user: Any = None,
    started_by: str = StartedBy.USER,
) -> ActionRun:
    """Run one action now, as a person asked (admin page, command line); returns the run.

    Inputs are literal values (no references). Bad inputs raise ActionInputError before any
    run is recorded; everything from the store on is recorded in the run, which is tried once
    (a person sees the answer and decides).
    """
    try:
        action = get_action(action_id)
    except KeyError:
        raise ActionInputError({"action": f"There is no action {action_id!r}."}) from None
    action.validate(dict(inputs))
    run = ActionRun.objects.create(
        action_id=action_id,
        connection=connection,
        connection_name=connection.name,
        status=RunStatus.PENDING,
        started_by=started_by,
        user=user if getattr(user, "pk", None) else None,
        input_mapping=_scrub(action.redacted(dict(inputs)), _secrets(connection.pk)),
        max_attempts=1,
    )
    _run_once(run, literal_inputs=dict(inputs))
    run.refresh_from_db()
    audit_log(
        user=user,
        obj=run,
        action_flag=ADDITION,
        message=f"Ran {action_id} by hand on connection {connection.name!r}: {run.status}.",
    )
    return run


# -- retrying ----------------------------------------------------------------------------------


@dataclass
class RetryResult:
    """What runs_retry did: the runs tried again, and why the others were not."""

    retried: list[ActionRun] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


def runs_retry(*, run_ids: Iterable[int], user: Any = None) -> RetryResult:
    """Try failed runs again: the failed step and the steps skipped after it.

    A step that succeeded is never run again; its output feeds the later steps as before. An
    event's run is tried with its step as configured now (a mapping or connection fixed since
    the failure applies) and is queued for the worker with a fresh set of attempts; a run made
    by hand is tried once more now, with the inputs it recorded. A create whose last answer was
    lost, or whose worker stopped mid-step, looks in the store before sending again. Runs that
    are not failed are refused with the reason, as is a run by hand that had a password.
    """
    result = RetryResult()
    manual: list[ActionRun] = []
    for run in ActionRun.objects.filter(pk__in=list(run_ids)).order_by("queued_at", "pk"):
        reason = _retry_refusal(run)
        if reason:
            result.refused[run.pk] = reason
            continue
        if not _retry_reset(run, user):
            result.refused[run.pk] = "It changed while being retried; look at it again."
            continue
        run.refresh_from_db()
        result.retried.append(run)
        if run.event_id is None:
            manual.append(run)
    for run in manual:
        _run_once(run, literal_inputs=dict(run.input_mapping or {}))
        run.refresh_from_db()
    return result


def _retry_refusal(run: ActionRun) -> str:
    if run.status != RunStatus.FAILED:
        return f"It is {run.get_status_display().lower()}: only failed runs are retried."
    if run.started_by == StartedBy.TEST:
        return "It was a test of the automation: test it again instead."
    if run.event_id is None:
        try:
            action = get_action(run.action_id)
        except KeyError:
            return f"There is no action {run.action_id!r} any more."
        secret = {item.name for item in action.inputs if item.secret}
        if secret & set(run.input_mapping or {}):
            return "It had a password, which is never stored: run it again from Run an action."
    return ""


@transaction.atomic
def _retry_reset(run: ActionRun, user: Any) -> bool:
    now = _now()
    fields: dict[str, Any] = {
        "status": RunStatus.PENDING,
        "next_attempt_at": None,
        "finished_at": None,
        "max_attempts": run.attempts
        + (settings.ACTION_RUN_MAX_ATTEMPTS if run.event_id is not None else 1),
        "attempt_log": [
            *(run.attempt_log or []),
            {"retried_at": now.isoformat(), "retried_by": getattr(user, "username", "") or ""},
        ],
    }
    step = run.step if run.step_id is not None else None
    if run.event_id is not None and step is not None and step.action_id == run.action_id:
        fields.update(
            input_mapping=step.inputs,
            connection_id=step.connection_id,
            connection_name=step.connection.name,
        )
    if not ActionRun.objects.filter(pk=run.pk, status=RunStatus.FAILED).update(**fields):
        return False
    skipped = 0
    if run.event_id is not None:
        skipped = ActionRun.objects.filter(
            event_id=run.event_id,
            step_position__gt=run.step_position or 0,
            status=RunStatus.SKIPPED,
        ).update(
            status=RunStatus.PENDING,
            finished_at=None,
            next_attempt_at=None,
            error_class="",
            error_message="",
        )
        runs_enqueue_for_events([run.event_id])
    later = f" and the {skipped} skipped step(s) after it" if skipped else ""
    audit_log(
        user=user,
        obj=run,
        action_flag=CHANGE,
        message=f"Retried {run.action_id}{later}.",
    )
    return True

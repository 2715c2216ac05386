"""The automation page's "Test": run the saved steps on a sample record and show each step.

Read actions run for real (they change nothing). Write actions show the request they would
send (`Action.plan`), unless the person ticks "send for real".

What is recorded: a test that only reads and plans leaves no trace (nothing changed in any
store). A test sent for real records every step it ran as an ActionRun with
started_by="test" and the person, like any other run, because the store may have changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from automations.actions import ActionInputError, ActionRefused, get_action
from automations.mapping import MappingError, references, resolve_inputs
from automations.models import ActionRun, Automation, RunStatus, StartedBy
from automations.runs import CLIENT_OPTIONS, _run_once, _scrub, _secrets
from automations.selectors import trigger_sample
from connections import diagnosis as dx
from connections.clients import PlainHttpNotAllowed, connection_client
from magento.errors import MagentoError

# What each step did in a test.
READ, PLANNED, SENT, NOT_RUN = "read", "planned", "sent", "not run"


@dataclass
class StepReport:
    """One step of a test: its resolved inputs and Magento's answer or the planned request."""

    position: int
    action_label: str
    connection_name: str
    mode: str = NOT_RUN
    ok: bool = False
    inputs: dict[str, Any] | None = None
    request_method: str = ""
    request_path: str = ""
    request_body: Any = None
    notes: list[str] = field(default_factory=list)
    answer: Any = None
    error: str = ""
    run_id: int | None = None


@dataclass
class TestReport:
    __test__ = False  # not a pytest class

    """A whole test: the sample it ran on and each step's report."""

    automation_name: str
    sent_for_real: bool
    sample_note: str = ""
    record: dict[str, Any] | None = None
    error: str = ""
    steps: list[StepReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.error and all(step.ok for step in self.steps)


def automation_test(
    *, automation: Automation, send_for_real: bool = False, user: Any = None
) -> TestReport:
    """Run the automation's steps on the newest record its trigger would read.

    Steps run in order and stop at the first that fails. A step that uses the output of a
    write that was only planned cannot be resolved, and says so.
    """
    report = TestReport(automation_name=automation.name, sent_for_real=send_for_real)
    subscription = getattr(automation, "trigger", None)
    if subscription is None:
        report.error = "This automation has no trigger yet: choose one and save first."
        return report
    sample = trigger_sample(
        connection=subscription.connection,
        trigger_id=subscription.trigger_id,
        options=subscription.options,
    )
    report.sample_note = sample.note
    if sample.record is None:
        report.error = f"There is no record to test with. {sample.note}"
        return report
    report.record = sample.record
    outputs: dict[int, Any] = {}
    planned: set[int] = set()
    stopped = False
    for step in automation.steps.select_related("connection").order_by("position"):
        try:
            action = get_action(step.action_id)
            label = action.label
        except KeyError:
            action, label = None, step.action_id
        item = StepReport(step.position, label, step.connection.name)
        report.steps.append(item)
        if stopped:
            item.error = "Not run: an earlier step failed."
            continue
        if action is None:
            item.error = f"There is no action {step.action_id!r}."
            stopped = True
            continue
        waiting = sorted(
            {
                int(ref.split(".")[1])
                for ref in references(step.inputs)
                if ref.startswith("steps.") and ref.split(".")[1].isdigit()
            }
            & planned
        )
        if waiting:
            item.ok = True
            item.error = (
                f"Not run: it uses the output of step {', '.join(map(str, waiting))}, which a "
                'test only plans. Tick "send for real" to run it.'
            )
            planned.add(step.position)
            continue
        secrets = _secrets(step.connection_id)
        try:
            values = resolve_inputs(step.inputs, trigger=sample.record, steps=outputs)
            item.inputs = _scrub(action.redacted(values), secrets)
            cleaned = action.validate(dict(values))
            item.inputs = _scrub(action.redacted(cleaned), secrets)
        except (MappingError, ActionInputError) as problem:
            item.error = "The step's inputs are wrong: " + "; ".join(
                f"{name}: {text}" for name, text in problem.errors.items()
            )
            stopped = True
            continue
        if send_for_real:
            _send(item, automation, step, values, user)
        elif action.writes:
            _plan(item, action, step, cleaned, secrets)
            planned.add(step.position)
        else:
            _read(item, action, step, cleaned, secrets)
        if item.ok and item.mode != PLANNED:
            outputs[step.position] = item.answer if item.run_id is None else _output(item)
        elif not item.ok:
            stopped = True
    return report


def _client(step):
    return connection_client(step.connection, **CLIENT_OPTIONS)


def _store_error(item: StepReport, problem: Exception, secrets: list[str]) -> None:
    if isinstance(problem, ActionRefused):
        item.error, item.answer = problem.message, _scrub(problem.response, secrets)
    elif isinstance(problem, MagentoError):
        detail = f" ({'; '.join(problem.errors)})" if problem.errors else ""
        item.error = problem.message + detail
        item.request_method = problem.method or item.request_method
        item.request_path = problem.path or item.request_path
    else:
        item.error = f"The store connection cannot be used: {problem}"
    item.error = _scrub(item.error, secrets)


_CLIENT_PROBLEMS = (ActionRefused, MagentoError, PlainHttpNotAllowed, *dx.UNREADABLE_ERRORS)


def _with_client(item: StepReport, step, secrets, call):
    """call(client) with the step's client; a problem is stored on `item` and gives None."""
    try:
        client = _client(step)
    except _CLIENT_PROBLEMS as problem:
        _store_error(item, problem, secrets)
        return None
    try:
        return call(client)
    except _CLIENT_PROBLEMS as problem:
        _store_error(item, problem, secrets)
        return None
    finally:
        client.close()


def _read(item: StepReport, action, step, cleaned, secrets) -> None:
    item.mode = READ
    result = _with_client(item, step, secrets, lambda client: action.run(client, cleaned))
    if result is None:
        return
    item.ok = True
    item.request_method, item.request_path = result.request_method, result.request_path
    item.answer = _scrub(result.output, secrets)


def _plan(item: StepReport, action, step, cleaned, secrets) -> None:
    item.mode = PLANNED
    planned = _with_client(item, step, secrets, lambda client: action.plan(client, cleaned))
    if planned is None:
        return
    item.ok = True
    item.request_method, item.request_path = planned.method, planned.path
    item.request_body = _scrub(planned.body, secrets)
    item.notes = [_scrub(note, secrets) for note in planned.notes]


def _send(item: StepReport, automation, step, values, user) -> None:
    """Run the step for real as a recorded run (started_by=test), tried once."""
    item.mode = SENT
    run = ActionRun.objects.create(
        automation=automation,
        automation_name=automation.name,
        step=step,
        step_position=step.position,
        action_id=step.action_id,
        connection=step.connection,
        connection_name=step.connection.name,
        status=RunStatus.PENDING,
        started_by=StartedBy.TEST,
        user=user if getattr(user, "pk", None) else None,
        input_mapping=step.inputs,
        max_attempts=1,
    )
    _run_once(run, literal_inputs=dict(values))
    run.refresh_from_db()
    item.run_id = run.pk
    item.ok = run.status == RunStatus.SUCCEEDED
    item.request_method, item.request_path = run.request_method, run.request_path
    item.answer = run.output if item.ok else run.response
    item.error = run.error_message
    item.inputs = run.inputs


def _output(item: StepReport) -> Any:
    return ActionRun.objects.values_list("output", flat=True).get(pk=item.run_id)

"""Action runs: created with their trigger events, executed in order by the worker."""

from __future__ import annotations

from collections.abc import Iterable

from automations.models import ActionRun, AutomationStep, RunStatus, StartedBy, TriggerEvent


def runs_create_for_events(events: Iterable[TriggerEvent]) -> list[ActionRun]:
    """One pending run per step of each event's automation, written in the caller's transaction.

    The poller calls this in the transaction that writes the events, so an event is never
    stored without its runs (a crash in between loses neither). Runs are unique per event and
    step position, so calling it twice for one event fails instead of running a step twice.
    """
    events = [event for event in events if event.automation_id is not None]
    if not events:
        return []
    steps_by_automation: dict[int, list[AutomationStep]] = {}
    for step in AutomationStep.objects.filter(
        automation_id__in={event.automation_id for event in events}
    ).select_related("connection", "automation"):
        steps_by_automation.setdefault(step.automation_id, []).append(step)
    runs = [
        ActionRun(
            event=event,
            automation_id=event.automation_id,
            automation_name=step.automation.name,
            step=step,
            step_position=step.position,
            action_id=step.action_id,
            connection=step.connection,
            connection_name=step.connection.name,
            status=RunStatus.PENDING,
            started_by=StartedBy.TRIGGER,
            input_mapping=step.inputs,
        )
        for event in events
        for step in sorted(steps_by_automation.get(event.automation_id, []), key=_position)
    ]
    return ActionRun.objects.bulk_create(runs)


def _position(step: AutomationStep) -> int:
    return step.position


EXECUTE_EVENT_RUNS_TASK = "automations.run_tasks.execute_event_runs"


def runs_enqueue_for_events(event_ids: Iterable[int]) -> None:
    """Queue the execution of each event's runs (call it on commit of the events' transaction).

    One task per event: its steps run in order inside that task.
    """
    from django_q.tasks import async_task

    for event_id in event_ids:
        async_task(EXECUTE_EVENT_RUNS_TASK, event_id, task_name=f"runs of event {event_id}")

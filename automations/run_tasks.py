"""Django-Q tasks for action runs: thin doors onto automations.runs (they take ids only)."""

from __future__ import annotations

from automations import runs


def execute_events_runs(event_ids: list[int]) -> None:
    """Run the pending steps of these events, each event's in order (queued when the events are
    stored, and on retry)."""
    runs.events_runs_execute(event_ids)


def execute_event_runs(event_id: int) -> None:
    """Run one event's pending steps in order (the task as the previous release queued it)."""
    runs.event_runs_execute(event_id)


def dispatch_runs() -> dict[str, int]:
    """Per-minute housekeeping, called by the automations dispatcher: fail stuck runs, then
    queue the runs whose retry is due."""
    stuck = runs.runs_fail_stuck()
    queued = runs.runs_enqueue_due()
    return {"stuck_failed": stuck, "events_queued": len(queued)}

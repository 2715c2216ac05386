"""Django-Q tasks for action runs: thin doors onto automations.runs (they take ids only)."""

from __future__ import annotations

from automations import runs


def execute_event_runs(event_id: int) -> None:
    """Run an event's pending steps in order (queued when the event is stored, and on retry)."""
    runs.event_runs_execute(event_id)


def dispatch_runs() -> dict[str, int]:
    """Per-minute housekeeping, called by the automations dispatcher: fail stuck runs, then
    queue the runs whose retry is due."""
    stuck = runs.runs_fail_stuck()
    queued = runs.runs_enqueue_due()
    return {"stuck_failed": stuck, "events_queued": len(queued)}

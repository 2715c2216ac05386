"""Django-Q2 tasks of the automations: thin doors onto the services (they receive ids only)."""

from __future__ import annotations

from automations.polling import polls_dispatch, subscription_poll
from automations.run_tasks import dispatch_runs


def dispatch() -> dict[str, int]:
    """Every minute (the one schedule): queue the polls that are due, fail stuck runs and queue
    the runs whose retry is due."""
    return {"polls_queued": len(polls_dispatch()), **dispatch_runs()}


def poll_subscription(subscription_id: int) -> dict:
    """One poll of a subscription; its outcome is recorded on the subscription itself."""
    from automations.models import TriggerSubscription

    try:
        result = subscription_poll(subscription_id=subscription_id)
    except TriggerSubscription.DoesNotExist:
        return {"skipped": "the automation was deleted"}
    return {**result.as_dict(), "error": result.error}


def prune_history() -> dict:
    """Daily: delete trigger events and action runs older than RUN_RETENTION_DAYS."""
    from automations.retention import enqueue_prune, history_prune

    result = history_prune()
    if result.more:
        enqueue_prune()
    return {"events": result.events, "runs": result.runs, "more": result.more}

"""Django-Q2 tasks of the automations: thin doors onto the services (they receive ids only)."""

from __future__ import annotations

import logging

from django.utils import timezone

from automations import runs
from automations.polling import polls_dispatch, subscription_poll
from automations.run_tasks import dispatch_runs

logger = logging.getLogger(__name__)


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


def recover() -> dict[str, int]:
    """When a worker process starts: take over at once what a killed worker left behind.

    Polls and runs held by a process of this machine that no longer exists are resumed or
    resolved, and the polls and runs queued before now are queued again, since the tasks a
    killed worker had taken are gone with it (a task queued twice finds its work done).
    """
    started = timezone.now()
    return {
        "polls_queued": len(polls_dispatch(lost_queued_before=started)),
        "stuck_resolved": runs.runs_fail_stuck(),
        "events_queued": len(runs.runs_enqueue_due(lost_queued_before=started)),
    }


def recover_at_worker_start(sender=None, proc_name: str = "", **kwargs) -> None:
    """django-q2's post_spawn receiver: recover() in the new worker process, never failing it.

    With `sync` on (the tests) every task "spawns" a worker inline: nothing to recover there.
    """
    from django_q.conf import Conf

    if Conf.SYNC:
        return
    try:
        done = recover()
    except Exception:
        logger.exception("Recovery at the start of worker %s failed", proc_name)
        return
    if any(done.values()):
        logger.warning("Worker %s started and recovered: %s", proc_name, done)

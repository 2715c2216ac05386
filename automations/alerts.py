"""E-mail alerts to the staff who asked for them: polls that keep failing, runs that fail for good.

Called by the services where those outcomes are recorded (automations.polling, automations.runs),
not by signals. Per automation:
- a problem is e-mailed at most once per ALERT_INTERVAL_MINUTES (60) across its kinds; failures
  in between are counted and told in the next e-mail;
- when a problem that was e-mailed ends (a poll succeeds, a run at or after the failed step
  succeeds), one "works again" e-mail follows. It counts towards the hourly limit, so a flapping
  automation sends at most a problem and its recovery per hour.
Sending happens after the state is committed; a mail server that fails is logged, never raised
into the poll or the run.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone

from automations.models import (
    ActionRun,
    AlertKind,
    AlertState,
    AlertSubscription,
    Automation,
    RunStatus,
    StartedBy,
)

logger = logging.getLogger(__name__)

VIEW_PERMISSION = "automations.view_automation"


@dataclass(frozen=True)
class Alert:
    automation_id: int
    kind: str
    subject: str
    body: str


def _never_raises(function):
    """Alerts must not break the poll or the run that reports to them."""

    @functools.wraps(function)
    def guarded(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except Exception:
            logger.exception("Alerts: %s failed", function.__name__)
            return None

    return guarded


@_never_raises
def alerts_poll_outcome(
    *,
    automation_id: int,
    ok: bool,
    consecutive_failures: int = 0,
    error: str = "",
    now: dt.datetime | None = None,
) -> None:
    """A poll ended: alert once failures in a row reach ALERT_POLL_FAILURES; a success after an
    alert sends "works again"."""
    now = now or timezone.now()
    if ok:
        _recovered(automation_id, AlertKind.POLLS, now)
    elif consecutive_failures >= settings.ALERT_POLL_FAILURES:
        _problem(
            automation_id,
            AlertKind.POLLS,
            now,
            error=error,
            what=f"its last {consecutive_failures} polls failed",
        )


@_never_raises
def alerts_run_finished(*, run: ActionRun, now: dt.datetime | None = None) -> None:
    """A run of an automation ended for good (tests of an automation do not alert)."""
    if run.automation_id is None or run.started_by == StartedBy.TEST:
        return
    now = now or timezone.now()
    if run.status == RunStatus.SUCCEEDED:
        _recovered(run.automation_id, AlertKind.RUNS, now, step_position=run.step_position)
    elif run.status == RunStatus.FAILED:
        step = f"step {run.step_position} " if run.step_position else ""
        _problem(
            run.automation_id,
            AlertKind.RUNS,
            now,
            error=run.error_message,
            what=f"run {run.pk} ({step}{run.action_id}"
            f"{', ' + run.subject if run.subject else ''}) failed for good",
            run=run,
        )


def alerts_runs_finished(runs: list[ActionRun], now: dt.datetime | None = None) -> None:
    """alerts_run_finished for each of these runs, in order, with one query when all went well
    and nothing was failing (a success only matters to an automation with an open problem)."""
    runs = [r for r in runs if r.automation_id is not None and r.started_by != StartedBy.TEST]
    if not runs:
        return
    now = now or timezone.now()
    failing = set(
        AlertState.objects.filter(
            automation_id__in={run.automation_id for run in runs},
            kind=AlertKind.RUNS,
            failing_since__isnull=False,
        ).values_list("automation_id", flat=True)
    )
    for run in runs:
        if run.status == RunStatus.FAILED:
            failing.add(run.automation_id)
        if run.automation_id in failing:
            alerts_run_finished(run=run, now=now)


def _problem(
    automation_id: int,
    kind: str,
    now: dt.datetime,
    *,
    error: str,
    what: str,
    run: ActionRun | None = None,
) -> None:
    with transaction.atomic():
        state, _ = AlertState.objects.select_for_update().get_or_create(
            automation_id=automation_id, kind=kind
        )
        if state.failing_since is None:
            state.failing_since = now
        state.last_error = (error or "")[:2000]
        if run is not None and run.step_position is not None:
            state.step_position = max(state.step_position or 0, run.step_position)
        last_sent = AlertState.objects.filter(automation_id=automation_id).aggregate(
            last=Max("last_sent_at")
        )["last"]
        if last_sent is not None and now - last_sent < _interval():
            state.held_back += 1
            state.save()
            return
        held_back, state.held_back = state.held_back, 0
        state.alerted = True
        state.last_sent_at = now
        state.save()
        alert = _problem_alert(state, what, error, held_back, run)
        transaction.on_commit(lambda: _send(alert))


def _recovered(
    automation_id: int, kind: str, now: dt.datetime, *, step_position: int | None = None
) -> None:
    # Most outcomes are good ones: one indexed lookup when nothing is failing.
    open_problem = AlertState.objects.filter(
        automation_id=automation_id, kind=kind, failing_since__isnull=False
    )
    if step_position is not None:
        open_problem = open_problem.filter(
            Q(step_position__isnull=True) | Q(step_position__lte=step_position)
        )
    if not open_problem.exists():
        return
    with transaction.atomic():
        state = open_problem.select_for_update().first()
        if state is None:
            return
        was_alerted = state.alerted
        since = state.failing_since
        state.failing_since = None
        state.alerted = False
        state.held_back = 0
        state.step_position = None
        if was_alerted:
            state.last_sent_at = now
        state.save()
        if was_alerted:
            alert = _recovered_alert(state, since, now)
            transaction.on_commit(lambda: _send(alert))


def _interval() -> dt.timedelta:
    return dt.timedelta(minutes=settings.ALERT_INTERVAL_MINUTES)


def _link(path: str) -> str:
    return f"{settings.PORTAL_URL}{path}" if settings.PORTAL_URL else path


def _footer() -> str:
    return (
        f"\n\nDashboard: {_link(reverse('automations_dashboard'))}\n"
        f"You get this because you asked for alerts; change that at "
        f"{_link(reverse('automations_alerts'))}.\n"
    )


def _problem_alert(state: AlertState, what: str, error: str, held_back: int, run) -> Alert:
    name = _name(state.automation_id)
    if state.kind == AlertKind.POLLS:
        subject = f"Automation {name!r}: its polls keep failing"
        advice = "The portal keeps trying by itself; fix the cause to stop the failures."
    else:
        subject = f"Automation {name!r}: a run failed"
        advice = (
            "Open the run to see Magento's answer; Retry runs it again once the cause is fixed."
        )
    lines = [f"Automation {name!r}: {what}.", "", f"The error: {error or 'not recorded'}", ""]
    if held_back:
        lines.append(
            f"{held_back} more failure(s) since the last e-mail were not sent one by one "
            f"(at most one e-mail per automation every {settings.ALERT_INTERVAL_MINUTES} minutes)."
        )
    lines.append(advice)
    if run is not None:
        lines.append(
            f"The run: {_link(reverse('admin:automations_actionrun_change', args=[run.pk]))}"
        )
    return Alert(state.automation_id, state.kind, subject, "\n".join(lines) + _footer())


def _recovered_alert(state: AlertState, since, now) -> Alert:
    name = _name(state.automation_id)
    what = "polls" if state.kind == AlertKind.POLLS else "runs"
    subject = f"Automation {name!r} works again"
    body = (
        f"Automation {name!r}: its {what} work again (failing since "
        f"{since:%Y-%m-%d %H:%M} UTC, working again at {now:%Y-%m-%d %H:%M} UTC)."
    )
    return Alert(state.automation_id, state.kind, subject, body + _footer())


def _name(automation_id: int) -> str:
    return (
        Automation.objects.filter(pk=automation_id).values_list("name", flat=True).first()
        or f"#{automation_id}"
    )


def alert_recipients(kind: str) -> list[str]:
    """E-mail addresses of the active staff who asked for this kind of alert and may see
    automations."""
    wanted = {"poll_failures": True} if kind == AlertKind.POLLS else {"run_failures": True}
    users = (
        get_user_model()
        .objects.filter(
            is_active=True,
            is_staff=True,
            **{f"automation_alerts__{name}": value for name, value in wanted.items()},
        )
        .exclude(email="")
        .order_by("pk")
    )
    return [user.email for user in users if user.has_perm(VIEW_PERMISSION)]


def _send(alert: Alert) -> None:
    recipients = alert_recipients(alert.kind)
    if not recipients:
        return
    prefix = "[Automation Portal] "
    # One message each: recipients do not see each other's addresses.
    messages = [
        mail.EmailMessage(prefix + alert.subject, alert.body, to=[address])
        for address in recipients
    ]
    try:
        mail.get_connection().send_messages(messages)
    except Exception:
        logger.exception("Alert for automation %s could not be e-mailed", alert.automation_id)


def alert_subscription_for(user) -> AlertSubscription:
    """The user's alert choices (not saved until they are changed: both off by default)."""
    found = AlertSubscription.objects.filter(user=user).first()
    return found or AlertSubscription(user=user, poll_failures=False, run_failures=False)


@transaction.atomic
def alert_subscription_save(*, user, poll_failures: bool, run_failures: bool) -> AlertSubscription:
    """Store a user's choice of alerts."""
    subscription, _ = AlertSubscription.objects.update_or_create(
        user=user, defaults={"poll_failures": poll_failures, "run_failures": run_failures}
    )
    return subscription

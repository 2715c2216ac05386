"""`python manage.py poll AUTOMATION_NAME [--sync]`: poll an automation's trigger once, now.

Prints one JSON line: {"fetched", "new_events", "duplicates", "requests", "cursor", "more",
"left_out"}; with --sync also "runs": the runs executed here, by status. Exits 1 with the
reason on stderr when the poll fails.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from automations.models import ActionRun, Automation, RunStatus, TriggerSubscription
from automations.polling import subscription_poll
from automations.runs import event_runs_execute


class Command(BaseCommand):
    help = "Poll an automation's trigger once, now, and print what it found as JSON."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The automation's name (any letter case).")
        parser.add_argument(
            "--sync",
            action="store_true",
            help="also run, here and now, the steps of the events waiting to run (the worker "
            "finds them already done)",
        )

    def handle(self, *args, **options):
        name = options["name"]
        automation = Automation.objects.filter(name__iexact=name.strip()).first()
        if automation is None:
            raise CommandError(f"There is no automation named {name!r}.")
        subscription = TriggerSubscription.objects.filter(automation=automation).first()
        if subscription is None:
            raise CommandError(f"Automation {automation.name!r} has no trigger.")
        result = subscription_poll(subscription_id=subscription.pk)
        if not result.ok:
            raise CommandError(f"Polling {automation.name!r} failed: {result.error}")
        output = result.as_dict()
        if options["sync"]:
            output["runs"] = _execute_waiting(subscription)
        self.stdout.write(json.dumps(output))


def _execute_waiting(subscription: TriggerSubscription) -> dict[str, int]:
    """Run the steps of the subscription's events that wait to run now; runs by status."""
    now = timezone.now()
    waiting = (
        ActionRun.objects.filter(event__subscription=subscription, status=RunStatus.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("event_id")
        .values_list("event_id", flat=True)
        .distinct()
    )
    counts: dict[str, int] = {}
    for event_id in list(waiting):
        for run in event_runs_execute(event_id):
            counts[run.status] = counts.get(run.status, 0) + 1
    return counts

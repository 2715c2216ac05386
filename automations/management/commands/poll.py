"""`python manage.py poll AUTOMATION_NAME`: poll an automation's trigger once, now.

Prints one JSON line: {"fetched", "new_events", "duplicates", "requests", "cursor", "more",
"left_out"}. Exits 1 with the reason on stderr when the poll fails.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from automations.models import Automation, TriggerSubscription
from automations.polling import subscription_poll


class Command(BaseCommand):
    help = "Poll an automation's trigger once, now, and print what it found as JSON."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The automation's name (any letter case).")

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
        self.stdout.write(json.dumps(result.as_dict()))

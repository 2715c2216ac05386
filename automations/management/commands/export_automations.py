"""Print every automation as JSON (the import_automations format); no secrets, ever."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from automations.portable import automations_export


class Command(BaseCommand):
    help = (
        "Print every automation as JSON: name, enabled, trigger (connection by name, type, "
        "interval, options) and steps (action, connection, inputs). Load it with "
        "import_automations. Store keys and passwords are never included."
    )

    def handle(self, *args, **options):
        data, left_out = automations_export()
        for note in left_out:
            self.stderr.write(f"Left out: {note}; set it in the form after importing.")
        self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))

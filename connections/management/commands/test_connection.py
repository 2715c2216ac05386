"""Check a saved connection against its store and print the diagnosis."""

from __future__ import annotations

import sys

from django.core.management.base import CommandError

from connections.management.output import ConnectionCommand
from connections.selectors import connection_get_by_name
from connections.verification import connection_verify


class Command(ConnectionCommand):
    help = (
        "Test a connection by name; exits 0 only when the store is verified. Prints one result "
        "line on standard output and, when the check fails, the diagnosis on standard error."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="Connection name")

    def handle(self, *args, **options):
        connection = connection_get_by_name(options["name"])
        if connection is None:
            raise CommandError(f"No connection named {options['name']!r}.")
        result = connection_verify(connection=connection)
        diagnosis = result.diagnosis
        if diagnosis.ok:
            facts = result.store
            self.stdout.write(
                f"{connection.name}: verified. Store {facts.base_url or connection.store_domain}, "
                f"timezone {facts.timezone or '?'}, currency {facts.currency or '?'}."
            )
            return
        self.stdout.write(f"{connection.name}: failed ({diagnosis.code})")
        self.stderr.write(diagnosis.as_text())
        sys.exit(1)

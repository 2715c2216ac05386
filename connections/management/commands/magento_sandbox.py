"""Run the sandbox Magento store for demos: `python manage.py magento_sandbox`."""

from __future__ import annotations

import argparse

from django.core.management.base import BaseCommand, CommandError

from magento.sandbox import cli


class Command(BaseCommand):
    help = (
        "Start a local stand-in Magento 2 store, print its Store Domain and credentials, "
        "and serve until stopped (Ctrl+C or SIGTERM)."
    )

    def add_arguments(self, parser):
        cli.add_arguments(parser)
        # For tests: stop the command from another thread and learn the server it started.
        parser.add_argument("--stop-event", default=None, help=argparse.SUPPRESS)
        parser.add_argument("--ready", default=None, help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        try:
            sandbox = cli.build(options)
        except cli.SandboxStartError as error:
            raise CommandError(str(error)) from None
        cli.serve(
            sandbox,
            write=self._write_now,
            stop_event=options.get("stop_event"),
            ready=options.get("ready"),
        )

    def _write_now(self, text: str) -> None:
        # A supervisor reading our pipe needs the Store Domain before we exit.
        self.stdout.write(text)
        self.stdout.flush()

"""Run the sandbox Magento store for demos: `python manage.py magento_sandbox`."""

from __future__ import annotations

import argparse

from django.core.management.base import BaseCommand

from magento.sandbox import cli


class Command(BaseCommand):
    help = (
        "Start a local stand-in Magento 2 store, print its Store Domain and credentials, "
        "and serve until stopped."
    )

    def add_arguments(self, parser):
        cli.add_arguments(parser)
        # For tests: stop the command from another thread and learn the server it started.
        parser.add_argument("--stop-event", default=None, help=argparse.SUPPRESS)
        parser.add_argument("--ready", default=None, help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        sandbox = cli.build(options)
        cli.serve(
            sandbox,
            write=self.stdout.write,
            stop_event=options.get("stop_event"),
            ready=options.get("ready"),
        )

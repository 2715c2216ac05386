"""One rule for what the connection commands print: the result on standard output, explanations
(diagnoses, warnings, errors) on standard error, and no log lines in either."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.management.base import BaseCommand


@contextmanager
def log_lines_silenced() -> Iterator[None]:
    """Drop log records below WARNING while the block runs (the services log each save and check
    at INFO for the server's log; a command already says the same in its own words)."""
    previous = logging.root.manager.disable
    logging.disable(max(previous, logging.INFO))
    try:
        yield
    finally:
        logging.disable(previous)


class ConnectionCommand(BaseCommand):
    """A command that follows the output rule above."""

    def execute(self, *args, **options):
        with log_lines_silenced():
            return super().execute(*args, **options)

"""Load automations from a JSON file (export_automations' format), all or nothing.

Automations are matched by name (case does not matter): new names are created, existing ones
changed where the file differs. One wrong automation and nothing is written.
Exit status: 0 loaded, 2 the file is unreadable or wrong (each problem on stderr, naming the
automation and the field), 1 anything else (e.g. a connection this portal does not have).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from automations.portable import ImportFileError, MissingConnections, automations_import

BAD_FILE = 2
FAILED = 1
MAX_FILE_BYTES = 10 * 1024 * 1024


class Command(BaseCommand):
    help = (
        "Load automations from FILE (JSON, as export_automations prints; '-' reads stdin). "
        "Matched by name; all or nothing. Exit 2 for a bad file, 1 for other failures."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="JSON file, or - for standard input")

    def handle(self, *args, **options):
        data = self._read(options["file"])
        try:
            result = automations_import(data)
        except ImportFileError as problem:
            self._fail("Nothing was imported: the file has problems:", problem.problems, BAD_FILE)
        except MissingConnections as problem:
            self._fail("Nothing was imported:", problem.problems, FAILED)
        for verb, names in (
            ("created", result.created),
            ("updated", result.updated),
            ("unchanged", result.unchanged),
        ):
            for name in names:
                self.stdout.write(f"{verb}: {name}")
        self.stdout.write(
            f"{len(result.created)} created, {len(result.updated)} updated, "
            f"{len(result.unchanged)} unchanged."
        )

    def _read(self, name: str):
        try:
            if name == "-":
                raw = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
            else:
                with Path(name).open("rb") as file:
                    raw = file.read(MAX_FILE_BYTES + 1)
        except OSError as error:
            self._fail(f"Cannot read {name}: {error.strerror or error}.", [], BAD_FILE)
        if len(raw) > MAX_FILE_BYTES:
            self._fail(f"{name} is larger than {MAX_FILE_BYTES // 1048576} MB.", [], BAD_FILE)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            self._fail(f"{name} is not UTF-8 text.", [], BAD_FILE)
        try:
            return json.loads(text)
        except ValueError as error:
            self._fail(f"{name} is not JSON: {error}.", [], BAD_FILE)
        except RecursionError:
            self._fail(f"{name} is nested too deeply to be an automations file.", [], BAD_FILE)

    def _fail(self, message: str, problems: list[str], status: int):
        self.stderr.write(message)
        for problem in problems:
            self.stderr.write(f"  {problem}")
        sys.exit(status)

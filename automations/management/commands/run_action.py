"""Run one action against a connection now; the output JSON goes to stdout, errors to stderr.

Exit status: 0 succeeded, 1 the store failed or refused, 2 bad input (unknown action or
connection, inputs that do not fit the action).
"""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand

from automations.actions import ActionInputError
from automations.models import RunStatus, StartedBy
from automations.runs import action_run_manual
from connections.selectors import connection_get_by_name

BAD_INPUT = 2
STORE_FAILED = 1


class Command(BaseCommand):
    help = (
        "Run an action now: run_action ACTION_ID --connection NAME (--input key=value ... | "
        "--input-json JSON). Prints the output JSON; exit 1 when the store fails, 2 for bad input."
    )

    def add_arguments(self, parser):
        parser.add_argument("action_id", help="e.g. get_product_by_sku, create_shipment")
        parser.add_argument("--connection", required=True, help="Connection name")
        given = parser.add_mutually_exclusive_group()
        given.add_argument(
            "--input",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="One input (repeat for more); the value is text, converted to the input's type",
        )
        given.add_argument("--input-json", help='All inputs as a JSON object, e.g. {"sku": "a/b"}')

    def handle(self, *args, **options):
        inputs = self._inputs(options)
        connection = connection_get_by_name(options["connection"])
        if connection is None:
            self._fail(f"No connection named {options['connection']!r}.", BAD_INPUT)
        try:
            run = action_run_manual(
                action_id=options["action_id"],
                connection=connection,
                inputs=inputs,
                started_by=StartedBy.COMMAND,
            )
        except ActionInputError as problem:
            lines = [f"  {name}: {message}" for name, message in problem.errors.items()]
            self._fail("The inputs do not fit the action:\n" + "\n".join(lines), BAD_INPUT)
        if run.status != RunStatus.SUCCEEDED:
            code = BAD_INPUT if run.error_class in ("ActionInputError", "MappingError") else None
            self._fail(
                f"{run.action_id} failed for {run.subject or '(no subject)'} (run {run.pk}): "
                f"{run.error_message}",
                code or STORE_FAILED,
            )
        self.stdout.write(json.dumps(run.output, indent=2, ensure_ascii=False))

    def _inputs(self, options) -> dict:
        if options["input_json"] is not None:
            try:
                inputs = json.loads(options["input_json"])
            except ValueError as problem:
                self._fail(f"--input-json is not JSON: {problem}", BAD_INPUT)
            if not isinstance(inputs, dict):
                self._fail("--input-json must be a JSON object of input names.", BAD_INPUT)
            return inputs
        inputs = {}
        for pair in options["input"]:
            key, sep, value = pair.partition("=")
            if not sep or not key.strip():
                self._fail(f"--input {pair!r}: write it as key=value.", BAD_INPUT)
            inputs[key.strip()] = value
        return inputs

    def _fail(self, message: str, code: int):
        self.stderr.write(message)
        sys.exit(code)

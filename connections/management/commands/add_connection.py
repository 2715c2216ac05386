"""Add a connection from the command line (provisioning, scripts), verified against the store."""

from __future__ import annotations

import json
import os
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from connections.management.output import ConnectionCommand
from connections.models import (
    DEFAULT_STORE_CODE,
    DEFAULT_TIMEOUT_SECONDS,
    EDITABLE_FIELDS,
    OAUTH_FIELDS,
    AuthMethod,
)
from connections.services import connection_create

# Secret options, the environment variable each falls back to, and the service's argument.
SECRET_OPTIONS = (
    ("access_token", "MAGENTO_ACCESS_TOKEN"),
    ("consumer_key", "MAGENTO_CONSUMER_KEY"),
    ("consumer_secret", "MAGENTO_CONSUMER_SECRET"),
    ("access_token_secret", "MAGENTO_ACCESS_TOKEN_SECRET"),
    ("admin_password", "MAGENTO_ADMIN_PASSWORD"),
    ("totp_secret", "MAGENTO_TOTP_SECRET"),
)
STDIN = "-"
# The values that choose the authentication type: either method's credentials.
TOKEN_VALUES = ("access_token", *OAUTH_FIELDS)
SESSION_VALUES = ("admin_username", "admin_password", "totp_secret")
# The option that sets each field, so a message names what to change on the command line.
OPTION_OF_FIELD = {
    **{field: f"--{field.replace('_', '-')}" for field in EDITABLE_FIELDS},
    "timeout_seconds": "--timeout",
    "verify_tls": "--no-verify-tls",
}


class Command(ConnectionCommand):
    stealth_options = ("stdin",)
    help = (
        "Add a Magento store connection and verify it. Secrets may be given as options, as "
        "environment variables (MAGENTO_ACCESS_TOKEN, MAGENTO_CONSUMER_KEY, "
        "MAGENTO_CONSUMER_SECRET, MAGENTO_ACCESS_TOKEN_SECRET, MAGENTO_ADMIN_PASSWORD, "
        "MAGENTO_TOTP_SECRET), or as '-' to read them from standard input, one per line in "
        "that order. Prints one JSON line; exits 1 when the store cannot be verified."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Connection name")
        parser.add_argument("--store-domain", required=True, help="Store Domain (address)")
        for option, env in SECRET_OPTIONS:
            parser.add_argument(
                f"--{option.replace('_', '-')}",
                dest=option,
                default=None,
                help=f"or set {env}, or '-' to read it from standard input",
            )
        parser.add_argument("--admin-username", default="", help="Magento admin user name")
        parser.add_argument("--store-code", default=DEFAULT_STORE_CODE)
        parser.add_argument(
            "--timeout", type=int, default=DEFAULT_TIMEOUT_SECONDS, dest="timeout_seconds"
        )
        parser.add_argument("--no-verify-tls", action="store_true")
        parser.add_argument("--allow-plain-http", action="store_true")
        parser.add_argument(
            "--no-verify", action="store_true", help="Save without calling the store"
        )
        parser.add_argument(
            "--save-anyway",
            action="store_true",
            help="Save even when verification fails (marked as failed; exit status stays 1)",
        )

    def handle(self, *args, **options):
        secrets, sources = self._secrets(options)
        if options["admin_username"]:
            sources["admin_username"] = "--admin-username"
        auth_method = self._auth_method(sources)
        try:
            outcome = connection_create(
                name=options["name"],
                store_domain=options["store_domain"],
                auth_method=auth_method,
                admin_username=options["admin_username"],
                store_code=options["store_code"],
                verify_tls=not options["no_verify_tls"],
                timeout_seconds=options["timeout_seconds"],
                allow_plain_http=options["allow_plain_http"],
                verify=not options["no_verify"],
                save_unverified=options["save_anyway"],
                **secrets,
            )
        except ValidationError as error:
            lines = [
                f"{OPTION_OF_FIELD.get(field, field)}: {message}"
                for field, messages in error.message_dict.items()
                for message in messages
            ]
            raise CommandError("\n".join(lines), returncode=2) from None

        connection = outcome.connection
        diagnosis = outcome.verification.diagnosis if outcome.verification else None
        line = {
            "id": connection.pk if connection else None,
            "name": connection.name if connection else options["name"].strip(),
            "status": connection.status if connection else "failed",
        }
        if diagnosis is not None:
            line["diagnosis"] = diagnosis.code
        self.stdout.write(json.dumps(line))
        if connection is not None and connection.uses_plain_http:
            self.stderr.write(
                "Warning: this store is reached over plain http://: its credentials travel "
                "unencrypted."
            )
        if diagnosis is not None and not diagnosis.ok:
            self.stderr.write(diagnosis.as_text())
            if not outcome.saved:
                self.stderr.write("The connection was not saved (use --save-anyway to keep it).")
            sys.exit(1)

    @staticmethod
    def _auth_method(sources: dict[str, str]) -> str:
        """The method the given credentials belong to; both at once is an error (exit 2)."""
        token = [sources[name] for name in TOKEN_VALUES if name in sources]
        session = [sources[name] for name in SESSION_VALUES if name in sources]
        if token and session:
            raise CommandError(
                "Choose one authentication type: --access-token (Integration Token) or "
                "--admin-username/--admin-password (Session Authentication), not both. Given: "
                f"{', '.join(token + session)}.",
                returncode=2,
            )
        # Neither: the default method, whose validation then asks for --access-token.
        return AuthMethod.SESSION if session else AuthMethod.INTEGRATION_TOKEN

    def _secrets(self, options) -> tuple[dict[str, str], dict[str, str]]:
        """The secret values, and where each given one came from (option or variable)."""
        values: dict[str, str] = {}
        sources: dict[str, str] = {}
        for option, env in SECRET_OPTIONS:
            value = options.get(option)
            source = f"--{option.replace('_', '-')}"
            if value == STDIN:
                line = self.stdin.readline() if hasattr(self, "stdin") else sys.stdin.readline()
                value = line.rstrip("\r\n")
            elif value is None:
                value, source = os.environ.get(env, ""), env
            values[option] = value
            if value:
                sources[option] = source
        return values, sources

    def execute(self, *args, **options):
        # call_command(stdin=...) lets tests feed secrets; the real command reads sys.stdin.
        self.stdin = options.pop("stdin", sys.stdin)
        return super().execute(*args, **options)

"""Re-encrypt saved credentials after DJANGO_SECRET_KEY or CRYPTOGRAPHY_KEY changed."""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError

from connections.keys import connections_reencrypt


class Command(BaseCommand):
    help = (
        "Decrypt every connection's credentials with the OLD keys and save them encrypted with "
        "the current ones. The old keys are read from environment variables (never options, "
        "so they stay out of shell history): OLD_DJANGO_SECRET_KEY and, if it changed too, "
        "OLD_CRYPTOGRAPHY_KEY (when unset the current CRYPTOGRAPHY_KEY is assumed)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Report only, change nothing")

    def handle(self, *args, **options):
        from django.conf import settings

        old_secret_key = os.environ.get("OLD_DJANGO_SECRET_KEY") or settings.SECRET_KEY
        old_cryptography_key = os.environ.get("OLD_CRYPTOGRAPHY_KEY", "")
        if not os.environ.get("OLD_DJANGO_SECRET_KEY") and not os.environ.get(
            "OLD_CRYPTOGRAPHY_KEY"
        ):
            raise CommandError("Set OLD_DJANGO_SECRET_KEY and/or OLD_CRYPTOGRAPHY_KEY first.")
        result = connections_reencrypt(
            old_secret_key=old_secret_key,
            old_cryptography_key=old_cryptography_key or None,
            dry_run=options["dry_run"],
        )
        verb = "Would re-encrypt" if options["dry_run"] else "Re-encrypted"
        self.stdout.write(
            f"{verb} {result.reencrypted} connection(s); {result.already_current} already used "
            f"the current keys."
        )
        if result.unreadable:
            raise CommandError(
                "Could not decrypt with the old keys: " + ", ".join(result.unreadable)
            )

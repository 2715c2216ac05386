from django.core.management.base import BaseCommand

from automations.roles import AUDITORS, EDITORS, roles_setup


class Command(BaseCommand):
    help = "Create or refresh the 'Automation editors' and 'Auditors' groups (safe to re-run)."

    def handle(self, *args, **options):
        result = roles_setup()
        self.stdout.write(
            f"{EDITORS}: {result.editors_permissions} permissions; "
            f"{AUDITORS}: {result.auditors_permissions} permissions."
        )

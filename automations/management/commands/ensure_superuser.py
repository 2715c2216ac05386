import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create a superuser from DJANGO_SUPERUSER_USERNAME / DJANGO_SUPERUSER_PASSWORD / "
        "DJANGO_SUPERUSER_EMAIL when none exists; otherwise say how to create one. Never prompts."
    )

    def handle(self, *args, **options):
        users = get_user_model().objects
        if users.filter(is_superuser=True).exists():
            return
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "").strip()
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD", "")
        if username and password:
            if users.filter(**{users.model.USERNAME_FIELD: username}).exists():
                # Never promote or change an existing account from the environment.
                self.stdout.write(
                    f"A user named '{username}' already exists and is not a superuser; "
                    "it was left unchanged and no superuser was created.\n"
                    "Set DJANGO_SUPERUSER_USERNAME to another name, or create a superuser with:\n"
                    "    .venv/bin/python manage.py createsuperuser"
                )
                return
            email = os.environ.get("DJANGO_SUPERUSER_EMAIL", "")
            users.create_superuser(username=username, email=email, password=password)
            self.stdout.write(f"Created superuser '{username}'.")
            return
        self.stdout.write(
            "No superuser exists yet. Create one with:\n"
            "    .venv/bin/python manage.py createsuperuser\n"
            "or set DJANGO_SUPERUSER_USERNAME and DJANGO_SUPERUSER_PASSWORD before `make run`."
        )

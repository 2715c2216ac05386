"""The one Django-Q2 schedule of the automations: every minute, queue the polls that are due.

Idempotent (update_or_create on the schedule's name), so migrating again changes nothing and a
schedule someone edited by hand is put back. Subscriptions keep their own timing
(automations.polling.subscription_due_at); this schedule never changes when they do.
"""

from django.db import migrations
from django.utils import timezone

DISPATCH_SCHEDULE = "Automations: poll the triggers that are due"
DISPATCH_FUNC = "automations.tasks.dispatch"


def ensure_dispatch_schedule(apps, schema_editor):
    schedule = apps.get_model("django_q", "Schedule")
    schedule.objects.update_or_create(
        name=DISPATCH_SCHEDULE,
        defaults={
            "func": DISPATCH_FUNC,
            "schedule_type": "I",  # Schedule.MINUTES
            "minutes": 1,
            "repeats": -1,
            "next_run": timezone.now(),
        },
    )


def remove_dispatch_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=DISPATCH_SCHEDULE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("automations", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(ensure_dispatch_schedule, remove_dispatch_schedule)]

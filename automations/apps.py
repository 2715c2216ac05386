from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AutomationsConfig(AppConfig):
    name = "automations"
    verbose_name = "Automations"

    def ready(self) -> None:
        from automations.roles import roles_setup_after_migrate

        # Permissions are created by post_migrate (auth's receiver runs first), then the roles.
        post_migrate.connect(roles_setup_after_migrate, dispatch_uid="automations.roles_setup")
        # A worker process that starts takes over at once what a killed one left behind.
        from django_q.signals import post_spawn

        from automations.tasks import recover_at_worker_start

        post_spawn.connect(recover_at_worker_start, dispatch_uid="automations.recover")

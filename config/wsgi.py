"""WSGI entry point (gunicorn config.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

from config.startup import WORKER_BOOT_ERROR, load_settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
load_settings(exit_status=WORKER_BOOT_ERROR)

application = get_wsgi_application()

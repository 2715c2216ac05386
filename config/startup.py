"""Starting a process (manage.py, the WSGI server): a configuration error is one clear line.

Without this, a missing or wrong variable is named only at the end of a long traceback.
"""

from __future__ import annotations

import sys

from django.core.exceptions import ImproperlyConfigured

# gunicorn stops with "Worker failed to boot" when a worker exits with this status, instead of
# starting one failing worker after another.
WORKER_BOOT_ERROR = 3


def load_settings(*, exit_status: int = 1) -> None:
    """Load the settings now; on a configuration error write one line to stderr and exit."""
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 - reading a setting loads the settings module
    except ImproperlyConfigured as error:
        sys.stderr.write(f"Configuration error: {error}\n")
        raise SystemExit(exit_status) from None

"""Settings for the test suite: fast, isolated, no network but loopback.

The base settings see only the variables fixed here: no `.env`, no `ENV_FILE` and nothing
exported in the shell (a Redis broker, a database, a data folder) changes what the tests run
against, and no key is generated into the project folder.
"""

import tempfile
from pathlib import Path

from .sources import fix_environment

fix_environment(
    {
        "DJANGO_SECRET_KEY": "test-secret-key-not-for-production",
        "CRYPTOGRAPHY_KEY": "test-cryptography-key-not-for-production",
        # Nothing is written there: the keys are given and the database is in memory.
        "DATA_DIR": str(Path(tempfile.gettempdir()) / "portal-test"),
        "DATABASE_URL": "sqlite://:memory:",
    }
)

from .base import *  # noqa: E402, F403
from .base import Q_CLUSTER  # noqa: E402

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only: test users
# In memory, and so is the test database pytest-django makes from it (TEST NAME unset).
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": ":memory:",
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }
}
ALLOW_PRIVATE_NETWORK_TARGETS = False
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

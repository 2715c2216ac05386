"""Settings for the test suite: fast, isolated, no network but loopback."""

import tempfile

from .base import *  # noqa: F403
from .base import Q_CLUSTER

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only: test users
SECRET_KEY = "test-secret-key-not-for-production"
CRYPTOGRAPHY_KEY = "test-cryptography-key-not-for-production"
# Each test run gets its own database file; pytest-django creates the test database from it.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": f"{tempfile.gettempdir()}/portal-test.sqlite3",
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        "TEST": {"NAME": None},
    }
}
ALLOW_PRIVATE_NETWORK_TARGETS = False
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

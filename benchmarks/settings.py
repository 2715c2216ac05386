"""Settings of every benchmark process: the portal's own, on the benchmark's database only.

The orchestrator passes the database and data folder in BENCH_DATABASE_URL and BENCH_DATA_DIR;
nothing else from the environment or a `.env` file is read, so a developer's configuration can
never point the benchmark at real data. The keys are throwaway ones for a throwaway database,
the same in every process so a child can read the connection the parent saved.
"""

import os

from config.settings.sources import fix_environment

fix_environment(
    {
        "DJANGO_SECRET_KEY": "benchmark-secret-key-not-for-production",
        "CRYPTOGRAPHY_KEY": "benchmark-cryptography-key-not-for-production",
        "DATA_DIR": os.environ["BENCH_DATA_DIR"],
        "DATABASE_URL": os.environ["BENCH_DATABASE_URL"],
        "ALLOW_PRIVATE_NETWORK_TARGETS": "true",
        "LOG_LEVEL": "WARNING",
    }
)

from config.settings.base import *  # noqa: E402, F403

DEBUG = False
# The admin lists are requested with Django's test client.
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

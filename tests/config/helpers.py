"""An environment for a child process (a settings module, manage.py, `make run`) that sees none of
the developer's own configuration: no `.env`, no exported portal variables, data in tmp_path."""

import importlib
import os
from pathlib import Path

from tests.shared_data import REPO_DIR

# Variables of the portal a developer may have exported (or put in .env) that change what a child
# process does: secrets, settings module, database, broker, data folder and env file.
CLEARED_PREFIXES = ("DJANGO_", "CRYPTOGRAPHY")
CLEARED_NAMES = ("ENV_FILE", "REDIS_URL", "DATABASE_URL", "DATA_DIR")


def isolated_env(tmp_path: Path, **overrides: str | None) -> dict[str, str]:
    """os.environ without the portal's variables, ENV_FILE an empty file, DATA_DIR tmp_path.

    Each override sets a variable; None removes it (e.g. DATA_DIR=None for the default folder).
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(CLEARED_PREFIXES) and name not in CLEARED_NAMES
    }
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.touch()
    env.update(
        {"ENV_FILE": str(empty_env_file), "DATA_DIR": str(tmp_path), "PYTHONPATH": str(REPO_DIR)}
    )
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def settings_in_use(settings) -> dict:
    """What the environment could change: keys, debug, time zone, database, broker, data folder."""
    database = settings.DATABASES["default"]
    # django-cryptography replaces settings.CRYPTOGRAPHY_KEY by the key it derives: ask the module.
    module = importlib.import_module(settings.SETTINGS_MODULE)
    return {
        "secret_key": settings.SECRET_KEY,
        "cryptography_key": module.CRYPTOGRAPHY_KEY,
        "debug": settings.DEBUG,
        "time_zone": settings.TIME_ZONE,
        "database": [database["ENGINE"], str(database["NAME"])],
        "broker": {"orm": settings.Q_CLUSTER.get("orm"), "redis": settings.Q_CLUSTER.get("redis")},
        "data_dir": str(settings.DATA_DIR),
    }

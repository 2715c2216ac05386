"""Where settings come from before Django starts: the env file.

Kept apart from base.py so production.py can read the env file before it checks its required
variables.
"""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def read_env_file() -> None:
    """Load `ENV_FILE` (default: `.env` in the project folder) into os.environ, if it exists.

    Real environment variables win over the file, and reading it again changes nothing.
    """
    environ.Env.read_env(os.environ.get("ENV_FILE") or BASE_DIR / ".env", overwrite=False)

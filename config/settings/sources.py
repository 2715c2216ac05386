"""Where settings come from before Django starts: the env file and the locally generated secrets.

Kept apart from base.py so production.py can read the env file before it checks its required
variables, and so the secret file logic can be tested without reloading the settings.
"""

import fcntl
import os
import secrets
import sys
import tempfile
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
_BASE_MODULE = f"{__package__}.base"

# Set by the test settings before base.py runs: then the only variables the settings see.
_fixed_environment: dict[str, str] | None = None


def read_env_file() -> None:
    """Load `ENV_FILE` (default: `.env` in the project folder) into os.environ, if it exists.

    Real environment variables win over the file, and reading it again changes nothing.
    """
    environ.Env.read_env(os.environ.get("ENV_FILE") or BASE_DIR / ".env", overwrite=False)


def fix_environment(variables: dict[str, str]) -> None:
    """Make base.py read `variables` only: no env file, nothing from os.environ.

    For the test settings, so a developer's `.env`, `ENV_FILE` or exported variables (a Redis
    broker, a database, a data folder) never change what the test suite runs against.
    """
    global _fixed_environment
    if _BASE_MODULE in sys.modules:
        # base.py has already read its variables; fixing them now would silently change nothing.
        raise ImproperlyConfigured("fix_environment() must run before base.py is imported.")
    _fixed_environment = dict(variables)


def settings_env() -> environ.Env:
    """What base.py reads: os.environ after the env file, or the fixed variables of the tests."""
    env = environ.Env()
    if _fixed_environment is None:
        read_env_file()
    else:
        env.ENVIRON = _fixed_environment
    return env


def project_path(value: str) -> Path:
    """`value` as an absolute path; a relative one is taken from the project folder.

    Never from the working directory, so the web server and the worker open the same files
    whatever folder they start in.
    """
    return (BASE_DIR / Path(value).expanduser()).resolve()


def env_int(env: environ.Env, name: str, *, default: int, minimum: int = 0) -> int:
    """The whole number in variable `name`; a wrong value names the variable."""
    raw = env.str(name, default=str(default)).strip()
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
    return value


def private_folder(path: Path) -> None:
    """Create `path` (and missing parents) with the last folder readable by its owner only.

    An existing folder is left as it is: it may be shared on purpose.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


# The files SQLite keeps beside a database. It gives them the database file's own permission
# bits (sqlite src/os_unix.c, findCreateFileMode), so an owner-only database keeps them so.
SQLITE_FILE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def make_sqlite_files_private(sender, connection, **kwargs) -> None:
    """connection_created receiver: the SQLite database and its side files become owner-only.

    SQLite creates a new database with the process umask (usually 0644: world-readable), and
    the database holds sessions and password hashes. Done on every new connection, so files
    left by earlier versions are fixed too; files of another user are left alone.
    """
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        return
    name = str(connection.settings_dict["NAME"])
    for suffix in SQLITE_FILE_SUFFIXES:
        path = Path(name + suffix)
        try:
            mode = path.stat().st_mode
            if mode & 0o077:
                path.chmod(mode & 0o700)
        except (FileNotFoundError, PermissionError):
            continue


def _read_secret(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""


def local_secret(directory: Path, name: str) -> str:
    """Return the random secret kept in `directory/name`, made on first use (local runs only).

    A fixed secret would be public; a fresh one per start would make stored credentials
    unreadable after a restart. The file appears complete or not at all (written to a temporary
    file, then renamed), an empty file counts as missing, and processes starting together agree
    on one secret: whoever holds the folder's lock makes it, the others read it afterwards.
    """
    private_folder(directory)
    path = directory / name
    secret = _read_secret(path)
    if secret:
        return secret
    folder = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        secret = _read_secret(path)  # another process may have made it while we waited
        if not secret:
            secret = secrets.token_urlsafe(50)
            handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.")  # mode 0600
            try:
                with os.fdopen(handle, "w") as file:
                    file.write(secret)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        return secret
    finally:
        os.close(folder)  # releases the lock

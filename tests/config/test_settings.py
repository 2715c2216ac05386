"""Both settings modules load, and production refuses to start without its secrets."""

import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from config.settings import sources
from tests.config.helpers import isolated_env, settings_in_use
from tests.shared_data import REPO_DIR

PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "x" * 64 + "-production-secret-for-the-check",
    "CRYPTOGRAPHY_KEY": "y" * 50 + "-production-cryptography-key",
    "DJANGO_ALLOWED_HOSTS": "portal.example.com",
}
PRINT_DATABASE_NAME = (
    "import django; from django.conf import settings; django.setup();"
    "print(settings.DATABASES['default']['NAME'])"
)


def run_python(code: str, env: dict, cwd: Path = REPO_DIR):
    """Run code in a fresh interpreter, as `make run` or a worker would start."""
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    """manage.py itself, as an operator runs it."""
    return subprocess.run(
        [sys.executable, str(REPO_DIR / "manage.py"), *args],
        cwd=REPO_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_one_clear_line(result: subprocess.CompletedProcess, *named: str) -> str:
    """The process stopped with one line on stderr (no traceback) naming each of `named`."""
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Configuration error: "), lines[0]
    for name in named:
        assert name in lines[0]
    return lines[0]


def base_env(tmp_path, **overrides):
    return isolated_env(tmp_path, DJANGO_SETTINGS_MODULE="config.settings.base", **overrides)


def production_env(tmp_path, **overrides):
    return isolated_env(tmp_path, DJANGO_SETTINGS_MODULE="config.settings.production", **overrides)


def missing_names(result: subprocess.CompletedProcess) -> list[str]:
    named = re.search(r"missing or empty: ([A-Z_, ]+)\.", result.stderr)
    assert named, result.stderr
    return named.group(1).split(", ")


# What the test settings use, whatever the developer's `.env`, ENV_FILE or shell says.
TEST_SETTINGS_IN_USE = {
    "secret_key": "test-secret-key-not-for-production",
    "cryptography_key": "test-cryptography-key-not-for-production",
    "debug": False,
    "time_zone": "UTC",
    "database": ["django.db.backends.sqlite3", ":memory:"],
    "broker": {"orm": "default", "redis": None},
    "data_dir": str(Path(tempfile.gettempdir()) / "portal-test"),
}
# A developer's configuration for a real deployment, which the tests must not pick up.
HOSTILE = {
    "REDIS_URL": "redis://nowhere:6379/0",
    "DATABASE_URL": "postgres://portal:secret@nowhere:5432/portal",
    "DJANGO_SECRET_KEY": "the-developer-s-own-secret-key",
    "CRYPTOGRAPHY_KEY": "the-developer-s-own-cryptography-key",
    "DJANGO_DEBUG": "true",
    "TIME_ZONE": "Europe/Amsterdam",
}


def test_test_settings_are_in_use():
    assert settings.SETTINGS_MODULE == "config.settings.test"
    assert settings.Q_CLUSTER["sync"] is True
    assert settings.ALLOW_PRIVATE_NETWORK_TARGETS is False
    in_use = settings_in_use(settings)
    # Once a test has used the database, the name is pytest-django's test database: in memory too.
    engine, name = in_use.pop("database")
    assert engine == "django.db.backends.sqlite3"
    assert connection.creation.is_in_memory_db(name)
    assert in_use == {name: v for name, v in TEST_SETTINGS_IN_USE.items() if name != "database"}


@pytest.mark.parametrize("given_in", ["ENV_FILE", "environment"])
def test_test_settings_ignore_the_developer_s_env_file_and_environment(tmp_path, given_in):
    hostile = {**HOSTILE, "DATA_DIR": str(tmp_path / "data")}
    if given_in == "ENV_FILE":
        env = isolated_env(tmp_path, ENV_FILE=write_env_file(tmp_path, hostile), DATA_DIR=None)
        assert not set(HOSTILE) & set(env)
    else:
        env = isolated_env(tmp_path, **hostile)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    code = (
        "import django, json; from django.conf import settings; django.setup();"
        "from tests.config.helpers import settings_in_use;"
        "print(json.dumps(settings_in_use(settings)))"
    )
    result = run_python(code, env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == TEST_SETTINGS_IN_USE
    assert not (tmp_path / "data").exists()  # no key generated into the developer's folder


def test_the_suite_runs_on_the_test_settings():
    assert settings.SETTINGS_MODULE == "config.settings.test"
    assert "memory" in str(settings.DATABASES["default"]["NAME"])  # never a file of yours


def test_the_suite_ignores_other_settings_exported_in_the_shell(tmp_path):
    # pytest-django would take an exported DJANGO_SETTINGS_MODULE over the ini file's; the
    # --ds in pyproject.toml's addopts wins over both.
    env = base_env(tmp_path)
    test = "tests/config/test_settings.py::test_the_suite_runs_on_the_test_settings"
    args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", test]
    result = subprocess.run(
        [sys.executable, *args], cwd=REPO_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert not (tmp_path / "secret_key").exists()  # base settings never loaded: no key made


def test_test_settings_do_not_read_the_project_s_env_file(monkeypatch):
    def read_env_file():
        raise AssertionError("the test settings read the env file")

    monkeypatch.setattr(sources, "read_env_file", read_env_file)
    monkeypatch.setenv("REDIS_URL", "redis://nowhere:6379/0")
    env = sources.settings_env()
    assert env.str("REDIS_URL", default="") == ""
    assert env.str("DJANGO_SECRET_KEY") == TEST_SETTINGS_IN_USE["secret_key"]


def test_the_environment_cannot_be_fixed_once_the_base_settings_are_loaded():
    with pytest.raises(ImproperlyConfigured, match="before base"):
        sources.fix_environment({})


def test_base_settings_load_with_no_configuration_and_use_embedded_defaults(tmp_path):
    code = (
        "import django, json; from django.conf import settings; django.setup();"
        "db = settings.DATABASES['default'];"
        "print(json.dumps({'engine': db['ENGINE'], 'name': str(db['NAME']),"
        " 'options': db['OPTIONS'], 'q': settings.Q_CLUSTER,"
        " 'email': [settings.EMAIL_HOST, settings.EMAIL_PORT]}))"
    )
    result = run_python(code, base_env(tmp_path))
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["engine"] == "config.sqlite"  # Django's SQLite backend, see config/sqlite
    assert loaded["name"] == str(tmp_path / "portal.sqlite3")
    assert loaded["options"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in loaded["options"]["init_command"]
    assert loaded["options"]["timeout"] >= 5
    assert loaded["q"]["orm"] == "default"
    # The SMTP server the README names as the default.
    assert loaded["email"] == ["localhost", 25]
    # Local secrets are made once and kept, so encrypted data survives a restart.
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    first_key = (tmp_path / "cryptography_key").read_text()
    again = run_python(code, base_env(tmp_path))
    assert again.returncode == 0
    assert (tmp_path / "cryptography_key").read_text() == first_key
    assert len(first_key) >= 40


def test_web_and_worker_open_the_same_database_whatever_their_working_directory(tmp_path):
    # The default DATA_DIR, with the secrets given so no key is generated into the repo's var/.
    env = base_env(tmp_path, DATA_DIR=None, **PRODUCTION_ENV)
    from_repo = run_python(PRINT_DATABASE_NAME, env, cwd=REPO_DIR)
    from_elsewhere = run_python(PRINT_DATABASE_NAME, env, cwd=tmp_path)
    assert from_repo.returncode == 0, from_repo.stderr
    assert from_repo.stdout == from_elsewhere.stdout
    assert from_repo.stdout.strip() == str(REPO_DIR / "var" / "portal.sqlite3")


def test_loading_the_settings_makes_no_folder_opening_the_database_does(tmp_path):
    # Printing a path (as the tests above do with the project's own var/) must leave no folder.
    data_dir = tmp_path / "data" / "portal"
    env = base_env(tmp_path, DATA_DIR=str(data_dir), **PRODUCTION_ENV)
    loaded = run_python(PRINT_DATABASE_NAME, env)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == str(data_dir / "portal.sqlite3")
    assert not (tmp_path / "data").exists()
    opened = run_python(
        "import django; django.setup(); from django.db import connection;"
        "connection.ensure_connection()",
        env,
    )
    assert opened.returncode == 0, opened.stderr
    assert (data_dir / "portal.sqlite3").is_file()


def test_a_relative_data_dir_is_taken_from_the_project_folder_not_the_working_directory(tmp_path):
    code = (
        "import django; from django.conf import settings; django.setup(); print(settings.DATA_DIR)"
    )
    relative = "var-relative-data-dir-test"
    # The secrets and the database are given, so nothing is made in the relative folder.
    env = base_env(
        tmp_path,
        DATA_DIR=relative,
        DATABASE_URL=f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        **PRODUCTION_ENV,
    )
    from_repo = run_python(code, env, cwd=REPO_DIR)
    from_elsewhere = run_python(code, env, cwd=tmp_path)
    assert from_repo.returncode == 0, from_repo.stderr
    assert from_elsewhere.returncode == 0, from_elsewhere.stderr
    assert from_repo.stdout.strip() == from_elsewhere.stdout.strip() == str(REPO_DIR / relative)
    assert not (REPO_DIR / relative).exists()
    assert not (tmp_path / relative).exists()


def test_a_relative_sqlite_database_url_is_made_absolute(tmp_path):
    env = base_env(tmp_path, DATABASE_URL="sqlite:///var/x.db")
    result = run_python(PRINT_DATABASE_NAME, env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).is_absolute()


def test_redis_url_switches_the_broker(tmp_path):
    code = (
        "import django; from django.conf import settings; django.setup();"
        "print(settings.Q_CLUSTER.get('redis'), settings.Q_CLUSTER.get('orm'))"
    )
    result = run_python(code, base_env(tmp_path, REDIS_URL="redis://127.0.0.1:6379/0"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["redis://127.0.0.1:6379/0", "None"]


def test_q_cluster_is_safe_for_polling():
    q = settings.Q_CLUSTER
    assert q["timeout"] < q["retry"], "a running task would be handed to a second worker"
    assert q["catch_up"] is False
    assert q["ack_failures"] is True
    assert 0 < q["save_limit"] <= 10_000


def test_production_settings_pass_the_deployment_checks(tmp_path):
    env = production_env(tmp_path, **PRODUCTION_ENV)
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("missing", sorted(PRODUCTION_ENV))
def test_production_settings_name_each_missing_variable(tmp_path, missing):
    given = {name: value for name, value in PRODUCTION_ENV.items() if name != missing}
    result = manage("check", env=production_env(tmp_path, **given))
    assert_one_clear_line(result, missing)
    assert missing_names(result) == [missing]
    # Production never falls back to a key generated on the local disk.
    assert not (tmp_path / "secret_key").exists()


def test_production_settings_refuse_an_empty_variable(tmp_path):
    env = production_env(tmp_path, **{**PRODUCTION_ENV, "CRYPTOGRAPHY_KEY": "  "})
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "CRYPTOGRAPHY_KEY" in result.stderr


def write_env_file(tmp_path, variables: dict) -> str:
    env_file = tmp_path / "portal.env"
    env_file.write_text("".join(f"{name}={value}\n" for name, value in variables.items()))
    return str(env_file)


def test_production_settings_take_the_required_variables_from_the_env_file(tmp_path):
    env = production_env(tmp_path, ENV_FILE=write_env_file(tmp_path, PRODUCTION_ENV))
    assert not set(PRODUCTION_ENV) & set(env)
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (tmp_path / "secret_key").exists()
    assert not (tmp_path / "cryptography_key").exists()


def test_production_settings_name_a_variable_missing_from_the_env_file_too(tmp_path):
    in_file = {**PRODUCTION_ENV, "CRYPTOGRAPHY_KEY": ""}
    del in_file["DJANGO_ALLOWED_HOSTS"]
    env = production_env(tmp_path, ENV_FILE=write_env_file(tmp_path, in_file))
    result = manage("check", env=env)
    assert result.returncode != 0
    assert missing_names(result) == ["CRYPTOGRAPHY_KEY", "DJANGO_ALLOWED_HOSTS"]


def test_an_env_file_is_read_and_real_environment_variables_win(tmp_path):
    env_file = write_env_file(tmp_path, {"TIME_ZONE": "Europe/Amsterdam", "LOG_LEVEL": "WARNING"})
    code = (
        "import django; from django.conf import settings; django.setup();"
        "print(settings.TIME_ZONE, settings.LOG_LEVEL)"
    )
    result = run_python(code, base_env(tmp_path, ENV_FILE=env_file, LOG_LEVEL="DEBUG"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Europe/Amsterdam", "DEBUG"]


# -- what production refuses, in one line ----------------------------------------------------

WEAK_KEYS = {
    "short": "Sh0rt-but-varied-key-of-40-characters-xx",
    "one character repeated": "z" * 80,
}


@pytest.mark.parametrize("weakness", sorted(WEAK_KEYS))
@pytest.mark.parametrize("name", ["DJANGO_SECRET_KEY", "CRYPTOGRAPHY_KEY"])
def test_production_settings_refuse_a_weak_key(tmp_path, name, weakness):
    env = production_env(tmp_path, **{**PRODUCTION_ENV, name: WEAK_KEYS[weakness]})
    line = assert_one_clear_line(manage("check", env=env), name, "at least 50 characters")
    assert WEAK_KEYS[weakness] not in line  # a key never ends up in a log


def test_production_settings_accept_a_key_of_exactly_the_minimum(tmp_path):
    key = ("0123456789" * 5)[:50]
    env = production_env(tmp_path, **{**PRODUCTION_ENV, "CRYPTOGRAPHY_KEY": key})
    result = manage("check", env=env)
    assert result.returncode == 0, result.stderr


def test_production_settings_refuse_the_same_key_twice(tmp_path):
    same = PRODUCTION_ENV["DJANGO_SECRET_KEY"]
    env = production_env(tmp_path, **{**PRODUCTION_ENV, "CRYPTOGRAPHY_KEY": f" {same} "})
    line = assert_one_clear_line(manage("check", env=env), "are the same")
    assert same not in line


@pytest.mark.parametrize("hosts", ["*", "portal.example.com,*"])
def test_production_settings_refuse_any_host(tmp_path, hosts):
    env = production_env(tmp_path, **{**PRODUCTION_ENV, "DJANGO_ALLOWED_HOSTS": hosts})
    assert_one_clear_line(manage("check", env=env), "DJANGO_ALLOWED_HOSTS", "not *")


INT_VARIABLES = ["Q_WORKERS", "Q_TIMEOUT", "Q_RETRY", "Q_SAVE_LIMIT", "DATABASE_CONN_MAX_AGE"]


@pytest.mark.parametrize("settings_module", ["base", "production"])
@pytest.mark.parametrize("name", INT_VARIABLES)
def test_a_variable_that_is_not_a_number_is_named(tmp_path, settings_module, name):
    env = isolated_env(
        tmp_path, DJANGO_SETTINGS_MODULE=f"config.settings.{settings_module}", **PRODUCTION_ENV
    )
    env[name] = "two"
    if name == "DATABASE_CONN_MAX_AGE":
        env["DATABASE_URL"] = "postgres://portal@db.invalid:5432/portal"  # read for PostgreSQL
    line = assert_one_clear_line(manage("check", env=env), name, "whole number", "'two'")
    assert "ValueError" not in line


@pytest.mark.parametrize(
    "name", ["DJANGO_SECURE_HSTS_SECONDS", "DJANGO_SESSION_COOKIE_AGE"], ids=str.lower
)
def test_production_number_variables_are_named_too(tmp_path, name):
    env = production_env(tmp_path, **PRODUCTION_ENV, **{name: "a month"})
    assert_one_clear_line(manage("check", env=env), name, "whole number")


@pytest.mark.parametrize("settings_module", ["base", "production"])
@pytest.mark.parametrize(("timeout", "retry"), [("300", "300"), ("600", "300")])
def test_q_timeout_must_stay_below_q_retry(tmp_path, settings_module, timeout, retry):
    env = isolated_env(
        tmp_path,
        DJANGO_SETTINGS_MODULE=f"config.settings.{settings_module}",
        Q_TIMEOUT=timeout,
        Q_RETRY=retry,
        **PRODUCTION_ENV,
    )
    assert_one_clear_line(manage("check", env=env), "Q_TIMEOUT", "below Q_RETRY")


def test_q_workers_below_one_is_refused(tmp_path):
    assert_one_clear_line(manage("check", env=base_env(tmp_path, Q_WORKERS="0")), "Q_WORKERS")


def test_the_wsgi_entry_point_stops_with_one_line_and_gunicorn_s_boot_error_status(tmp_path):
    given = {n: v for n, v in PRODUCTION_ENV.items() if n != "CRYPTOGRAPHY_KEY"}
    result = run_python("import config.wsgi", production_env(tmp_path, **given))
    assert_one_clear_line(result, "CRYPTOGRAPHY_KEY")
    assert result.returncode == 3  # gunicorn then stops instead of restarting workers


# -- files ---------------------------------------------------------------------------------------

LIST_MODES_WITH_THE_DATABASE_OPEN = (
    "import django, json, os; django.setup();"
    "from django.core.management import call_command; call_command('migrate', verbosity=0);"
    "from django.conf import settings; from django.db import connection;"
    "connection.cursor().execute('SELECT count(*) FROM django_session');"
    "folder = settings.DATA_DIR;"
    "modes = {name: os.stat(folder / name).st_mode & 0o777 for name in os.listdir(folder)};"
    "modes['.'] = os.stat(folder).st_mode & 0o777;"
    "print(json.dumps(modes))"
)


def _run_with_umask_022(code: str, env: dict) -> subprocess.CompletedProcess:
    # The usual umask, which makes new files world-readable unless the portal says otherwise.
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.umask(0o022),
    )


def test_data_folder_and_database_files_are_owner_only(tmp_path):
    data = tmp_path / "data"
    result = _run_with_umask_022(
        LIST_MODES_WITH_THE_DATABASE_OPEN, base_env(tmp_path, DATA_DIR=str(data))
    )
    assert result.returncode == 0, result.stderr
    modes = json.loads(result.stdout)
    # -wal and -shm exist while a connection is open (WAL mode).
    assert {"portal.sqlite3", "portal.sqlite3-wal", "portal.sqlite3-shm"} <= set(modes)
    assert modes == {
        ".": 0o700,
        "portal.sqlite3": 0o600,
        "portal.sqlite3-wal": 0o600,
        "portal.sqlite3-shm": 0o600,
        "secret_key": 0o600,
        "cryptography_key": 0o600,
    }


def test_a_world_readable_database_of_an_earlier_version_is_made_owner_only(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    database = data / "portal.sqlite3"
    sqlite3.connect(database).close()
    database.chmod(0o644)
    result = _run_with_umask_022(
        LIST_MODES_WITH_THE_DATABASE_OPEN, base_env(tmp_path, DATA_DIR=str(data))
    )
    assert result.returncode == 0, result.stderr
    modes = json.loads(result.stdout)
    assert modes["portal.sqlite3"] == modes["portal.sqlite3-wal"] == 0o600
    assert modes["."] == 0o755  # an existing folder is left as it is

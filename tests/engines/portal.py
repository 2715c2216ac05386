"""The portal's real processes for end-to-end and crash tests: migrate, web server, workers.

`PortalProcesses` runs what `make run` and a deployment run (manage.py migrate, runserver,
qcluster) as child processes with the base settings, reading their configuration from the
environment like a deployment does: DATABASE_URL (SQLite or PostgreSQL) and REDIS_URL (the Redis
broker; unset, the database is the queue). Each process gets its own process group: stopping it
is SIGTERM, then SIGKILL to the whole group, and killing it (a crash) is SIGKILL to the whole
group at once, so no child of a qcluster (a tree of processes) is ever left behind. The `portal`
fixture (tests/engines/fixtures.py) makes one per test and stops everything afterwards.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.config.helpers import isolated_env
from tests.helpers import free_port
from tests.shared_data import REPO_DIR

# Fixed keys, so every process of one portal signs tasks and decrypts credentials alike.
SECRET_KEY = "engine-tests-secret-key-not-for-production"
CRYPTOGRAPHY_KEY = "engine-tests-cryptography-key-not-for-production"
# Set in each worker's environment (and so its children's): a task can tell which worker ran it.
WORKER_VARIABLE = "PORTAL_TEST_WORKER"
# How long a process may take to come up, or a command to finish, before the test fails.
START_LIMIT = 90.0
STOP_GRACE = 10.0


class PortalError(AssertionError):
    """A portal process failed, or did not do in time what the test waits for."""


class PortalProcesses:
    """One portal (one database, one queue) and the processes a test starts for it."""

    def __init__(self, folder: Path, *, database_url: str, redis_url: str | None = None):
        self.folder = folder
        self.database_url = database_url
        self.redis_url = redis_url
        self.env = isolated_env(
            folder,
            DJANGO_SETTINGS_MODULE="config.settings.base",
            DJANGO_SECRET_KEY=SECRET_KEY,
            CRYPTOGRAPHY_KEY=CRYPTOGRAPHY_KEY,
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            # The sandbox store runs on 127.0.0.1.
            ALLOW_PRIVATE_NETWORK_TARGETS="true",
            PYTHONUNBUFFERED="1",
        )
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.web_url = ""

    @property
    def engine(self) -> str:
        """The database engine, from DATABASE_URL: "postgresql" or "sqlite"."""
        return "postgresql" if self.database_url.startswith("postgres") else "sqlite"

    # --- commands that run to the end ---

    def manage(self, *args: str, **variables: str) -> str:
        """Run a management command to its end; its output, or PortalError when it fails."""
        try:
            done = subprocess.run(
                [sys.executable, str(REPO_DIR / "manage.py"), *args],
                cwd=self.folder,
                env={**self.env, **variables},
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=START_LIMIT,
            )
        except subprocess.TimeoutExpired as error:
            raise PortalError(
                f"manage.py {args[0]} did not finish in {START_LIMIT:.0f}s"
            ) from error
        if done.returncode != 0:
            raise PortalError(
                f"manage.py {' '.join(args)} exited with {done.returncode}:\n"
                f"{done.stdout}{done.stderr}"
            )
        return done.stdout

    def migrate(self) -> None:
        """Create the portal's tables (and roles) in the database."""
        self.manage("migrate", "--noinput")

    def shell(self, code: str) -> str:
        """Run Python `code` in a fresh process with the portal's settings; what it printed."""
        return self.manage("shell", "--no-imports", "--command", code)

    def query(self, sql: str) -> list[tuple]:
        """Rows of one SELECT on the portal's database, read directly (no Django, no process)."""
        if self.engine == "sqlite":
            path = self.database_url.removeprefix("sqlite:///")
            with contextlib.closing(sqlite3.connect(path, timeout=30)) as database:
                return database.execute(sql).fetchall()
        import psycopg

        with psycopg.connect(self.database_url, connect_timeout=10) as database:
            return database.execute(sql).fetchall()

    def value(self, sql: str):
        """The one value a SELECT gives."""
        return self.query(sql)[0][0]

    def wait_for(self, what: str, check, limit: float = START_LIMIT, *, alive=()) -> None:
        """Wait until `check()` is true; PortalError naming `what` if not within `limit`
        seconds, or if one of the processes named in `alive` exits first."""
        deadline = time.monotonic() + limit
        while not check():
            for name in alive:
                self._check_alive(name)
            if time.monotonic() > deadline:
                logs = "".join(f"\n--- {name} ---\n{self.log(name)[-3000:]}" for name in alive)
                raise PortalError(f"not done within {limit:.0f}s: {what}{logs}")
            time.sleep(0.05)

    def pid_group(self, pid: int) -> str | None:
        """The name of the started process whose group `pid` belongs to (its children too)."""
        try:
            group = os.getpgid(pid)
        except ProcessLookupError:
            return None
        return next((n for n, p in self.processes.items() if p.pid == group), None)

    # --- long-running processes ---

    def start(self, name: str, *args: str, **variables: str) -> subprocess.Popen:
        """Start `manage.py ARGS` as the process `name`, in its own process group."""
        if name in self.processes and self.processes[name].poll() is None:
            raise PortalError(f"{name} is already running")
        log = self.folder / f"{name}.log"
        self.logs[name] = log
        with log.open("ab") as output:
            process = subprocess.Popen(
                [sys.executable, str(REPO_DIR / "manage.py"), *args],
                cwd=self.folder,
                env={**self.env, **variables},
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes[name] = process
        return process

    def start_worker(self, name: str = "worker", **variables: str) -> subprocess.Popen:
        """Start a qcluster (e.g. Q_WORKERS="1" for one worker process) and wait until it runs.

        A worker started again after a kill appends to its log; only the new part counts."""
        before = len(self.log(name))
        process = self.start(name, "qcluster", **{WORKER_VARIABLE: name, **variables})
        self.wait_for_log(name, "running.", after=before)
        return process

    def start_web(self, name: str = "web") -> str:
        """Start the web server on a free port and wait until it answers; its base URL."""
        port = free_port()
        self.start(name, "runserver", f"127.0.0.1:{port}", "--noreload", "--insecure")
        self.web_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_LIMIT
        while True:
            self._check_alive(name)
            try:
                if requests.get(f"{self.web_url}/healthz", timeout=5).status_code == 200:
                    return self.web_url
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise PortalError(
                    f"{name} did not answer within {START_LIMIT:.0f}s:\n{self.log(name)}"
                )
            time.sleep(0.2)

    def wait_for_log(
        self, name: str, text: str, limit: float = START_LIMIT, *, after: int = 0
    ) -> None:
        """Wait until the process `name` has logged `text` (past the first `after` characters);
        PortalError if it exits first."""
        deadline = time.monotonic() + limit
        while text not in self.log(name)[after:]:
            self._check_alive(name)
            if time.monotonic() > deadline:
                raise PortalError(
                    f"{name} did not log {text!r} within {limit:.0f}s:\n{self.log(name)}"
                )
            time.sleep(0.1)

    def log(self, name: str) -> str:
        """Everything the process `name` has written so far."""
        path = self.logs.get(name)
        return path.read_text(errors="replace") if path and path.exists() else ""

    def _check_alive(self, name: str) -> None:
        process = self.processes[name]
        if process.poll() is not None:
            raise PortalError(f"{name} exited with {process.returncode}:\n{self.log(name)}")

    # --- stopping ---

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Crash the process `name` and its children at once (SIGKILL to its process group)."""
        process = self.processes[name]
        _signal_group(process, sig)
        process.wait()
        _signal_group(process, signal.SIGKILL)  # children that outlived their parent

    def stop(self, name: str, grace: float = STOP_GRACE) -> None:
        """SIGTERM to the process `name`; SIGKILL to its process group after `grace` seconds."""
        self._stop([self.processes[name]], grace)

    def stop_all(self, grace: float = STOP_GRACE) -> None:
        """Stop every process started, whatever state it is in."""
        self._stop(list(self.processes.values()), grace)

    @staticmethod
    def _stop(processes: list[subprocess.Popen], grace: float) -> None:
        # SIGTERM to the parent only: it stops its children itself (a qcluster whose children all
        # get SIGTERM as well hangs until killed).
        for process in processes:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + grace
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
        # Also when the parent stopped in time: a child may still be running in its group.
        for process in processes:
            _signal_group(process, signal.SIGKILL)
            process.wait()


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    # start_new_session made the process the leader of a group with its own pid.
    with contextlib.suppress(ProcessLookupError):  # the whole group is gone already
        os.killpg(process.pid, sig)

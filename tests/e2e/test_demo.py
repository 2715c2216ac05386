"""`make demo` (its command, `manage.py demo`) as a newcomer runs it: the sandbox, a demo user,
a connection and the example automation, the portal and a real worker; runs succeed, Ctrl-C
stops every child, and a second demo reuses what the first made."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.config.helpers import isolated_env
from tests.config.test_runportal import free_port
from tests.shared_data import REPO_DIR

# Bounded: the worker's first poll is queued within --poll-seconds, and an order is made
# every four activity events.
WAIT_SECONDS = 90


def _processes_in_groups(groups: set[int]) -> dict[int, str]:
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) in groups and "zombie" not in status:
            found[int(entry.name)] = stat
    return found


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _count(database: Path, sql: str) -> int:
    if not database.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
            return db.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # not migrated yet


SHIPPED = (
    "SELECT COUNT(*) FROM automations_actionrun WHERE action_id = 'create_shipment' "
    "AND status = 'succeeded' AND started_by = 'trigger'"
)


def run_demo(tmp_path: Path, shipped_before: int) -> str:
    """Start the demo, wait for a new shipped run, stop it with Ctrl-C; its output."""
    env = isolated_env(
        tmp_path, DJANGO_SETTINGS_MODULE="config.settings.base", SHUTDOWN_GRACE_SECONDS="5"
    )
    database = tmp_path / "portal.sqlite3"
    command = [
        sys.executable,
        "manage.py",
        "demo",
        "--port",
        str(free_port()),
        "--sandbox-port",
        "0",
        "--activity-seconds",
        "0.5",
        "--poll-seconds",
        "3",
        "--grace-seconds",
        "5",
    ]
    process = subprocess.Popen(
        command,
        cwd=REPO_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    groups: set[int] = set()
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while _count(database, SHIPPED) <= shipped_before:
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "no shipment run succeeded in time"
            groups |= _children(process.pid)
            time.sleep(0.5)
        groups |= _children(process.pid)
        assert len(groups) >= 2, groups  # the web server and the worker
        assert _processes_in_groups(groups)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "[demo] stopped" in output
    assert _processes_in_groups(groups) == {}, "a child of the demo is still running"
    return output


def test_demo_runs_the_example_automation_and_stops_cleanly_twice(tmp_path):
    output = run_demo(tmp_path, 0)
    assert "sign in as user: demo  password: " in output
    assert "connection 'Demo sandbox store': Verified" in output
    database = tmp_path / "portal.sqlite3"
    shipped = _count(database, SHIPPED)
    failed = _count(database, "SELECT COUNT(*) FROM automations_actionrun WHERE status='failed'")
    assert failed == 0

    run_demo(tmp_path, shipped)  # a second demo: the same user, connection and automation
    assert _count(database, "SELECT COUNT(*) FROM auth_user WHERE username = 'demo'") == 1
    assert _count(database, "SELECT COUNT(*) FROM connections_connection") == 1
    assert _count(database, "SELECT COUNT(*) FROM automations_automation") == 1
    assert _count(database, SHIPPED) > shipped

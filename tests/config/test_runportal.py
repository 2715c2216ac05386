"""`make run`: migrations, a superuser, the web server and the worker, and a clean stop."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from config.runportal import stop_all, supervise
from tests.config.helpers import isolated_env
from tests.helpers import free_port
from tests.shared_data import REPO_DIR


def children_of(pid: int) -> dict[int, str]:
    """Direct children of a process, with their command lines (Linux /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid:
            found[int(entry.name)] = cmdline
    return found


def portal_env(tmp_path, port, **extra) -> dict:
    return isolated_env(
        tmp_path,
        DJANGO_SETTINGS_MODULE="config.settings.base",
        PORT=str(port),
        SHUTDOWN_GRACE_SECONDS="5",
        **extra,
    )


def wait_for_login_page(url: str, process: subprocess.Popen, limit: float = 90.0) -> int:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()
        try:
            return requests.get(url, timeout=2).status_code
        except requests.ConnectionError:
            time.sleep(0.3)
    raise AssertionError("the portal did not answer in time")


def test_run_serves_the_login_page_with_a_worker_and_stops_both(tmp_path):
    port = free_port()
    env = portal_env(
        tmp_path,
        port,
        DJANGO_SUPERUSER_USERNAME="owner",
        DJANGO_SUPERUSER_PASSWORD="a long enough password",
        DJANGO_SUPERUSER_EMAIL="owner@example.com",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "config.runportal"],
        cwd=tmp_path,  # any folder: paths come from the settings, not the working directory
        env=env,
        stdin=subprocess.DEVNULL,  # it must never prompt
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        status = wait_for_login_page(f"http://127.0.0.1:{port}/admin/login/", process)
        assert status == 200
        children = children_of(process.pid)
        assert any("qcluster" in cmd for cmd in children.values()), children
        assert any("runserver" in cmd for cmd in children.values()), children
        assert (tmp_path / "portal.sqlite3").exists()
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "Created superuser 'owner'." in output
    for pid in children:
        assert (
            not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
        )


def test_without_superuser_variables_it_says_how_to_create_one(tmp_path):
    env = portal_env(tmp_path, free_port())
    code = "from config.runportal import prepare; prepare()"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=REPO_DIR,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "manage.py createsuperuser" in result.stdout


def test_stop_kills_a_process_that_ignores_the_stop_request():
    stubborn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
            "print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert stubborn.stdout.readline().strip() == "ready"
    polite = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    stop_all({"stubborn": stubborn, "polite": polite}, grace=0.5)
    assert stubborn.returncode == -signal.SIGKILL
    assert polite.returncode != -signal.SIGKILL


@pytest.mark.parametrize(("status", "portal_status"), [(3, 3), (0, 1)])
def test_a_process_that_exits_stops_the_portal_with_its_status(status, portal_status, capsys):
    # Stand-ins for the web server and the worker: one runs until stopped, one exits at once.
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    exiting = subprocess.Popen([sys.executable, "-c", f"raise SystemExit({status})"])
    processes = {"web": running, "worker": exiting}
    assert supervise(processes, stop_requested=lambda: False, poll_seconds=0.05) == portal_status
    assert running.returncode is not None  # the other process was stopped too
    assert f"worker exited with status {status}; stopping the portal" in capsys.readouterr().out


def test_a_configuration_error_stops_it_with_one_line_and_no_traceback(tmp_path):
    env = portal_env(tmp_path, free_port())
    env["Q_WORKERS"] = "two"
    result = subprocess.run(
        [sys.executable, "-m", "config.runportal"],
        env=env,
        cwd=REPO_DIR,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert (
        result.stderr.strip() == "Configuration error: Q_WORKERS must be a whole number, not 'two'."
    )
    assert "not started" in result.stdout

"""Run the whole portal in the foreground: migrations, then the web server and the worker.

`make run` calls this. Ctrl-C (or SIGTERM) stops both processes; a process that has not exited
after a grace period is killed, because the Django-Q2 cluster can hang on shutdown
(django-q2 issue #346). It never prompts, so it also runs without a terminal.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
GRACE_SECONDS = float(os.environ.get("SHUTDOWN_GRACE_SECONDS", "10"))


def _manage(*args: str) -> list[str]:
    return [sys.executable, str(BASE_DIR / "manage.py"), *args]


def _say(message: str) -> None:
    print(f"[portal] {message}", flush=True)


def prepare() -> int:
    """Apply migrations and make sure somebody can log in; the first failing step's status.

    A failing step has already said why (a configuration error is one line on stderr).
    """
    for step in (_manage("migrate", "--noinput"), _manage("ensure_superuser")):
        status = subprocess.run(step).returncode
        if status:
            return status
    return 0


def stop_all(processes: dict[str, subprocess.Popen], grace: float = GRACE_SECONDS) -> None:
    """Ask every process to stop, then kill whatever is still running after `grace` seconds."""
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + grace
    for name, process in processes.items():
        remaining = max(0.0, deadline - time.monotonic())
        try:
            process.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            _say(f"{name} did not stop within {grace:.0f}s; killing it")
            process.kill()
            process.wait()


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    status = prepare()
    if status:
        _say("not started: see the message above")
        return status

    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    # Each child gets its own process group: we decide when and how they stop.
    processes = {
        "web": subprocess.Popen(
            _manage("runserver", f"{host}:{port}", "--noreload", "--insecure"),
            start_new_session=True,
        ),
        "worker": subprocess.Popen(_manage("qcluster"), start_new_session=True),
    }
    _say(
        f"portal at http://{host}:{port}/admin/ (web pid {processes['web'].pid}, "
        f"worker pid {processes['worker'].pid}); press Ctrl-C to stop"
    )
    return supervise(processes, lambda: stopping)


def supervise(
    processes: dict[str, subprocess.Popen],
    stop_requested: Callable[[], bool],
    poll_seconds: float = 0.5,
) -> int:
    """Wait until a stop is requested or a process exits, then stop them all.

    Returns the portal's exit status: 0 after a requested stop, otherwise the status of the
    process that exited (1 if that was 0, since the portal cannot run without it).
    """
    exit_code = 0
    while not stop_requested():
        exited = next(
            ((name, process) for name, process in processes.items() if process.poll() is not None),
            None,
        )
        if exited:
            name, process = exited
            _say(f"{name} exited with status {process.returncode}; stopping the portal")
            exit_code = process.returncode or 1
            break
        time.sleep(poll_seconds)
    _say("stopping")
    stop_all(processes)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())

"""`make demo`: the sandbox store with activity, a demo user, a connection, the example
automation, then the portal and the worker, until Ctrl-C (which stops every child)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from automations.demo import (
    DEMO_AUTOMATION,
    DEMO_CONNECTION,
    demo_automation_ensure,
    demo_connection_ensure,
    demo_user_ensure,
)
from automations.polling import enqueue_poll
from config.runportal import _manage
from magento.sandbox import cli as sandbox_cli


class Command(BaseCommand):
    help = (
        "Start a demo: the sandbox Magento store with seeded data and simulated activity, a "
        "demo staff user (credentials printed), a connection to the sandbox, the example "
        "automation (new orders -> first product by SKU -> ship), then the portal and the "
        "worker. Ctrl-C stops everything. Running it again reuses the user, connection and "
        "automation."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="portal address")
        parser.add_argument("--port", type=int, default=8000, help="portal port")
        parser.add_argument(
            "--sandbox-port", type=int, default=8081, help="sandbox store port (0: a free one)"
        )
        parser.add_argument(
            "--activity-seconds",
            type=float,
            default=5.0,
            help="one new customer, product, order or customer update every SECONDS",
        )
        parser.add_argument(
            "--poll-seconds",
            type=float,
            default=0,
            help="also queue a poll of the example automation every SECONDS (0: only its "
            "schedule, every minute); for impatient demos and tests",
        )
        parser.add_argument(
            "--grace-seconds",
            type=float,
            default=float(os.environ.get("SHUTDOWN_GRACE_SECONDS", "10")),
            help="on stop, how long to wait before killing a process",
        )

    def handle(self, *args, **options):
        # The sandbox listens on this machine: the demo's connection must be allowed to it,
        # in this process and in the web server and worker it starts.
        settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
        env = {**os.environ, "ALLOW_PRIVATE_NETWORK_TARGETS": "true"}
        stopping = threading.Event()

        def request_stop(signum, frame):
            stopping.set()

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)

        call_command("migrate", interactive=False, verbosity=0)
        sandbox = self._sandbox(options)
        processes: dict[str, subprocess.Popen] = {}
        try:
            automation = self._prepare(sandbox, options)
            if stopping.is_set():
                return
            host, port = options["host"], options["port"]
            processes["web"] = subprocess.Popen(
                _manage("runserver", f"{host}:{port}", "--noreload", "--insecure"),
                env=env,
                start_new_session=True,
            )
            processes["worker"] = subprocess.Popen(
                _manage("qcluster"), env=env, start_new_session=True
            )
            self._say(
                f"portal at http://{host}:{port}/admin/ (web pid {processes['web'].pid}, "
                f"worker pid {processes['worker'].pid}); press Ctrl-C to stop"
            )
            self._supervise(processes, stopping, automation, options["poll_seconds"])
        finally:
            self._say("stopping")
            _stop(processes, options["grace_seconds"], self._say)
            if sandbox.activity is not None:
                sandbox.activity.stop()
            sandbox.server.stop()
            self._say("stopped")

    def _sandbox(self, options):
        try:
            sandbox = sandbox_cli.build(
                {
                    "host": "127.0.0.1",
                    "port": options["sandbox_port"],
                    "simulate_activity": options["activity_seconds"],
                    "seed_customers": 20,
                    "seed_products": 20,
                    "seed_orders": 50,
                },
                environ={},
            )
        except sandbox_cli.SandboxStartError as error:
            raise CommandError(str(error)) from None
        sandbox.server.start()
        if sandbox.activity is not None:
            sandbox.activity.start()
        return sandbox

    def _prepare(self, sandbox, options):
        server = sandbox.server
        user, password = demo_user_ensure()
        connection = demo_connection_ensure(store_domain=server.url, credentials=server.credentials)
        automation = demo_automation_ensure(connection=connection)
        activity = (
            f"; a new customer, product, order or customer update every "
            f"{options['activity_seconds']:g} s"
            if sandbox.activity is not None
            else ""
        )
        self._say(
            f"sandbox store at {server.url} ({sandbox.seeded['customers']} customers, "
            f"{sandbox.seeded['products']} products, {sandbox.seeded['orders']} orders{activity})"
        )
        self._say(f"connection {DEMO_CONNECTION!r}: {connection.get_status_display()}")
        self._say(
            f"automation {DEMO_AUTOMATION!r}: ships each new order; runs appear under "
            "Automations > Action runs within a minute or two"
        )
        self._say(f"sign in as user: {user.username}  password: {password}")
        return automation

    def _supervise(self, processes, stopping, automation, poll_seconds: float) -> None:
        next_poll = time.monotonic() + poll_seconds if poll_seconds > 0 else None
        subscription_id = automation.trigger.pk
        while not stopping.wait(0.5):
            for name, process in processes.items():
                if process.poll() is not None:
                    self._say(f"{name} exited with status {process.returncode}; stopping")
                    return
            if next_poll is not None and time.monotonic() >= next_poll:
                enqueue_poll(subscription_id)
                next_poll = time.monotonic() + poll_seconds

    def _say(self, message: str) -> None:
        self.stdout.write(f"[demo] {message}")
        self.stdout.flush()


def _stop(processes: dict[str, subprocess.Popen], grace: float, say) -> None:
    """SIGINT each child, then SIGKILL what is left of its process group after `grace` seconds.

    Each child leads its own group (start_new_session), so the worker's own processes that
    outlive it are killed with the group and nothing is left behind.
    """
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + grace
    for name, process in processes.items():
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{name} did not stop within {grace:g}s; killing it")
        _signal_group(process.pid, signal.SIGKILL)
        process.wait()


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)

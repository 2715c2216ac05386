"""`manage.py magento_sandbox`: options, printed Store Domain and credentials, serving, stopping."""

import argparse
import io
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from django.core.management import CommandError, call_command

from magento import AdminSessionAuth, MagentoClient
from magento.sandbox import cli
from tests.magento.sandbox.helpers import oauth, rest

REPO_ROOT = Path(__file__).resolve().parents[3]


def _run_command(**options):
    """Start the command in a thread; returns (server, output, stop) once it serves."""
    started = threading.Event()
    stop = threading.Event()
    holder = []
    output = io.StringIO()

    def ready(server):
        holder.append(server)
        started.set()

    thread = threading.Thread(
        target=call_command,
        args=("magento_sandbox",),
        kwargs={"port": 0, "stop_event": stop, "ready": ready, "stdout": output, **options},
        daemon=True,
    )
    thread.start()
    assert started.wait(timeout=10), output.getvalue()
    return holder[0], output, stop, thread


def test_command_prints_the_store_domain_and_every_credential_and_serves():
    server, output, stop, thread = _run_command(seed_orders=5, seed_customers=2, seed_products=2)
    try:
        text = output.getvalue()
        c = server.credentials
        response = requests.get(
            rest(server, "/V1/orders"),
            auth=oauth(server),
            params={"searchCriteria[pageSize]": "10"},
        )
    finally:
        stop.set()
        thread.join(timeout=10)

    assert f"Store Domain:          {server.url}" in text
    for value in (
        c.consumer_key,
        c.consumer_secret,
        c.access_token,
        c.access_token_secret,
        c.admin_username,
        c.admin_password,
        c.totp_secret,
    ):
        assert value in text
    assert "refused" in text  # Bearer use of the integration token is off by default
    assert response.status_code == 200
    assert response.json()["total_count"] == 5
    assert not thread.is_alive()


def test_command_stops_serving_when_stopped():
    server, _output, stop, thread = _run_command(seed_orders=0)
    url = rest(server, "/V1/store/storeViews")

    stop.set()
    thread.join(timeout=10)

    try:
        requests.get(url, timeout=2)
        reached = True
    except requests.ConnectionError:
        reached = False
    assert not reached


def test_credentials_from_options_and_environment():
    options = {"consumer_key": "c" * 32, "admin_password": "Given-Passw0rd"}
    environ = {"MAGENTO_SANDBOX_ACCESS_TOKEN": "t" * 32, "MAGENTO_SANDBOX_CONSUMER_KEY": "e" * 32}

    sandbox = cli.build({**options, "port": 0, "seed_orders": 0}, environ=environ)
    try:
        c = sandbox.server.credentials
    finally:
        sandbox.server.stop()

    assert c.consumer_key == "c" * 32  # the option wins over the environment
    assert c.access_token == "t" * 32
    assert c.admin_password == "Given-Passw0rd"
    assert len(c.consumer_secret) == 32


def test_flags_options_and_banner():
    sandbox = cli.build(
        {
            "port": 0,
            "enable_bearer": True,
            "disable_2fa": True,
            "no_input_limits": True,
            "simulate_activity": 2.5,
            "control": True,
            "base_path": "/shop",
            "seed_orders": 1,
        },
        environ={},
    )
    try:
        text = cli.banner(sandbox)
        store = sandbox.server.store
    finally:
        sandbox.server.stop()

    assert store.bearer_enabled and not store.two_factor_enabled
    assert not store.input_limits_enabled
    assert sandbox.server.url.endswith("/shop")
    assert "Bearer token: accepted" in text
    assert "2FA:                 off" in text
    assert "every 2.5 s" in text
    assert "/__sandbox__/state" in text


@pytest.mark.parametrize(
    ("argv", "signing", "said"),
    [
        ([], "decoded", '"%2F" as "/" (Magento 2.4.6/2.4.7)'),
        (["--oauth-path-signing", "rfc5849"], "rfc5849", "signed as sent, RFC 5849"),
    ],
)
def test_oauth_path_signing_option_and_banner(argv, signing, said):
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    options = vars(parser.parse_args(["--port", "0", "--seed-orders", "0", *argv]))
    sandbox = cli.build(options, environ={})
    sandbox.server.stop()

    assert sandbox.server.store.oauth_path_signing == signing
    assert said in cli.banner(sandbox)


def test_unknown_oauth_path_signing_is_an_option_error(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--port", "0", "--oauth-path-signing", "raw"])
    assert "invalid choice: 'raw'" in capsys.readouterr().err


def test_admin_2fa_not_configured_option_and_banner():
    sandbox = cli.build({"port": 0, "seed_orders": 0, "admin_2fa_not_configured": True}, {})
    sandbox.server.stop()  # the banner is written from the configuration alone

    text = cli.banner(sandbox)

    assert sandbox.server.two_factor_enabled and not sandbox.server.two_factor_configured
    assert "not set up for this admin" in text
    assert sandbox.server.credentials.totp_secret not in text


def test_random_credentials_differ_per_run():
    first = cli.build({"port": 0, "seed_orders": 0}, environ={})
    second = cli.build({"port": 0, "seed_orders": 0}, environ={})
    first.server.stop()
    second.server.stop()

    assert first.server.credentials.access_token != second.server.credentials.access_token
    assert first.server.credentials.admin_password != second.server.credentials.admin_password


class _Output:
    """A process's stdout read in a thread, so a test can wait for a line without hanging."""

    def __init__(self, stream):
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def next_line(self) -> str | None:
        """The next line, None at the end; a generous bound turns unflushed output into a
        failure instead of a hang."""
        return self._lines.get(timeout=30)

    def rest(self) -> str:
        """Everything until the process closes its output."""
        text = []
        while (line := self.next_line()) is not None:
            text.append(line)
        return "".join(text)


def _start_process(*options):
    """`manage.py magento_sandbox` in its own process, its output on a pipe as a supervisor
    sees it (no PYTHONUNBUFFERED); returns (process, output, Store Domain) once it serves."""
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    environment["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    process = subprocess.Popen(
        [sys.executable, "manage.py", "magento_sandbox", "--port", "0", *options],
        cwd=REPO_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    output = _Output(process.stdout)
    store_domain = None
    while (line := output.next_line()) is not None:
        if line.startswith("Store Domain:"):
            store_domain = line.split()[-1]
        if line.startswith("Serving until stopped"):
            break
    return process, output, store_domain


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_command_stops_cleanly_on_sigterm_and_ctrl_c(stop_signal):
    process, output, store_domain = _start_process("--seed-customers", "0", "--seed-orders", "0")
    try:
        assert store_domain is not None, process.stderr.read()
        served = requests.get(f"{store_domain}/rest/V1/store/storeViews", timeout=5)

        process.send_signal(stop_signal)
        rest_of_output = output.rest()
        process.wait(timeout=30)
        errors = process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert served.status_code == 401  # it answered like Magento while running
    assert process.returncode == 0, errors
    assert rest_of_output.strip() == "Stopping."
    assert "Traceback" not in errors
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{store_domain}/rest/V1/store/storeViews", timeout=5)


def test_an_80_bit_totp_secret_starts_the_sandbox_and_signs_in():
    # `magento_sandbox --totp-secret JBSWY3DPEHPK3PXP` crashed: pyotp alone wants 112 bits.
    server, output, stop, thread = _run_command(
        totp_secret="jbsw y3dp ehpk 3pxp", seed_orders=0, seed_customers=0, seed_products=0
    )
    try:
        c = server.credentials
        auth = AdminSessionAuth(c.admin_username, c.admin_password, totp_secret=c.totp_secret)
        client = MagentoClient(server.url, auth, allow_private_network=True, max_retries=0)
        with client:
            configs = client.request("GET", "/V1/store/storeConfigs")
    finally:
        stop.set()
        thread.join(timeout=10)

    assert c.totp_secret == "JBSWY3DPEHPK3PXP"
    assert "2FA (Google Authenticator) secret: JBSWY3DPEHPK3PXP" in output.getvalue()
    assert "secret=JBSWY3DPEHPK3PXP" in output.getvalue()
    assert isinstance(configs, list)


@pytest.mark.parametrize("secret", ["JBSWY3DPEHPK3PX1", "---"])
def test_a_totp_secret_magento_cannot_read_is_a_clear_command_error(secret):
    with pytest.raises(CommandError, match="--totp-secret"):
        call_command("magento_sandbox", port=0, totp_secret=secret, stdout=io.StringIO())


def test_python_m_sandbox_reports_a_bad_totp_secret_without_a_traceback(capsys):
    environ = {"MAGENTO_SANDBOX_TOTP_SECRET": "not base32!"}
    with pytest.raises(cli.SandboxStartError, match="base32"):
        cli.build({"port": 0, "seed_orders": 0}, environ=environ)
    with pytest.raises(SystemExit) as stopped:
        cli.main(["--port", "0", "--totp-secret", "not base32!"])

    assert stopped.value.code == 1
    assert "Check --totp-secret." in capsys.readouterr().err


def test_taken_port_is_a_clear_command_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(CommandError, match=rf"Cannot listen on 127\.0\.0\.1:{port}.*--port"):
            call_command("magento_sandbox", port=port, stdout=io.StringIO())


def test_python_m_sandbox_reports_a_taken_port_without_a_traceback(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(SystemExit) as stopped:
            cli.main(["--port", str(port), "--seed-orders", "0"])

    assert stopped.value.code == 1
    assert f"Cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_serve_in_the_main_thread_stops_on_sigterm_and_restores_the_handler():
    sandbox = cli.build({"port": 0, "seed_orders": 0, "seed_customers": 0}, environ={})
    before = signal.getsignal(signal.SIGTERM)
    written = []

    def ready(server):
        # The handler is in place while serving: SIGTERM to ourselves ends serve().
        os.kill(os.getpid(), signal.SIGTERM)

    cli.serve(sandbox, write=written.append, ready=ready)

    assert written[-1] == "Stopping."
    assert signal.getsignal(signal.SIGTERM) is before
    with pytest.raises(requests.ConnectionError):
        requests.get(rest(sandbox.server, "/V1/store/storeViews"), timeout=5)


def test_simulated_activity_runs_while_serving_and_stops_with_the_store():
    sandbox = cli.build(
        {"port": 0, "seed_orders": 0, "seed_customers": 0, "simulate_activity": 30}, environ={}
    )
    stop = threading.Event()
    running = []

    def ready(server):
        running.append(sandbox.activity._thread.is_alive())
        stop.set()

    cli.serve(sandbox, write=lambda text: None, stop_event=stop, ready=ready)

    assert sandbox.activity.interval == 30
    assert running == [True]
    assert not sandbox.activity._thread.is_alive()


def test_interrupted_seeding_releases_the_port(monkeypatch):
    def interrupted(self, **counts):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.SandboxStore, "seed", interrupted)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(KeyboardInterrupt):
        cli.build({"port": port})

    with socket.socket() as again:
        again.bind(("127.0.0.1", port))


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_a_signal_while_the_banner_is_written_still_stops_cleanly(stop_signal):
    # Ctrl+C used to raise KeyboardInterrupt wherever the main thread was; arriving while the
    # banner was written it escaped as a traceback. Both signals now only ask to stop.
    sandbox = cli.build(
        {"port": 0, "seed_customers": 0, "seed_products": 0, "seed_orders": 0}, environ={}
    )
    written = []

    def write(text):
        written.append(text)
        if len(written) == 1:
            os.kill(os.getpid(), stop_signal)  # in the middle of writing the banner

    cli.serve(sandbox, write=write)
    assert written[-1] == "Stopping."
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

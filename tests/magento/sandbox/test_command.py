"""`manage.py magento_sandbox`: options, printed Store Domain and credentials, serving, stopping."""

import io
import threading

import requests
from django.core.management import call_command

from magento.sandbox import cli
from tests.magento.sandbox.helpers import oauth, rest


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


def test_random_credentials_differ_per_run():
    first = cli.build({"port": 0, "seed_orders": 0}, environ={})
    second = cli.build({"port": 0, "seed_orders": 0}, environ={})
    first.server.stop()
    second.server.stop()

    assert first.server.credentials.access_token != second.server.credentials.access_token
    assert first.server.credentials.admin_password != second.server.credentials.admin_password

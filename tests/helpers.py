"""Helpers for every test folder: the staff password, a sleep that fails, a storeConfigs answer,
a free port, a management command run as manage.py runs it.

Test modules import helpers from here (or from their folder's helpers.py), never from a conftest
or another test module; fixtures live in the conftest files.
"""

import io
import socket

import pytest
from django.core.management import ManagementUtility
from django.core.management import base as management_base

# The password of every staff user the `make_staff` fixture creates.
PASSWORD = "correct horse battery staple"
STORE = "https://shop.example.com"


def no_sleep(seconds):
    """A client's `sleep` for tests that must never wait: asking to wait fails the test."""
    pytest.fail(f"these tests never wait (asked to sleep {seconds} s)")


def store_configs(*codes: str, base: str = STORE) -> list[dict]:
    """A storeConfigs answer (fields as in Magento's store-data-store-config-interface)."""
    configs = []
    for index, code in enumerate(codes or ("default",), start=1):
        configs.append(
            {
                "id": index,
                "code": code,
                "website_id": 1,
                "locale": "en_US",
                "base_currency_code": "EUR",
                "default_display_currency_code": "EUR",
                "timezone": "Europe/Berlin",
                "weight_unit": "kgs",
                "base_url": f"{base}/",
                "base_link_url": f"{base}/",
                "base_static_url": f"{base}/static/",
                "base_media_url": f"{base}/media/",
                "secure_base_url": f"{base}/",
                "secure_base_link_url": f"{base}/",
                "secure_base_static_url": f"{base}/static/",
                "secure_base_media_url": f"{base}/media/",
            }
        )
    return configs


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(monkeypatch, capsys, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    """Run a command as manage.py does (argv, `stdin` as its standard input): its exit status,
    standard output and error."""
    # manage.py closes the database connections at the end; the test transaction needs them.
    monkeypatch.setattr(management_base.connections, "close_all", lambda: None)
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = 0
    try:
        ManagementUtility(["manage.py", *argv]).execute()
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err

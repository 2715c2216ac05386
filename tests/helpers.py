"""Helpers for every test folder: the staff password, a sleep that fails, a storeConfigs answer,
a free port.

Test modules import helpers from here (or from their folder's helpers.py), never from a conftest
or another test module; fixtures live in the conftest files.
"""

import socket

import pytest

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

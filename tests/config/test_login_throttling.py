"""Repeated failed logins are throttled per user name and per address (django-axes)."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse

from config.client_address import client_address
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("admin:login")
LOCKED = "Too many failed logins"


def attempt(client, username, password, address="203.0.113.7", forwarded=None):
    extra = {"REMOTE_ADDR": address}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, **extra
    )


def test_the_right_password_logs_in(client, editor):
    response = attempt(client, editor.username, PASSWORD)
    assert response.status_code == 302


def test_five_wrong_passwords_lock_the_user_name_even_from_other_addresses(client, editor):
    for number in range(4):
        response = attempt(client, editor.username, "wrong", address=f"203.0.113.{number}")
        assert response.status_code == 200
        assert LOCKED not in response.content.decode()
    # The fifth failure is the last one allowed: from then on even the right password waits.
    assert attempt(client, editor.username, "wrong", address="203.0.113.4").status_code == 429
    response = attempt(client, editor.username, PASSWORD, address="198.51.100.1")
    assert response.status_code == 429
    page = response.content.decode()
    assert LOCKED in page
    assert "after 5 failed attempts" in page
    assert "axes_reset_username" in page
    assert PASSWORD not in page


def test_one_address_trying_many_user_names_is_locked(client, editor, auditor):
    for number in range(5):
        attempt(client, f"guess{number}", "wrong", address="192.0.2.9")
    # The right password of a real user from that address is refused too ...
    assert attempt(client, auditor.username, PASSWORD, address="192.0.2.9").status_code == 429
    # ... while the same user from elsewhere still gets in.
    assert attempt(client, auditor.username, PASSWORD, address="192.0.2.10").status_code == 302


def test_a_success_resets_the_count(client, editor):
    for _ in range(4):
        attempt(client, editor.username, "wrong")
    assert attempt(client, editor.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        attempt(client, editor.username, "wrong")
    assert attempt(client, editor.username, PASSWORD).status_code == 302


def test_the_pause_ends_after_the_cool_off(client, editor, settings):
    import datetime as dt

    from axes.models import AccessAttempt

    for _ in range(5):
        attempt(client, editor.username, "wrong")
    assert attempt(client, editor.username, PASSWORD).status_code == 429
    # Age the failures past the cool-off time rather than sleeping.
    AccessAttempt.objects.update(attempt_time=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    assert attempt(client, editor.username, PASSWORD).status_code == 302


class FakeRequest:
    def __init__(self, meta):
        self.META = meta


@pytest.mark.parametrize(
    ("proxies", "meta", "expected"),
    [
        (0, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}, "10.0.0.2"),
        (1, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}, "1.2.3.4"),
        # A client's own X-Forwarded-For text is left of what the trusted proxy appended.
        (1, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 1.2.3.4"}, "1.2.3.4"),
        (
            2,
            {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 1.2.3.4, 10.0.0.9"},
            "1.2.3.4",
        ),
        (1, {"REMOTE_ADDR": "10.0.0.2"}, "10.0.0.2"),
    ],
)
def test_client_address_trusts_only_the_configured_proxies(proxies, meta, expected):
    with override_settings(TRUSTED_PROXY_COUNT=proxies):
        assert client_address(FakeRequest(meta)) == expected


def test_behind_a_proxy_each_client_is_counted_separately(client, editor):
    with override_settings(TRUSTED_PROXY_COUNT=1):
        for number in range(5):
            attempt(client, f"guess{number}", "wrong", address="10.0.0.2", forwarded="192.0.2.50")
        assert (
            attempt(client, editor.username, PASSWORD, address="10.0.0.2", forwarded="192.0.2.50")
        ).status_code == 429
        assert (
            attempt(client, editor.username, PASSWORD, address="10.0.0.2", forwarded="192.0.2.51")
        ).status_code == 302

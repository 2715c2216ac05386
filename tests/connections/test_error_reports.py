"""A crash while saving a connection: Django's error report must not carry a secret."""

from __future__ import annotations

import sys

import pytest
from django.core.signals import got_request_exception
from django.urls import reverse
from django.views.debug import ExceptionReporter

from connections import verification
from magento.auth import ADMIN_TOKEN_PATH, GOOGLE_AUTHENTICATE_PATH
from magento.client import MagentoClient
from tests.connections.helpers import SECRETS, assert_no_secret

pytestmark = pytest.mark.django_db

OAUTH_POSTED = ("access_token", "consumer_key", "consumer_secret", "access_token_secret")


@pytest.mark.parametrize("where", ["before calling the store", "inside the admin sign-in"])
def test_error_report_of_a_crash_during_verification_holds_no_secret(
    client, editor, monkeypatch, settings, where
):
    def crash(*args, **kwargs):
        raise RuntimeError("a bug while checking the store")

    if where == "before calling the store":
        monkeypatch.setattr(verification, "_preflight", crash)
    else:
        # Deep in the client, whose frames hold the sign-in body with the password.
        original_send = MagentoClient._send

        def crash_on_sign_in(self, method, url, path, body, *rest):
            if path in (ADMIN_TOKEN_PATH, GOOGLE_AUTHENTICATE_PATH):
                assert SECRETS["admin_password"].encode() in body  # it is in this frame
                crash()
            return original_send(self, method, url, path, body, *rest)

        settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
        monkeypatch.setattr(MagentoClient, "_send", crash_on_sign_in)
    reports: list[str] = []

    def report(sender, request, **kwargs):
        # What Django mails to ADMINS (and shows with DEBUG on) for an unhandled error.
        reporter = ExceptionReporter(request, *sys.exc_info())
        reports.append(reporter.get_traceback_text() + reporter.get_traceback_html())

    got_request_exception.connect(report)
    client.raise_request_exception = False
    client.force_login(editor)
    try:
        response = client.post(
            reverse("admin:connections_connection_add"),
            {
                "name": "Main store",
                "store_domain": "shop.example.com",
                "auth_method": "session",
                "admin_username": "portal-bot",
                "admin_password": SECRETS["admin_password"],
                "totp_secret": SECRETS["totp_secret"],
                "store_code": "all",
                "timeout_seconds": "30",
                "_save": "Save",
            },
        )
    finally:
        got_request_exception.disconnect(report)
    assert response.status_code == 500
    assert len(reports) == 1
    assert "a bug while checking the store" in reports[0]  # the report is the real one
    assert "admin_password" in reports[0]  # the field is listed, its value is not
    assert "secrets" in reports[0]  # the checking function's variable, hidden
    assert_no_secret(reports[0])


@pytest.mark.parametrize("page", ["add", "change"])
def test_debug_500_page_hides_the_posted_credentials(
    client, editor, monkeypatch, settings, make_connection, page
):
    # With DJANGO_DEBUG=true Django shows its technical 500 page, whose POST section would list
    # the form's values: Django's own filter is off while DEBUG is on, ours is not.
    settings.DEBUG = True

    def crash(*args, **kwargs):
        raise RuntimeError("a bug while checking the store")

    monkeypatch.setattr(verification, "_preflight", crash)
    if page == "add":
        url = reverse("admin:connections_connection_add")
    else:
        url = reverse("admin:connections_connection_change", args=[make_connection().pk])
    client.raise_request_exception = False
    client.force_login(editor)
    response = client.post(
        url,
        {
            "name": "Main store",
            "store_domain": "shop.example.com",
            "auth_method": "integration_token",
            **{name: SECRETS[name] for name in OAUTH_POSTED},
            "store_code": "all",
            "timeout_seconds": "30",
            "_save": "Save",
        },
    )
    assert response.status_code == 500
    debug_page = response.content.decode()
    assert "a bug while checking the store" in debug_page  # the technical page itself
    assert "consumer_secret" in debug_page  # the field is listed, its value is not
    assert_no_secret(debug_page)

"""Secrets end to end, with every authentication method against the sandbox store over HTTP.

The connection is made through the admin form and tested; an automation polls and runs its
step; actions run from the "Run an action" page (succeeding, refused by the store echoing the
input, and refused with a 401); every admin page is rendered; a 500 is raised with DEBUG on.
Then no secret (each credential, each admin token the store issued, the TOTP secret, every
one-time code the portal generated) may appear anywhere but in its encrypted column: in any
column of any table (read with raw SQL), in any log record (every logger at DEBUG), in any page,
in run records, in exception text, or on the DEBUG error page. Only the store may see them.
"""

from __future__ import annotations

import io
import logging
import re

import pytest
from django.core.management import call_command
from django.db import connection as database
from django.urls import reverse

from automations.models import ActionRun, AutomationStep, TriggerEvent
from automations.polling import subscription_poll
from automations.runs import event_runs_execute
from automations.services import automation_create
from connections import verification
from connections.models import Connection, EncryptedCredentialField
from magento import auth as magento_auth
from tests.security.helpers import pages
from tests.security.objects import PortalObjects

pytestmark = pytest.mark.django_db

METHODS = ("bearer", "oauth", "session", "session_2fa")
RUN_URL = reverse("admin:automations_actionrun_run_action")


@pytest.fixture
def one_time_codes(monkeypatch):
    """Every one-time code the portal generates for a 2FA sign-in."""
    made: list[str] = []

    class RecordingTOTP(magento_auth.TOTP):
        def at(self, *args, **kwargs):
            code = super().at(*args, **kwargs)
            made.append(code)
            return code

    monkeypatch.setattr(magento_auth, "TOTP", RecordingTOTP)
    return made


def form_for(method: str, server) -> dict:
    c = server.credentials
    data = {
        "name": f"Sandbox {method}",
        "store_domain": server.url,
        "allow_plain_http": "on",
        "store_code": "all",
        "verify_tls": "on",
        "timeout_seconds": "30",
        "_save": "Save",
    }
    if method in ("bearer", "oauth"):
        data.update(auth_method="integration_token", access_token=c.access_token)
    if method == "oauth":
        data.update(
            consumer_key=c.consumer_key,
            consumer_secret=c.consumer_secret,
            access_token_secret=c.access_token_secret,
        )
    if method.startswith("session"):
        data.update(
            auth_method="session",
            admin_username=c.admin_username,
            admin_password=c.admin_password,
        )
    if method == "session_2fa":
        data["totp_secret"] = c.totp_secret
    return data


def secrets_of(method: str, server, codes: list[str]) -> dict[str, str]:
    c = server.credentials
    used = {
        "bearer": ("access_token",),
        "oauth": ("access_token", "consumer_key", "consumer_secret", "access_token_secret"),
        "session": ("admin_password",),
        "session_2fa": ("admin_password", "totp_secret"),
    }[method]
    found = {name: getattr(c, name) for name in used}
    for number, token in enumerate(server.auth._admin_tokens):
        found[f"admin token {number}"] = token
    for number, code in enumerate(codes):
        found[f"one-time code {number}"] = code
    return found


def database_dump() -> str:
    """Every column of every row of every table, by raw SQL, but the encrypted credentials."""
    encrypted = {
        field.column
        for field in Connection._meta.concrete_fields
        if isinstance(field, EncryptedCredentialField)
    }
    lines = []
    with database.cursor() as cursor:
        for table in database.introspection.table_names(cursor):
            # Table names come from introspection, not from input.
            cursor.execute(f'SELECT * FROM "{table}"')
            columns = [column[0] for column in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if table == Connection._meta.db_table and column in encrypted:
                        continue
                    lines.append(f"{table}.{column}={value!s}")
    return "\n".join(lines)


def leaks(text: str, secrets: dict[str, str]) -> list[str]:
    found = []
    for name, value in secrets.items():
        if name.startswith("one-time code"):
            # Six digits: only a code standing alone counts (not inside a longer number).
            if re.search(rf"(?<![\d.]){value}(?!\d)", text):
                found.append(name)
        elif value and value in text:
            found.append(name)
    return found


@pytest.mark.parametrize("method", METHODS)
def test_no_secret_outside_its_encrypted_column(
    method, sandbox_factory, settings, caplog, client, make_staff, one_time_codes, monkeypatch
):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
    caplog.set_level(logging.DEBUG)
    server = sandbox_factory(
        bearer_enabled=method == "bearer",
        two_factor_enabled=method == "session_2fa",
        seed={"customers": 3, "products": 2, "orders": 2},
    )
    superuser = make_staff("sue-superuser", is_superuser=True)
    client.force_login(superuser)
    seen: list[str] = []  # every page and text the portal showed

    # The connection, through the admin form, then its Test connection button.
    response = client.post(reverse("admin:connections_connection_add"), form_for(method, server))
    assert response.status_code == 302, response.content.decode()[:3000]
    connection = Connection.objects.get()
    assert connection.status == "verified"
    response = client.post(
        reverse("admin:connections_connection_test", args=[connection.pk]), follow=True
    )
    seen.append(response.content.decode())

    # An automation that polls new customers and looks each one up again.
    made = automation_create(
        name="Look up new customers",
        connection=connection,
        trigger_id="customer_created",
        options={"start": "all"},
    )
    AutomationStep.objects.create(
        automation=made,
        position=1,
        action_id="get_customer_by_email",
        connection=connection,
        inputs={"email": "{{ trigger.email }}"},
    )
    result = subscription_poll(subscription_id=made.trigger.pk)
    assert result.ok, result
    events = list(TriggerEvent.objects.all())
    assert len(events) == 3
    for event in events:
        event_runs_execute(event.id)
    assert ActionRun.objects.filter(status="succeeded").count() == 3

    # Manual runs: one that succeeds, one the store refuses echoing the input, and a 401.
    sku = server.store.products.rows[next(iter(server.store.products.rows))]["sku"]
    existing_email = events[0].record["email"]
    runs = [
        ("get_product_by_sku", {"sku": sku}, "succeeded"),
        (
            "create_customer",
            {"email": existing_email, "firstname": "Ann", "lastname": "Lee"},
            "failed",
        ),
    ]
    for action_id, inputs, status in runs:
        data = {"connection": connection.pk, "action": action_id, "run": "Run", **inputs}
        response = client.post(RUN_URL, data)
        seen.append(response.content.decode())
        assert ActionRun.objects.order_by("-pk").first().status == status
    server.faults.add("expired_token", path="*", times=10)
    response = client.post(
        RUN_URL,
        {"connection": connection.pk, "action": "get_product_by_sku", "run": "Run", "sku": sku},
    )
    seen.append(response.content.decode())
    if not method.startswith("session"):
        # A token the store refuses fails the run (a session signs in again and goes on).
        assert ActionRun.objects.order_by("-pk").first().status == "failed"
    server.faults.clear()

    # The automations as exported (configuration as code never carries a secret).
    exported = io.StringIO()
    call_command("export_automations", stdout=exported, stderr=io.StringIO())
    assert "Look up new customers" in exported.getvalue()
    seen.append(exported.getvalue())

    # Every admin page, listed by the access walk's helpers, as the superuser.
    for page in pages(PortalObjects()):
        if page.kind in ("delete",) or "logout" in page.url:
            continue
        response = client.get(page.url)
        assert response.status_code < 500, page
        body = b"".join(response.streaming_content) if response.streaming else response.content
        seen.append(body.decode(errors="replace"))

    # A crash with DEBUG on: Django's technical page, with the client and its token in frames.
    settings.DEBUG = True

    def crash(*args, **kwargs):
        raise RuntimeError("a bug while checking the store")

    original = verification.connection_check

    def check_then_crash(*, connection, **kwargs):
        result = original(connection=connection, **kwargs)  # signed in: a token in memory
        assert result.ok
        crash()

    monkeypatch.setattr("connections.forms.connection_check", check_then_crash)
    client.raise_request_exception = False
    change = reverse("admin:connections_connection_change", args=[connection.pk])
    response = client.post(change, {**form_for(method, server), "name": "Renamed"})
    assert response.status_code == 500
    debug_page = response.content.decode()
    assert "a bug while checking the store" in debug_page
    seen.append(debug_page)

    secrets = secrets_of(method, server, one_time_codes)
    if method.startswith("session"):
        assert any(name.startswith("admin token") for name in secrets)
    if method == "session_2fa":
        assert one_time_codes, "no one-time code was generated"
    problems = {
        "database": leaks(database_dump(), secrets),
        "logs": leaks("\n".join(record.getMessage() for record in caplog.records), secrets),
        "log exceptions": leaks("\n".join(caplog.text.splitlines()), secrets),
        "pages": leaks("\n".join(seen), secrets),
    }
    assert not any(problems.values()), problems

"""Secrets are encrypted at rest and never leave the portal: pages, logs, history, commands."""

from __future__ import annotations

import io
import logging

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.db import connection as db
from django.urls import reverse

from connections.models import SECRET_FIELDS, Connection
from tests.connections.helpers import (
    ADMIN_TOKEN,
    SECRETS,
    assert_no_secret,
    healthy_store,
    session_fields,
)

pytestmark = pytest.mark.django_db


def raw_row(pk: int) -> dict[str, bytes]:
    columns = [*SECRET_FIELDS, "admin_token"]
    with db.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM connections_connection WHERE id = %s", [pk]
        )
        row = cursor.fetchone()
    return {name: bytes(value) for name, value in zip(columns, row, strict=True)}


def test_credentials_are_encrypted_in_the_database_and_read_back(make_connection):
    connection = make_connection(**{k: v for k, v in SECRETS.items() if k != "admin_password"})
    connection.admin_token = ADMIN_TOKEN
    connection.save()
    raw = raw_row(connection.pk)
    for name, value in {**SECRETS, "admin_token": ADMIN_TOKEN}.items():
        if name == "admin_password":
            continue
        assert value.encode() not in raw[name], f"{name} stored in clear"
        assert len(raw[name]) > len(value)
    fresh = Connection.objects.get(pk=connection.pk)
    assert fresh.access_token == SECRETS["access_token"]
    assert fresh.consumer_secret == SECRETS["consumer_secret"]
    assert fresh.totp_secret == SECRETS["totp_secret"]
    assert fresh.admin_token == ADMIN_TOKEN


def test_same_secret_encrypts_differently_each_time(make_connection):
    one = make_connection(name="One")
    two = make_connection(name="Two")
    assert raw_row(one.pk)["access_token"] != raw_row(two.pk)["access_token"]


def test_repr_and_str_hold_no_secret(make_connection):
    connection = make_connection(**{k: v for k, v in SECRETS.items() if k != "admin_password"})
    assert_no_secret(repr(connection) + str(connection))


def test_nothing_secret_in_logs_of_a_full_add_and_verify(
    caplog, editor_client, store_mock, settings
):
    caplog.set_level(logging.DEBUG)
    store_mock.add(
        "POST", "https://shop.example.com/rest/V1/integration/admin/token", json=ADMIN_TOKEN
    )
    healthy_store(store_mock)
    data = {
        **session_fields(),
        "store_code": "all",
        "verify_tls": "on",
        "timeout_seconds": "30",
        "_save": "Save",
    }
    response = editor_client.post(reverse("admin:connections_connection_add"), data)
    assert response.status_code == 302
    assert Connection.objects.get().status == "verified"
    logged = "\n".join(r.getMessage() + repr(r.args) for r in caplog.records)
    assert "saved" in logged  # the log did capture the operation
    assert_no_secret(logged)


def test_admin_history_names_fields_but_never_values(editor_client, store_mock, make_connection):
    connection = make_connection()
    healthy_store(store_mock)
    new_token = "n3wTokenAAAAbbbbCCCCddddEEEE99"
    url = reverse("admin:connections_connection_change", args=[connection.pk])
    response = editor_client.post(
        url,
        {
            "name": "Main store",
            "store_domain": "shop.example.com",
            "auth_method": "integration_token",
            "access_token": new_token,
            "store_code": "all",
            "verify_tls": "on",
            "timeout_seconds": "30",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    entries = list(LogEntry.objects.all())
    assert entries
    text = " ".join(e.change_message + e.get_change_message() + e.object_repr for e in entries)
    assert "Access Token" in text
    assert new_token not in text
    assert_no_secret(text)
    history = editor_client.get(
        reverse("admin:connections_connection_history", args=[connection.pk])
    ).content.decode()
    assert new_token not in history


def test_commands_never_print_secrets(store_mock, make_connection):
    healthy_store(store_mock)
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "add_connection",
        "--name",
        "Scripted",
        "--store-domain",
        "shop.example.com",
        "--access-token",
        SECRETS["access_token"],
        stdout=out,
        stderr=err,
    )
    assert_no_secret(out.getvalue() + err.getvalue())


@pytest.mark.parametrize("export_format", ["json", "xml", "yaml"])
def test_exports_leave_credentials_out(make_connection, export_format):
    if export_format == "yaml":
        pytest.importorskip("yaml")
    connection = make_connection(**{k: v for k, v in SECRETS.items() if k != "admin_password"})
    connection.admin_token = ADMIN_TOKEN
    connection.save()
    out = io.StringIO()
    call_command("dumpdata", "connections", format=export_format, stdout=out)
    exported = out.getvalue()
    assert "Main store" in exported  # the export did include the connection
    assert_no_secret(exported)
    # The database still holds them: only the export leaves them out.
    assert Connection.objects.get(pk=connection.pk).access_token == SECRETS["access_token"]


def test_session_credentials_round_trip_encrypted(make_connection):
    from connections.models import AuthMethod

    connection = make_connection(auth_method=AuthMethod.SESSION, totp_secret=SECRETS["totp_secret"])
    raw = raw_row(connection.pk)
    assert SECRETS["admin_password"].encode() not in raw["admin_password"]
    assert SECRETS["totp_secret"].encode() not in raw["totp_secret"]
    fresh = Connection.objects.get(pk=connection.pk)
    assert fresh.admin_password == SECRETS["admin_password"]
    assert fresh.totp_secret == SECRETS["totp_secret"]

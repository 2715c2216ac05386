"""Saves and checks that meet someone else's change answer with a message, never a 500."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.core.exceptions import ValidationError
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from connections import diagnosis as dx
from connections import forms, services, verification
from connections.models import Connection, ConnectionStatus
from connections.services import connection_create, connection_update
from connections.verification import VerificationResult
from tests.connections.helpers import (
    ADD_URL,
    LIST_URL,
    assert_no_secret,
    change_url,
    form_data,
    token_fields,
)

pytestmark = pytest.mark.django_db

TEST_NOT_KEPT = "deleted or saved by someone else during the test, so its outcome was not kept"
DUPLICATE = "A connection named 'Main store' already exists; choose another name."


def result(code: str) -> VerificationResult:
    return VerificationResult(diagnosis=dx.make_diagnosis(code), checked_at=timezone.now())


def check_that_first(monkeypatch, module, meanwhile, code=dx.VERIFIED):
    """Replace the store check in `module`: it runs `meanwhile`, then answers with `code`."""

    def check(*, connection, **overrides):
        meanwhile(connection)
        return result(code)

    monkeypatch.setattr(module, "connection_check", check)


def test_test_button_on_a_connection_deleted_during_the_check(
    editor_client, make_connection, monkeypatch
):
    connection = make_connection(status=ConnectionStatus.UNVERIFIED)
    check_that_first(
        monkeypatch, verification, lambda c: Connection.objects.filter(pk=c.pk).delete()
    )
    url = reverse("admin:connections_connection_test", args=[connection.pk])
    response = editor_client.post(url, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Main store: {TEST_NOT_KEPT}" in page
    assert "Main store: verified." not in page
    assert not Connection.objects.exists()


def test_test_action_on_a_connection_saved_with_other_credentials_during_the_check(
    editor_client, make_connection, monkeypatch
):
    connection = make_connection(status=ConnectionStatus.VERIFIED)

    def save_new_credentials(checked):
        Connection.objects.filter(pk=checked.pk).update(
            credentials_version=F("credentials_version") + 1
        )

    check_that_first(monkeypatch, verification, save_new_credentials, code=dx.TOKEN_REJECTED)
    response = editor_client.post(
        LIST_URL,
        {"action": "test_connections", "_selected_action": [connection.pk]},
        follow=True,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Main store: {TEST_NOT_KEPT}" in page
    # The refusal belonged to the old credentials: the row keeps its state.
    stored = Connection.objects.values("status", "last_error_code", "last_checked_at").get()
    assert stored == {"status": "verified", "last_error_code": "", "last_checked_at": None}


def test_admin_save_of_a_connection_deleted_meanwhile(editor_client, make_connection, monkeypatch):
    connection = make_connection()
    check_that_first(monkeypatch, forms, lambda c: Connection.objects.filter(pk=c.pk).delete())
    response = editor_client.post(
        change_url(connection), form_data(name="Renamed", access_token=""), follow=True
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "This connection was deleted while it was being edited; nothing was saved." in page
    assert response.redirect_chain[-1][0] == LIST_URL
    assert not Connection.objects.exists()
    assert not LogEntry.objects.exists()
    assert_no_secret(page)


def test_update_of_a_connection_deleted_meanwhile_raises_does_not_exist(make_connection):
    connection = make_connection()
    Connection.objects.filter(pk=connection.pk).delete()
    with pytest.raises(Connection.DoesNotExist, match="deleted while it was being edited"):
        connection_update(connection=connection, changes={"name": "Renamed"}, verify=False)
    assert not Connection.objects.exists()


def another_save_takes_the_name(monkeypatch):
    """Between validation and the insert, another request saves a connection with the name."""
    real = services.connection_validate

    def validate_then_lose_the_race(connection):
        real(connection)
        Connection.objects.create(
            **token_fields(name="MAIN STORE", store_domain="https://shop.example.com")
        )

    monkeypatch.setattr(services, "connection_validate", validate_then_lose_the_race)


def test_create_that_loses_a_race_for_the_name_gets_the_validation_message(monkeypatch):
    another_save_takes_the_name(monkeypatch)
    with pytest.raises(ValidationError) as caught:
        connection_create(**token_fields(), verify=False)
    assert caught.value.message_dict == {"name": [DUPLICATE]}
    assert list(Connection.objects.values_list("name", flat=True)) == ["MAIN STORE"]


def test_admin_add_that_loses_a_race_for_the_name_says_so(editor_client, monkeypatch):
    another_save_takes_the_name(monkeypatch)
    check_that_first(monkeypatch, forms, lambda c: None)
    response = editor_client.post(ADD_URL, form_data(), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == ADD_URL
    page = response.content.decode()
    assert escape(DUPLICATE) in page
    assert_no_secret(page)
    assert list(Connection.objects.values_list("name", flat=True)) == ["MAIN STORE"]
    assert not LogEntry.objects.exists()


def test_update_refuses_fields_people_do_not_edit(make_connection):
    connection = make_connection(status=ConnectionStatus.FAILED)
    with pytest.raises(ValueError, match=r"^Not editable: credentials_version, status$"):
        connection_update(
            connection=connection,
            changes={"status": ConnectionStatus.VERIFIED, "credentials_version": 9, "name": "X"},
            verify=False,
        )
    stored = Connection.objects.values("name", "status", "credentials_version").get()
    assert stored == {"name": "Main store", "status": "failed", "credentials_version": 0}

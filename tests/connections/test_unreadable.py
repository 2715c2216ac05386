"""After a key change without re-encryption the portal stays usable and says what happened."""

from __future__ import annotations

import pickle

import pytest
from django.db import connection as db
from django.urls import reverse

from connections import diagnosis as dx
from connections.keys import _fernet
from connections.models import Connection
from connections.verification import connection_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def unreadable_connection(make_connection):
    connection = make_connection(name="Old keys shop")
    old = _fernet(secret_key="a-previous-secret-key", cryptography_key="a-previous-crypto-key")
    with db.cursor() as cursor:
        cursor.execute(
            "UPDATE connections_connection SET access_token = %s WHERE id = %s",
            [old.encrypt(pickle.dumps("some-token")), connection.pk],
        )
    return connection


def test_list_still_works(editor_client, unreadable_connection):
    response = editor_client.get(reverse("admin:connections_connection_changelist"))
    assert response.status_code == 200
    assert "Old keys shop" in response.content.decode()


def test_change_page_explains_instead_of_crashing(editor_client, unreadable_connection):
    url = reverse("admin:connections_connection_change", args=[unreadable_connection.pk])
    response = editor_client.get(url, follow=True)
    assert response.status_code == 200
    assert "The saved credentials cannot be decrypted" in response.content.decode()


def test_test_button_records_the_diagnosis(editor_client, unreadable_connection):
    url = reverse("admin:connections_connection_test", args=[unreadable_connection.pk])
    response = editor_client.post(url, follow=True)
    assert "cannot be decrypted" in response.content.decode()
    status = Connection.objects.filter(pk=unreadable_connection.pk).values_list(
        "status", "last_error_code"
    )
    assert list(status) == [("failed", dx.CREDENTIALS_UNREADABLE)]


def test_verify_service_reports_unreadable_credentials(unreadable_connection):
    connection = Connection.objects.defer("access_token").get(pk=unreadable_connection.pk)
    result = connection_verify(connection=connection)
    assert result.diagnosis.code == dx.CREDENTIALS_UNREADABLE
    assert result.diagnosis.links[0].url == "/connections/guide/#keys"

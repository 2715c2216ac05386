"""connection_client_for_task: one ConnectionUnusable for every reason a task cannot start."""

from __future__ import annotations

import pickle

import pytest
from django.db import connection as db

from connections import diagnosis as dx
from connections.clients import ConnectionUnusable, connection_client_for_task
from connections.keys import _fernet
from magento.auth import AdminSessionAuth, IntegrationTokenAuth
from magento.client import MagentoClient
from tests.connections.helpers import SECRETS, assert_no_secret

pytestmark = pytest.mark.django_db


def test_a_usable_connection_gives_a_client_with_its_settings(make_connection):
    connection = make_connection(store_code="default", timeout_seconds=45)
    client = connection_client_for_task(connection.pk)
    assert isinstance(client, MagentoClient)
    assert isinstance(client.auth, IntegrationTokenAuth)
    assert client.store_code == "default"
    assert client.timeout == (10.0, 45.0)


def test_a_session_connection_shares_the_token_cache_of_its_row(make_connection):
    connection = make_connection(auth_method="session")
    client = connection_client_for_task(connection.pk)
    assert isinstance(client.auth, AdminSessionAuth)
    assert client.auth._cache.connection_id == connection.pk


def test_unknown_id(db):
    with pytest.raises(ConnectionUnusable) as caught:
        connection_client_for_task(987654)
    assert caught.value.code == "connection_gone"
    assert "no longer exists" in caught.value.message
    assert caught.value.connection_id == 987654


def test_unreadable_credentials(make_connection):
    connection = make_connection(name="Old keys shop")
    old = _fernet(secret_key="a-previous-secret-key", cryptography_key="a-previous-crypto-key")
    with db.cursor() as cursor:
        cursor.execute(
            "UPDATE connections_connection SET access_token = %s WHERE id = %s",
            [old.encrypt(pickle.dumps(SECRETS["access_token"])), connection.pk],
        )
    with pytest.raises(ConnectionUnusable) as caught:
        connection_client_for_task(connection.pk)
    assert caught.value.code == dx.CREDENTIALS_UNREADABLE
    assert "Old keys shop" in caught.value.message
    assert_no_secret(caught.value.message)


def test_invalid_store_domain(make_connection):
    connection = make_connection()
    type(connection).objects.filter(pk=connection.pk).update(store_domain="https://exa mple.com")
    with pytest.raises(ConnectionUnusable) as caught:
        connection_client_for_task(connection.pk)
    assert caught.value.code == dx.UNEXPECTED
    assert "Store Domain" in caught.value.message


def test_plain_http_without_the_opt_in(make_connection):
    connection = make_connection(store_domain="http://shop.example.com", allow_plain_http=False)
    with pytest.raises(ConnectionUnusable) as caught:
        connection_client_for_task(connection.pk)
    assert caught.value.code == dx.PLAIN_HTTP


def test_plain_http_with_the_opt_in_is_usable(make_connection):
    connection = make_connection(store_domain="http://shop.example.com", allow_plain_http=True)
    assert connection_client_for_task(connection.pk).address.scheme == "http"


def test_malformed_saved_token(make_connection):
    connection = make_connection(access_token="line\nbreak")
    with pytest.raises(ConnectionUnusable) as caught:
        connection_client_for_task(connection.pk)
    assert caught.value.code == dx.UNEXPECTED
    assert "line\nbreak" not in caught.value.message

"""connection_client_for_task: one ConnectionUnusable for every reason a task cannot start."""

from __future__ import annotations

import pickle

import pytest
from django.db import connection as db

from connections import diagnosis as dx
from connections.clients import (
    ConnectionUnusable,
    TaskClientCache,
    connection_client_for_task,
    connection_task_client,
)
from connections.keys import _fernet
from connections.models import Connection
from connections.services import connection_update
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


# -- clients kept between tasks ------------------------------------------------------------------


def test_a_task_client_is_kept_and_checked_with_one_query(
    make_connection, django_assert_num_queries
):
    connection = make_connection()
    first = connection_task_client(connection.pk, max_retries=0)
    with django_assert_num_queries(1):
        again = connection_task_client(connection.pk, max_retries=0)
    assert again is first and again.kept
    assert again.secrets() == [SECRETS["access_token"]]
    # Other client options are another client.
    assert connection_task_client(connection.pk, max_retries=2) is not first


def test_new_credentials_saved_by_a_person_make_a_new_client(make_connection):
    connection = make_connection()
    kept = connection_task_client(connection.pk)
    connection_update(
        connection=connection, changes={"access_token": "a-new-integration-token"}, verify=False
    )
    fresh = connection_task_client(connection.pk)
    assert fresh is not kept
    assert fresh.client.auth.secrets() == ("a-new-integration-token",)
    assert fresh.secrets() == ["a-new-integration-token"]


def test_a_credential_written_without_a_save_makes_a_new_client(make_connection):
    connection = make_connection()
    kept = connection_task_client(connection.pk)
    # An UPDATE changes neither updated_at nor credentials_version; the stored value changes.
    Connection.objects.filter(pk=connection.pk).update(access_token="rotated-by-an-update")
    fresh = connection_task_client(connection.pk)
    assert fresh is not kept
    assert fresh.client.auth.secrets() == ("rotated-by-an-update",)


def test_a_kept_client_is_not_used_once_the_credentials_are_unreadable(make_connection):
    connection = make_connection(name="Old keys shop")
    connection_task_client(connection.pk)
    old = _fernet(secret_key="a-previous-secret-key", cryptography_key="a-previous-crypto-key")
    with db.cursor() as cursor:
        cursor.execute(
            "UPDATE connections_connection SET access_token = %s WHERE id = %s",
            [old.encrypt(pickle.dumps(SECRETS["access_token"])), connection.pk],
        )
    with pytest.raises(ConnectionUnusable) as caught:
        connection_task_client(connection.pk)
    assert caught.value.code == dx.CREDENTIALS_UNREADABLE


def test_a_kept_client_is_not_used_once_the_connection_is_deleted(make_connection):
    connection = make_connection()
    connection_task_client(connection.pk)
    connection_id = connection.pk
    connection.delete()
    with pytest.raises(ConnectionUnusable) as caught:
        connection_task_client(connection_id)
    assert caught.value.code == "connection_gone"


def test_options_that_are_objects_get_a_client_of_their_own(make_connection):
    connection = make_connection()
    sleeps: list[float] = []
    first = connection_task_client(connection.pk, sleep=sleeps.append)
    assert not first.kept
    assert connection_task_client(connection.pk, sleep=sleeps.append) is not first


def test_the_cache_keeps_at_most_its_size_and_drops_the_oldest(make_connection):
    cache = TaskClientCache(size=2)
    connection = make_connection()
    clients = [connection_task_client(connection.pk, read_timeout=float(n)) for n in (1, 2, 3)]
    for number, task_client in enumerate(clients):
        cache.put(("k", number), "same", task_client)
    assert len(cache) == 2
    assert cache.get(("k", 0), "same") is None
    assert cache.get(("k", 2), "same") is clients[2]
    assert cache.get(("k", 2), "changed") is None  # another fingerprint: dropped
    assert len(cache) == 1

"""The way a store signs OAuth paths is learned once per connection, then kept for every client."""

from __future__ import annotations

import pytest
import requests

from connections.clients import connection_client, connection_client_for_task
from connections.models import Connection

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_network_allowed(settings):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True


def statuses(session):
    seen = []
    session.hooks["response"].append(lambda response, *a, **k: seen.append(response.status_code))
    return seen


@pytest.fixture
def old_store(sandbox_factory):
    server = sandbox_factory(oauth_path_signing="decoded")
    server.store.product_save({"sku": "tee/red", "name": "Red tee", "price": 10})
    return server


def oauth_connection(make_connection, server):
    c = server.credentials
    return make_connection(
        name="Old store",
        store_domain=server.url,
        allow_plain_http=True,
        access_token=c.access_token,
        consumer_key=c.consumer_key,
        consumer_secret=c.consumer_secret,
        access_token_secret=c.access_token_secret,
    )


def test_the_way_is_learned_by_one_client_and_used_by_the_next(old_store, make_connection):
    connection = oauth_connection(make_connection, old_store)
    assert connection.oauth_path_signing == ""

    first = requests.Session()
    seen = statuses(first)
    with connection_client_for_task(connection.pk, session=first) as client:
        assert client.products.get("tee/red")["sku"] == "tee/red"
    assert seen == [401, 200]  # refused the RFC 5849 way once, accepted the decoded way
    assert Connection.objects.get(pk=connection.pk).oauth_path_signing == "decoded"

    second = requests.Session()
    seen = statuses(second)
    with connection_client_for_task(connection.pk, session=second) as client:
        assert client.products.get("tee/red")["sku"] == "tee/red"
    assert seen == [200]  # signed the remembered way at once


def test_an_unsaved_connection_learns_without_writing(old_store):
    c = old_store.credentials
    connection = Connection(
        name="Not saved",
        store_domain=old_store.url,
        allow_plain_http=True,
        access_token=c.access_token,
        consumer_key=c.consumer_key,
        consumer_secret=c.consumer_secret,
        access_token_secret=c.access_token_secret,
    )
    with connection_client(connection) as client:
        assert client.products.get("tee/red")["sku"] == "tee/red"
    assert connection.oauth_path_signing == "decoded"
    assert not Connection.objects.exists()

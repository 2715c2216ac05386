"""The store is called while no database transaction is open (SQLite would stay locked)."""

from __future__ import annotations

import pytest
from django.db import connection as db
from django.urls import reverse

from connections import forms, services, verification
from tests.connections.helpers import SECRETS, healthy_store

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def atomic_state_during_check(monkeypatch):
    seen: list[bool] = []
    real = verification.connection_check

    def spy(**kwargs):
        seen.append(db.in_atomic_block)
        return real(**kwargs)

    monkeypatch.setattr(forms, "connection_check", spy)
    monkeypatch.setattr(services, "connection_check", spy)
    monkeypatch.setattr(verification, "connection_check", spy)
    return seen


def test_admin_add_calls_the_store_outside_a_transaction(
    client, editor, store_mock, atomic_state_during_check
):
    client.force_login(editor)
    healthy_store(store_mock)
    response = client.post(
        reverse("admin:connections_connection_add"),
        {
            "name": "Main store",
            "store_domain": "shop.example.com",
            "auth_method": "integration_token",
            "access_token": SECRETS["access_token"],
            "store_code": "all",
            "verify_tls": "on",
            "timeout_seconds": "30",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    assert atomic_state_during_check == [False]


def test_verify_calls_the_store_outside_a_transaction(
    store_mock, make_connection, atomic_state_during_check
):
    connection = make_connection()
    healthy_store(store_mock)
    assert verification.connection_verify(connection=connection).ok
    assert atomic_state_during_check == [False]

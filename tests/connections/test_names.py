"""Connection names are unique as people read them: case and Unicode forms folded alike everywhere.

The duplicate check and the unique constraint share one key (NFKC + casefold, computed in Python),
so SQLite, whose LOWER() folds ASCII only, judges "Ärger Shop" and "ärger shop" as PostgreSQL does.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils.html import escape

from connections import services
from connections.models import AuthMethod, Connection, connection_name_key
from connections.selectors import connection_get_by_name
from connections.services import connection_create
from tests.connections.helpers import token_fields
from tests.connections.test_admin import ADD_URL, form_data

SAME_NAMES = [
    ("Ärger Shop", "ärger shop"),
    ("Ärger Shop", "ÄRGER SHOP"),
    ("Ärger Shop", "A\u0308rger Shop"),  # A + combining diaeresis: the same letters on screen
    ("Straße", "STRASSE"),
    ("Main store", "\uff2d\uff41\uff49\uff4e \uff53\uff54\uff4f\uff52\uff45"),  # full-width
    ("Rennen Ä", "  rennen ä  "),
]


def duplicate(name: str) -> str:
    return f"A connection named '{name.strip()}' already exists; choose another name."


@pytest.mark.parametrize(("saved", "typed"), SAME_NAMES)
def test_names_that_read_the_same_share_one_key(saved, typed):
    assert connection_name_key(saved) == connection_name_key(typed)


@pytest.mark.django_db
@pytest.mark.parametrize(("saved", "typed"), SAME_NAMES)
def test_the_service_refuses_a_name_that_reads_the_same(saved, typed):
    connection_create(**token_fields(name=saved), verify=False)
    with pytest.raises(ValidationError) as caught:
        connection_create(**token_fields(name=typed), verify=False)
    assert caught.value.message_dict == {"name": [duplicate(typed)]}
    assert list(Connection.objects.values_list("name", flat=True)) == [saved]
    assert connection_get_by_name(typed).name == saved


@pytest.mark.django_db
def test_the_database_refuses_a_name_that_reads_the_same_even_without_the_service(make_connection):
    from django.db import IntegrityError, transaction

    make_connection(name="Ärger Shop")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_connection(name="ärger shop")


@pytest.mark.django_db
def test_different_names_stay_apart():
    for name in ("Rennen A", "Rennen Ä", "Rennen Æ"):
        connection_create(**token_fields(name=name), verify=False)
    assert Connection.objects.count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize(("saved", "typed"), [("Main store", "MAIN STORE"), *SAME_NAMES[:3]])
def test_the_admin_says_a_duplicate_once_in_plain_words(
    editor_client, make_connection, saved, typed
):
    make_connection(name=saved)
    response = editor_client.post(ADD_URL, form_data(name=typed))
    assert response.status_code == 200
    page = response.content.decode()
    errors = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', page, re.S)
    assert errors == [f"<li>{escape(duplicate(typed))}</li>"]
    assert "Constraint" not in page
    assert Connection.objects.count() == 1


@pytest.fixture
def file_database(tmp_path, django_db_blocker):
    """The default database as an SQLite file, migrated, for tests with several threads.

    The in-memory test database is shared through SQLite's shared cache, whose table locks fail
    at once instead of waiting; a file locks as the portal's database does. Threads open their
    own connections with these settings; the in-memory database is left untouched.
    """
    saved_settings = connections.settings[DEFAULT_DB_ALIAS]
    in_memory = connections[DEFAULT_DB_ALIAS]
    connections.settings[DEFAULT_DB_ALIAS] = {
        **saved_settings,
        "NAME": str(tmp_path / "portal.sqlite3"),
    }
    connections[DEFAULT_DB_ALIAS] = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with django_db_blocker.unblock():
            yield connections[DEFAULT_DB_ALIAS]
            connections[DEFAULT_DB_ALIAS].close()
    finally:
        connections[DEFAULT_DB_ALIAS] = in_memory
        connections.settings[DEFAULT_DB_ALIAS] = saved_settings


def test_parallel_saves_of_one_name_save_one_and_refuse_the_others(file_database, monkeypatch):
    call_command("migrate", verbosity=0)
    parallel = 6
    # Every save passes validation before any of them writes: the unique constraint decides.
    all_validated = threading.Barrier(parallel)
    validate = services.connection_validate

    def validate_then_wait(connection):
        validate(connection)
        all_validated.wait(timeout=60)

    monkeypatch.setattr(services, "connection_validate", validate_then_wait)

    def save(_):
        try:
            connection_create(**token_fields(name="Rennen Ä"), verify=False)
            return "saved"
        except ValidationError as error:
            return error.message_dict
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        outcomes = list(pool.map(save, range(parallel)))

    assert outcomes.count("saved") == 1
    refused = [outcome for outcome in outcomes if outcome != "saved"]
    assert refused == [{"name": [duplicate("Rennen Ä")]}] * (parallel - 1)
    assert list(Connection.objects.values_list("name", "name_key")) == [("Rennen Ä", "rennen ä")]


def test_the_migration_keys_existing_names_and_renames_clashes(file_database):
    call_command("migrate", "connections", "0003_sign_in_refusal", verbosity=0)
    old_state = MigrationExecutor(file_database).loader.project_state(
        ("connections", "0003_sign_in_refusal")
    )
    OldConnection = old_state.apps.get_model("connections", "Connection")
    # Names the old index (SQLite's ASCII-only LOWER()) let through side by side.
    for name in (
        "Ärger Shop",
        "Main store",
        "ärger shop",
        "Straße",
        "STRASSE",
        "Ä" * 100,
        "ä" * 100,
    ):
        OldConnection.objects.create(
            name=name,
            store_domain="https://shop.example.com",
            auth_method=AuthMethod.INTEGRATION_TOKEN,
        )
    updated = dict(OldConnection.objects.values_list("pk", "updated_at"))

    call_command("migrate", "connections", verbosity=0)

    rows = list(Connection.objects.order_by("pk").values_list("name", "name_key"))
    assert rows == [
        ("Ärger Shop", "ärger shop"),
        ("Main store", "main store"),
        ("ärger shop (2)", "ärger shop (2)"),
        ("Straße", "strasse"),
        ("STRASSE (2)", "strasse (2)"),
        ("Ä" * 100, "ä" * 100),
        ("ä" * 96 + " (2)", "ä" * 96 + " (2)"),
    ]
    assert dict(Connection.objects.values_list("pk", "updated_at")) == updated
    with pytest.raises(ValidationError):
        connection_create(**token_fields(name="ärger SHOP"), verify=False)


@pytest.mark.django_db
def test_a_short_name_whose_key_outgrows_the_column_is_refused():
    name = "\ufdfa" * 30  # one character each, which NFKC spells out in 18 letters
    assert len(connection_name_key(name)) > 400
    with pytest.raises(ValidationError) as caught:
        connection_create(**token_fields(name=name), verify=False)
    assert caught.value.message_dict == {
        "name": ["The name is too long; use fewer or plainer characters."]
    }

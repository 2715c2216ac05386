"""Migrations carry the previous release's data forward without losing a row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

RELEASE_DATA = Path(__file__).parents[1] / "fixtures" / "release-0.1.0" / "data.json"
# The migration state of release 0.1.0.
RELEASE_STATE = [("connections", "0003_sign_in_refusal"), ("automations", None)]

pytestmark = pytest.mark.django_db(transaction=True)


def migrate(targets):
    """Migrate to `targets` and give the models as they are there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def load_release_data(old_apps) -> None:
    """Load the release's dumpdata file through the release's own models (loaddata would use
    today's models, whose columns that database does not have yet)."""
    rows = json.loads(RELEASE_DATA.read_text())
    # The role groups exist already (migrate makes them): match them by name, not by id.
    group_model = old_apps.get_model("auth", "Group")
    groups = {
        row["pk"]: group_model.objects.get(name=row["fields"]["name"]).pk
        for row in rows
        if row["model"] == "auth.group"
    }
    many = []
    for row in rows:
        if row["model"] == "auth.group":
            continue
        if row["model"] == "auth.user":
            row["fields"]["groups"] = [groups[pk] for pk in row["fields"]["groups"]]
        model = old_apps.get_model(row["model"])
        values, links = {"pk": row["pk"]}, {}
        for name, value in row["fields"].items():
            field = model._meta.get_field(name)
            if field.many_to_many:
                links[name] = value
            elif field.is_relation:
                values[field.attname] = value
            else:
                values[name] = value
        instance = model(**values)
        instance.save(force_insert=True)
        many.append((instance, links))
    for instance, links in many:
        for name, value in links.items():
            getattr(instance, name).set(value)


def latest_targets():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def test_release_data_survives_every_migration_since():
    old_apps = migrate(RELEASE_STATE)
    load_release_data(old_apps)
    # Credentials are not in exports: write some through the release's own model.
    old_connection = old_apps.get_model("connections", "Connection")
    admin_store = old_connection.objects.get(name="Admin store")
    admin_store.admin_password = "pw-123456"
    admin_store.totp_secret = "JBSWY3DPEHPK3PXPJBSWY3DP"
    admin_store.save()
    before = {
        "users": old_apps.get_model("auth", "User").objects.count(),
        "connections": old_connection.objects.count(),
    }
    assert before == {"users": 3, "connections": 5}

    migrate(latest_targets())

    from django.contrib.auth.models import User

    from connections.models import Connection

    assert User.objects.count() == before["users"]
    assert User.objects.get(username="edith").groups.get().name == "Automation editors"
    assert User.objects.get(username="owner").is_superuser
    assert Connection.objects.count() == before["connections"]
    names = sorted(Connection.objects.values_list("name", flat=True))
    # The two names that now count as one: the later row is renamed, never dropped.
    assert names == ["Admin store", "Main store", "OAuth store", "Ärger Shop", "ärger shop (2)"]
    admin = Connection.objects.get(name="Admin store")
    assert admin.admin_password == "pw-123456"
    assert admin.totp_secret == "JBSWY3DPEHPK3PXPJBSWY3DP"
    assert admin.store_code == "default" and admin.timeout_seconds == 45
    main = Connection.objects.get(name="Main store")
    assert (main.status, main.timezone, main.currency) == ("verified", "Europe/Berlin", "EUR")
    assert main.created_by.username == "edith"
    assert Connection.objects.get(name="OAuth store").last_error_code == "oauth_rejected"

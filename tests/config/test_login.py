"""Only active staff users can log in; the roles exist after migrate and are idempotent."""

import pytest
from django.apps import apps
from django.contrib.auth import get_permission_codename
from django.contrib.auth.models import Group
from django.core.management import call_command

from automations.roles import AUDITORS, EDITORS, roles_setup
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db


def login(client, username):
    return client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": PASSWORD}, follow=False
    )


def test_an_active_staff_user_logs_in(client, make_staff):
    make_staff("staffer")
    response = login(client, "staffer")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


def test_a_user_who_is_not_staff_cannot_log_in(client, make_staff):
    make_staff("shopper", is_staff=False)
    response = login(client, "shopper")
    assert response.status_code == 200
    assert "Please enter the correct username and password for a staff account" in (
        response.content.decode()
    )
    assert client.get("/admin/").status_code == 302


def test_an_inactive_staff_user_cannot_log_in(client, make_staff):
    make_staff("former", is_active=False)
    response = login(client, "former")
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_the_home_page_leads_to_the_portal(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


def test_both_roles_exist_after_migrate_and_setup_is_idempotent(capsys):
    assert set(Group.objects.values_list("name", flat=True)) >= {EDITORS, AUDITORS}
    before = {
        g.name: set(g.permissions.values_list("codename", flat=True)) for g in Group.objects.all()
    }
    call_command("setup_roles")
    call_command("setup_roles")
    after = {
        g.name: set(g.permissions.values_list("codename", flat=True)) for g in Group.objects.all()
    }
    assert before == after
    assert Group.objects.filter(name=EDITORS).count() == 1
    assert "Automation editors:" in capsys.readouterr().out


def test_auditors_can_only_view():
    roles_setup()
    auditors = Group.objects.get(name=AUDITORS)
    codenames = list(auditors.permissions.values_list("codename", flat=True))
    assert codenames, "auditors must be able to view the portal's data"
    assert all(code.startswith("view_") for code in codenames)
    # The audit trail: who changed what (read-only, like everything else).
    assert "view_logentry" in codenames


def model_permissions(app_label: str, actions=None) -> set[tuple[str, str]]:
    """(app, codename) of every permission an app's models declare, from the models themselves."""
    found = set()
    for model in apps.get_app_config(app_label).get_models():
        opts = model._meta
        declared = [get_permission_codename(action, opts) for action in opts.default_permissions]
        declared += [codename for codename, _ in opts.permissions]
        found |= {
            (app_label, codename)
            for codename in declared
            if actions is None or codename.split("_", 1)[0] in actions
        }
    return found


def test_editors_get_every_permission_of_the_portal_apps_and_only_view_queue_and_logins():
    roles_setup()
    editors = Group.objects.get(name=EDITORS)
    given = set(editors.permissions.values_list("content_type__app_label", "codename"))
    expected = (
        model_permissions("connections")
        | model_permissions("automations")
        | model_permissions("django_q", actions={"view"})
        | model_permissions("axes", actions={"view"})
        | model_permissions("admin", actions={"view"})
    )
    assert ("connections", "change_connection") in expected
    assert ("admin", "view_logentry") in expected  # the audit trail, read-only
    assert ("django_q", "view_task") in expected
    assert ("axes", "view_accessattempt") in expected
    assert given == expected


def test_ensure_superuser_creates_one_from_the_environment_once(
    monkeypatch, django_user_model, capsys
):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "owner")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long enough password")
    monkeypatch.delenv("DJANGO_SUPERUSER_EMAIL", raising=False)
    call_command("ensure_superuser")
    call_command("ensure_superuser")
    owner = django_user_model.objects.get(username="owner")
    assert owner.is_superuser and owner.is_staff
    assert owner.check_password("a long enough password")
    assert django_user_model.objects.count() == 1
    assert "a long enough password" not in capsys.readouterr().out


def test_ensure_superuser_leaves_an_existing_user_of_that_name_alone(
    monkeypatch, make_staff, django_user_model, capsys
):
    make_staff("owner")
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "owner")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "another long password")
    call_command("ensure_superuser")  # no exception: `make run` carries on
    owner = django_user_model.objects.get(username="owner")
    assert not owner.is_superuser
    assert owner.check_password(PASSWORD)
    assert django_user_model.objects.count() == 1
    output = capsys.readouterr().out
    assert "A user named 'owner' already exists and is not a superuser" in output
    assert "manage.py createsuperuser" in output

"""Who may do what with connections: editors change, auditors only look, others stay out."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.connections.helpers import SECRETS, assert_no_secret
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:connections_connection_add")


def test_auditor_gets_403_on_the_add_page(auditor_client):
    assert auditor_client.get(ADD_URL).status_code == 403
    assert auditor_client.post(ADD_URL, {"name": "x"}).status_code == 403


def test_auditor_cannot_post_a_change(auditor_client, make_connection):
    connection = make_connection()
    url = reverse("admin:connections_connection_change", args=[connection.pk])
    response = auditor_client.post(url, {"name": "Hijacked", "store_domain": "other.example.com"})
    assert response.status_code == 403
    connection.refresh_from_db()
    assert connection.name == "Main store"


def test_auditor_sees_a_read_only_page_without_secrets_or_save_button(
    auditor_client, make_connection
):
    connection = make_connection(
        consumer_key=SECRETS["consumer_key"],
        consumer_secret=SECRETS["consumer_secret"],
        access_token_secret=SECRETS["access_token_secret"],
    )
    url = reverse("admin:connections_connection_change", args=[connection.pk])
    response = auditor_client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert_no_secret(page)
    assert 'name="_save"' not in page
    assert "Test connection" not in page
    assert "Access Token: set" in page
    assert "Consumer Key: set" in page
    assert "Admin Username" not in page  # nothing to show for an Integration Token


def test_auditor_sees_the_admin_user_of_a_session_connection(auditor_client, make_connection):
    connection = make_connection(auth_method="session", admin_username="portal-bot")
    url = reverse("admin:connections_connection_change", args=[connection.pk])
    page = auditor_client.get(url).content.decode()
    assert "Admin Username" in page and "portal-bot" in page
    assert "Admin Password: set" in page and "2FA secret (TOTP): not set" in page
    assert_no_secret(page)


def test_auditor_cannot_test_a_connection(auditor_client, make_connection):
    connection = make_connection()
    url = reverse("admin:connections_connection_test", args=[connection.pk])
    assert auditor_client.post(url).status_code == 403
    listing = auditor_client.get(reverse("admin:connections_connection_changelist"))
    assert "test_connections" not in listing.content.decode()


def test_auditor_sees_the_list_and_the_guide(auditor_client, make_connection):
    make_connection()
    assert auditor_client.get(reverse("admin:connections_connection_changelist")).status_code == 200
    assert auditor_client.get(reverse("connections:guide_session")).status_code == 200


def test_editor_can_open_add_and_change_pages(editor_client, make_connection):
    connection = make_connection()
    assert editor_client.get(ADD_URL).status_code == 200
    page = editor_client.get(
        reverse("admin:connections_connection_change", args=[connection.pk])
    ).content.decode()
    assert 'name="_save"' in page
    assert "Test connection" in page


def test_editors_have_the_verify_permission(editor):
    assert editor.has_perm("connections.verify_connection")
    assert editor.has_perm("connections.add_connection")


def test_non_staff_user_cannot_log_in(client, django_user_model):
    django_user_model.objects.create_user(username="shopper", password=PASSWORD, is_staff=False)
    response = client.post(reverse("admin:login"), {"username": "shopper", "password": PASSWORD})
    assert response.status_code == 200  # the login page again, with an error
    assert "_auth_user_id" not in client.session
    assert client.get(ADD_URL).status_code == 302


def test_guide_needs_a_staff_login(client):
    response = client.get(reverse("connections:guide_integration_token"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]

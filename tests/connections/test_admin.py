"""The Connections admin: add and change with verification, save anyway, test button and action."""

from __future__ import annotations

import re

import pytest
import requests
import responses
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from connections import diagnosis as dx
from connections.models import Connection, ConnectionStatus
from tests.connections.helpers import (
    ADD_URL,
    ADMIN_TOKEN,
    LIST_URL,
    REST,
    SECRETS,
    add_probes,
    add_store_configs,
    assert_no_secret,
    change_url,
    form_data,
    healthy_store,
    load_error_unauthorized,
    refuse_everything,
)

pytestmark = pytest.mark.django_db


def test_add_page_offers_both_methods_and_links_the_guide(editor_client):
    page = editor_client.get(ADD_URL).content.decode()
    assert 'value="integration_token"' in page and 'value="session"' in page
    assert "auth-integration_token" in page and "auth-session" in page
    assert reverse("connections:guide_integration_token") in page
    assert reverse("connections:guide_session") in page
    assert "connections/connection_form.js" in page


def test_add_verifies_and_saves(editor_client, store_mock):
    healthy_store(store_mock)
    response = editor_client.post(ADD_URL, form_data(), follow=True)
    assert response.status_code == 200
    connection = Connection.objects.get()
    assert connection.status == ConnectionStatus.VERIFIED
    page = response.content.decode()
    assert "Verified: https://shop.example.com/" in page
    assert "Europe/Berlin" in page and "EUR" in page
    assert_no_secret(page)


def test_failed_verification_shows_diagnosis_with_guide_link_and_saves_nothing(
    editor_client, store_mock
):
    refuse_everything(store_mock)
    response = editor_client.post(ADD_URL, form_data())
    assert response.status_code == 200
    page = response.content.decode()
    assert "Magento did not accept the Access Token" in page
    assert 'href="/connections/guide/integration-token/#bearer-setting"' in page
    assert 'href="/connections/guide/integration-token/#oauth"' in page
    assert 'data-code="token_rejected"' in page
    assert not Connection.objects.exists()
    assert_no_secret(page)


def test_save_anyway_keeps_an_unverified_connection_marked(editor_client, store_mock):
    store_mock.add(
        responses.GET,
        f"{REST}/V1/store/storeConfigs",
        body=requests.exceptions.SSLError("certificate verify failed"),
    )
    response = editor_client.post(ADD_URL, form_data(save_anyway="on"), follow=True)
    connection = Connection.objects.get()
    assert connection.status == ConnectionStatus.FAILED
    assert connection.last_error_code == dx.TLS_ERROR
    page = response.content.decode()
    assert "Saved without a working connection" in page
    listing = editor_client.get(LIST_URL).content.decode()
    assert "connection-status-failed" in listing


def test_change_with_blank_secret_keeps_the_saved_one(editor_client, store_mock, make_connection):
    connection = make_connection()
    healthy_store(store_mock)
    response = editor_client.post(
        change_url(connection), form_data(access_token="", name="Renamed store")
    )
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.name == "Renamed store"
    assert connection.access_token == SECRETS["access_token"]
    # The bearer header used for verification was the saved token.
    assert store_mock.calls[0].request.headers["Authorization"].endswith(SECRETS["access_token"])
    entry = LogEntry.objects.get(object_id=str(connection.pk))
    assert "Access Token" not in entry.get_change_message()
    assert "Connection name" in entry.get_change_message()


def test_change_page_shows_secrets_only_as_set(editor_client, make_connection):
    connection = make_connection(**{k: v for k, v in SECRETS.items() if k != "admin_password"})
    page = editor_client.get(change_url(connection)).content.decode()
    assert_no_secret(page)
    assert "Set. Leave blank to keep it." in page
    assert "Test connection" in page


def test_switching_method_drops_the_other_methods_credentials(
    editor_client, store_mock, make_connection
):
    connection = make_connection()
    store_mock.add(
        responses.POST,
        f"{REST}/V1/integration/admin/token",
        json="5r8cvmpr11j6gmau8990rcj2qk7unh8i",
    )
    healthy_store(store_mock)
    response = editor_client.post(
        change_url(connection),
        form_data(
            auth_method="session",
            access_token="",
            admin_username="portal-bot",
            admin_password=SECRETS["admin_password"],
        ),
    )
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.auth_method == "session"
    assert connection.access_token == ""
    assert connection.admin_password == SECRETS["admin_password"]


def test_test_button_verifies_and_reports(editor_client, store_mock, make_connection):
    connection = make_connection(status=ConnectionStatus.UNVERIFIED)
    healthy_store(store_mock)
    url = reverse("admin:connections_connection_test", args=[connection.pk])
    response = editor_client.post(url, follow=True)
    assert "Main store: verified." in response.content.decode()
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.VERIFIED


def test_test_button_needs_post(editor_client, make_connection):
    connection = make_connection()
    url = reverse("admin:connections_connection_test", args=[connection.pk])
    assert editor_client.get(url).status_code == 405


def test_test_action_reports_the_problem_with_a_guide_link(
    editor_client, store_mock, make_connection
):
    connection = make_connection()
    status, body = load_error_unauthorized()
    add_store_configs(store_mock)
    add_probes(store_mock, answers={"/V1/orders": (status, body)})
    response = editor_client.post(
        LIST_URL,
        {"action": "test_connections", "_selected_action": [connection.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "Some API permissions are missing" in page
    assert 'href="/connections/guide/integration-token/#resource-access"' in page
    connection.refresh_from_db()
    assert connection.last_error_code == dx.PERMISSIONS_MISSING
    assert connection.permission_results["orders"] == "denied"


def permission_rows(page: str) -> list[tuple[str, str]]:
    """(what for, result) of each row of the Permissions block."""
    table = page.split('<table class="connection-permissions">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>(.*?)</td><td>.*?</td><td class=\"[^\"]+\">(.*?)</td></tr>", table)
    return rows


def test_permissions_block_shows_reads_and_writes(editor_client, store_mock, make_connection):
    connection = make_connection()
    status, body = load_error_unauthorized()
    add_store_configs(store_mock)
    add_probes(store_mock, answers={"POST /V1/order/0/ship": (status, body)})
    editor_client.post(reverse("admin:connections_connection_test", args=[connection.pk]))
    page = editor_client.get(change_url(connection)).content.decode()
    assert permission_rows(page) == [
        ("Read the store settings", "allowed"),
        ("Read customers", "allowed"),
        ("Update customers", "allowed"),
        ("Read products", "allowed"),
        ("Save products", "allowed"),
        ("Read orders", "allowed"),
        ("Ship orders", "denied"),
        ("Read shipments", "allowed"),
    ]
    assert "Sales &gt; Operations &gt; Orders &gt; Actions &gt; Ship (Magento_Sales::ship)" in page


def test_refused_token_leaves_every_permission_not_checked(
    editor_client, store_mock, make_connection
):
    connection = make_connection()
    refuse_everything(store_mock)
    editor_client.post(reverse("admin:connections_connection_test", args=[connection.pk]))
    page = editor_client.get(change_url(connection)).content.decode()
    rows = permission_rows(page)
    assert len(rows) == 8
    assert {result for _, result in rows} == {"not checked"}


def test_permissions_block_is_empty_before_any_check(editor_client, make_connection):
    page = editor_client.get(change_url(make_connection())).content.decode()
    assert "connection-permissions" not in page


def test_list_shows_status_last_verified_and_used_by(editor_client, make_connection):
    make_connection(name="Verified shop")
    make_connection(name="Broken shop", status=ConnectionStatus.FAILED, last_error_code="tls_error")
    page = editor_client.get(LIST_URL).content.decode()
    assert "Verified shop" in page and "Broken shop" in page
    assert "connection-status-verified" in page and "connection-status-failed" in page
    assert "Last verified" in page and "Used by" in page
    # What the issue asks for comes before the long Store Domain, so narrow screens keep it.
    assert page.index("Used by") < page.index("Store Domain")
    assert "0 automations" in page
    assert_no_secret(page)


def test_used_by_counts_each_automation_once_whether_trigger_or_step(
    editor_client, make_connection
):
    from automations.models import Automation, AutomationStep, TriggerSubscription

    main = make_connection(name="Main shop")
    other = make_connection(name="Other shop")
    both = Automation.objects.create(name="Ship new orders")
    TriggerSubscription.objects.create(automation=both, connection=main, trigger_id="order_created")
    AutomationStep.objects.create(
        automation=both, position=1, action_id="create_shipment", connection=main
    )
    AutomationStep.objects.create(
        automation=both, position=2, action_id="get_product_by_sku", connection=main
    )
    copy = Automation.objects.create(name="Copy customers")
    TriggerSubscription.objects.create(
        automation=copy, connection=other, trigger_id="customer_created"
    )
    AutomationStep.objects.create(
        automation=copy, position=1, action_id="create_customer", connection=main
    )
    page = editor_client.get(LIST_URL).content.decode()
    rows = {
        name: page[page.index(f">{name}<") :].split("</tr>", 1)[0]
        for name in ("Main shop", "Other shop")
    }
    assert "2 automations" in rows["Main shop"]
    assert "1 automation<" in rows["Other shop"]


def test_change_page_links_the_last_problem_to_the_guide(editor_client, make_connection):
    connection = make_connection(
        status=ConnectionStatus.FAILED,
        last_error_code=dx.TWO_FACTOR_REQUIRED,
        last_error_message="The store requires two-factor authentication: ...",
    )
    page = editor_client.get(change_url(connection)).content.decode()
    assert 'href="/connections/guide/session/#two-factor"' in page


def test_change_page_says_when_sign_ins_were_paused(editor_client, make_connection):
    connection = make_connection(
        auth_method="session",
        status=ConnectionStatus.FAILED,
        last_error_code=dx.ADMIN_SIGNIN_REJECTED,
        last_error_message="Magento refused the admin sign-in: ...",
        sign_in_refused_at=timezone.now(),
        sign_in_refusal="The account sign-in was incorrect or your account is disabled ...",
    )
    page = editor_client.get(change_url(connection)).content.decode()
    assert "Sign-ins paused since" in page
    assert 'href="/connections/guide/session/#lockout"' in page
    assert_no_secret(page)


def test_save_anyway_alone_is_not_recorded_as_a_change(editor_client, store_mock, make_connection):
    connection = make_connection()
    healthy_store(store_mock)
    data = form_data(access_token="", save_anyway="on", store_domain="https://shop.example.com")
    response = editor_client.post(change_url(connection), data)
    assert response.status_code == 302
    entry = LogEntry.objects.get(object_id=str(connection.pk))
    assert entry.get_change_message() == "No fields changed."


def test_diagnosis_marks_the_field_to_fix_and_opens_advanced(editor_client, store_mock):
    add_store_configs(store_mock, codes=("default", "de"))
    response = editor_client.post(ADD_URL, form_data(store_code="fr"))
    form = response.context["adminform"].form
    assert list(form.errors) == ["store_code"]
    assert "The store code does not exist" in form.errors["store_code"][0]
    assert 'tick "Save anyway"' in form.errors["store_code"][0]
    # Django shows a collapsed fieldset expanded when it holds an error: store code is Advanced.
    advanced = [f for f in response.context["adminform"] if f.name == "Advanced"]
    assert len(advanced) == 1 and not advanced[0].is_collapsible


def test_refused_token_marks_the_access_token(editor_client, store_mock):
    refuse_everything(store_mock)
    response = editor_client.post(ADD_URL, form_data())
    form = response.context["adminform"].form
    assert list(form.errors) == ["access_token"]


def field_row(page: str, name: str) -> str:
    """The HTML of the form row holding field `name`, marked as having an error."""
    start = page.index(f'<div class="form-row errors field-{name}"')
    end = page.index('<div class="form-row', start + 1)
    return page[start:end]


def test_refused_verification_is_said_once_at_the_field_to_change(editor_client, store_mock):
    refuse_everything(store_mock)
    page = editor_client.post(ADD_URL, form_data()).content.decode()
    title = "Magento did not accept the Access Token"
    assert page.count(title) == 1
    row = field_row(page, "access_token")
    assert title in row
    assert 'href="/connections/guide/integration-token/#oauth"' in row
    assert 'tick "Save anyway"' in row
    for repeated in ("Please correct the error", "see the box above", "could not be verified"):
        assert repeated not in page
    assert "<title>Error: " in page


def test_refused_verification_without_a_field_is_said_once_above_the_form(
    editor_client, store_mock
):
    store_mock.add(
        responses.GET,
        f"{REST}/V1/store/storeConfigs",
        body=requests.exceptions.SSLError("certificate verify failed"),
    )
    page = editor_client.post(ADD_URL, form_data()).content.decode()
    title = "security certificate was not accepted"
    assert page.count(title) == 1
    box = page.split('<div class="errornote connection-diagnosis-box">', 1)[1]
    assert box.index(title) < box.index("</div>")
    assert 'href="/connections/guide/#tls"' in box
    assert "Please correct the error" not in page
    assert 'class="errorlist' not in page


def test_typed_secrets_must_be_typed_again_after_an_error(editor_client):
    response = editor_client.post(ADD_URL, form_data(store_domain="ftp://shop.example.com"))
    page = response.content.decode()
    assert 'id="connection-secrets-note"' in page
    assert_no_secret(page)
    # Nothing typed, nothing to type again: blank keeps the saved secrets on a change page.
    response = editor_client.post(ADD_URL, form_data(access_token="", name=""))
    assert 'id="connection-secrets-note"' not in response.content.decode()


def test_plain_http_is_warned_after_saving_and_on_the_page(editor_client, store_mock):
    store_mock.add(
        responses.GET,
        "http://plain.example.com/rest/V1/store/storeConfigs",
        body=requests.exceptions.ConnectionError("connection refused"),
    )
    data = form_data(
        store_domain="http://plain.example.com", allow_plain_http="on", save_anyway="on"
    )
    response = editor_client.post(ADD_URL, data, follow=True)
    assert "uses plain http://: the store&#x27;s credentials travel unencrypted" in (
        response.content.decode()
    )
    connection = Connection.objects.get()
    assert connection.allow_plain_http
    page = editor_client.get(change_url(connection)).content.decode()
    assert 'id="connection-plain-http"' in page


def test_https_connection_page_has_no_plain_http_warning(editor_client, make_connection):
    page = editor_client.get(change_url(make_connection())).content.decode()
    assert 'id="connection-plain-http"' not in page


def test_list_shows_last_verified_as_time_ago(editor_client, make_connection):
    from datetime import timedelta

    from django.utils import timezone

    make_connection(name="Checked", last_verified_at=timezone.now() - timedelta(hours=3))
    make_connection(name="Never", status=ConnectionStatus.UNVERIFIED)
    page = editor_client.get(LIST_URL).content.decode()
    assert "3\xa0hours ago" in page
    never = page.split(">Never</a>", 1)[1].split("</tr>", 1)[0]
    assert '<td class="field-last_verified">—</td>' in never


def test_empty_values_show_as_one_dash_everywhere(editor_client, make_connection):
    connection = make_connection(status=ConnectionStatus.UNVERIFIED)
    page = editor_client.get(change_url(connection)).content.decode()
    shown = dict(re.findall(r'field-(\w+)">.*?<div class="readonly">(.*?)</div>', page, re.S))
    for field in ("last_verified_at", "last_checked_at", "base_url", "currency", "last_problem"):
        assert shown[field] == "—", field
    assert "-" not in shown.values()
    assert ">never<" not in page


def test_change_page_shows_the_status_before_the_form(editor_client, make_connection):
    page = editor_client.get(change_url(make_connection())).content.decode()
    assert page.index("connection-status-verified") < page.index('id="id_name"')


def test_remove_saved_oauth_credentials(editor_client, store_mock, make_connection):
    connection = make_connection(
        consumer_key=SECRETS["consumer_key"],
        consumer_secret=SECRETS["consumer_secret"],
        access_token_secret=SECRETS["access_token_secret"],
    )
    assert 'name="forget_oauth"' in editor_client.get(change_url(connection)).content.decode()
    healthy_store(store_mock)
    response = editor_client.post(
        change_url(connection), form_data(access_token="", forget_oauth="on")
    )
    assert response.status_code == 302
    connection.refresh_from_db()
    assert (connection.consumer_key, connection.consumer_secret) == ("", "")
    assert connection.access_token_secret == ""
    assert connection.access_token == SECRETS["access_token"]
    # Verified with the Access Token alone, as a Bearer token.
    assert store_mock.calls[0].request.headers["Authorization"].startswith("Bearer ")


def test_remove_saved_totp_secret(editor_client, store_mock, make_connection):
    from connections.models import AuthMethod

    connection = make_connection(auth_method=AuthMethod.SESSION, totp_secret=SECRETS["totp_secret"])
    store_mock.add(responses.POST, f"{REST}/V1/integration/admin/token", json=ADMIN_TOKEN)
    healthy_store(store_mock)
    data = form_data(
        auth_method="session",
        access_token="",
        admin_username="portal-bot",
        forget_totp="on",
    )
    response = editor_client.post(change_url(connection), data)
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.totp_secret == ""
    assert connection.admin_password == SECRETS["admin_password"]


def test_no_remove_switch_without_saved_values(editor_client, make_connection):
    page = editor_client.get(change_url(make_connection())).content.decode()
    assert 'name="forget_oauth"' not in page and 'name="forget_totp"' not in page

"""After a key change without re-encryption every path that reads credentials says what happened.

Each test runs for both ways a key change breaks a value: a changed DJANGO_SECRET_KEY (the
signature fails) and a changed CRYPTOGRAPHY_KEY with a value that passes the padding check and
only fails to unpickle (about 1 value in 256; chosen here so the case is always met).
"""

from __future__ import annotations

import io
import json
import pickle
import re
from collections import OrderedDict

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django_cryptography.fields import EncryptedMixin

from connections import diagnosis as dx
from connections.clients import (
    ConnectionTokenCache,
    ConnectionUnusable,
    connection_client_for_task,
)
from connections.keys import _fernet
from connections.models import Connection, ConnectionStatus, CredentialsUnreadable
from connections.verification import connection_verify
from tests.connections.helpers import ADMIN_TOKEN, SECRETS, assert_no_secret, healthy_store
from tests.connections.key_helpers import (
    UNREADABLE_KINDS,
    current_fernet,
    seal,
    seal_passing_padding,
    write_raw,
)

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:connections_connection_changelist")
UNREADABLE_TITLE = "The saved credentials cannot be decrypted"


def run(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def change_url(connection):
    return reverse("admin:connections_connection_change", args=[connection.pk])


@pytest.fixture(params=sorted(UNREADABLE_KINDS))
def unreadable_connection(request, make_connection):
    """A connection whose token and cached admin token were saved under other keys."""
    connection = make_connection(name="Old keys shop")
    sealed = UNREADABLE_KINDS[request.param]
    write_raw(
        connection.pk,
        access_token=sealed(SECRETS["access_token"]),
        admin_token=sealed(ADMIN_TOKEN),
    )
    return connection


# -- the field ---------------------------------------------------------------------------------


def test_reading_the_row_raises_one_exception_that_names_the_field(unreadable_connection):
    with pytest.raises(CredentialsUnreadable) as caught:
        Connection.objects.get(pk=unreadable_connection.pk)
    message = str(caught.value)
    assert "Access Token cannot be decrypted" in message
    assert "reencrypt_connections" in message
    assert_no_secret(message)
    assert isinstance(caught.value, dx.UNREADABLE_ERRORS)
    with pytest.raises(CredentialsUnreadable):
        list(Connection.objects.values_list("access_token", flat=True))


def test_the_library_alone_fails_with_a_pickle_error_on_the_padding_case():
    # The defect this guards against: django-cryptography's own reading lets it through.
    raw, _ = seal_passing_padding(SECRETS["access_token"])
    field = Connection._meta.get_field("access_token")
    with pytest.raises(Exception) as caught:
        EncryptedMixin._load(field, raw)
    assert not isinstance(caught.value, CredentialsUnreadable)
    with pytest.raises(CredentialsUnreadable):
        field._load(raw)


@pytest.mark.parametrize("value", [12345, b"bytes", OrderedDict(a=1)], ids=type)
def test_a_decrypted_value_that_is_not_text_is_unreadable(make_connection, value):
    connection = make_connection()
    raw = current_fernet().encrypt(pickle.dumps(value))
    write_raw(connection.pk, access_token=raw)
    with pytest.raises(CredentialsUnreadable):
        Connection.objects.get(pk=connection.pk)


# -- the admin ---------------------------------------------------------------------------------


def test_list_still_works(editor_client, unreadable_connection):
    response = editor_client.get(LIST_URL)
    assert response.status_code == 200
    assert "Old keys shop" in response.content.decode()


def test_change_page_opens_with_empty_secret_fields_and_says_why(
    editor_client, unreadable_connection
):
    response = editor_client.get(change_url(unreadable_connection))
    assert response.status_code == 200
    page = response.content.decode()
    assert UNREADABLE_TITLE in page
    assert "The credential fields below are empty: enter the credentials again" in page
    assert "The saved value cannot be decrypted: enter it again." in page
    assert "Set. Leave blank to keep it." not in page
    token_input = re.search(r'<input[^>]*name="access_token"[^>]*>', page).group(0)
    assert "value=" not in token_input


def test_read_only_page_says_the_credentials_cannot_be_decrypted(
    auditor_client, unreadable_connection
):
    response = auditor_client.get(change_url(unreadable_connection))
    assert response.status_code == 200
    page = response.content.decode()
    assert UNREADABLE_TITLE in page
    assert "enter the credentials again and save" not in page  # an auditor cannot


def test_new_credentials_typed_over_unreadable_ones_are_verified_and_saved(
    editor_client, store_mock, unreadable_connection
):
    healthy_store(store_mock)
    data = {
        "name": "Old keys shop",
        "store_domain": "shop.example.com",
        "auth_method": "integration_token",
        "access_token": "n3wTokenAAAAbbbbCCCCddddEEEE99",
        "store_code": "all",
        "verify_tls": "on",
        "timeout_seconds": "30",
        "_save": "Save",
    }
    response = editor_client.post(change_url(unreadable_connection), data)
    assert response.status_code == 302
    assert store_mock.calls[0].request.headers["Authorization"] == (
        "Bearer n3wTokenAAAAbbbbCCCCddddEEEE99"
    )
    saved = Connection.objects.get(pk=unreadable_connection.pk)  # every value readable again
    assert saved.access_token == "n3wTokenAAAAbbbbCCCCddddEEEE99"
    assert saved.status == ConnectionStatus.VERIFIED
    assert saved.admin_token == ""  # the unreadable cached token is gone too
    assert saved.admin_token_key == ""


def test_saving_without_new_credentials_asks_for_them(editor_client, unreadable_connection):
    data = {
        "name": "Old keys shop",
        "store_domain": "shop.example.com",
        "auth_method": "integration_token",
        "access_token": "",
        "store_code": "all",
        "timeout_seconds": "30",
        "_save": "Save",
    }
    response = editor_client.post(change_url(unreadable_connection), data)
    assert response.status_code == 200  # the form again, not a redirect
    assert response.context["adminform"].form.errors["access_token"]
    assert UNREADABLE_TITLE in response.content.decode()
    with pytest.raises(CredentialsUnreadable):
        Connection.objects.get(pk=unreadable_connection.pk)  # nothing was written


def test_test_button_records_the_diagnosis(editor_client, unreadable_connection):
    url = reverse("admin:connections_connection_test", args=[unreadable_connection.pk])
    response = editor_client.post(url, follow=True)
    assert response.status_code == 200
    assert "cannot be decrypted" in response.content.decode()
    status = Connection.objects.filter(pk=unreadable_connection.pk).values_list(
        "status", "last_error_code"
    )
    assert list(status) == [("failed", dx.CREDENTIALS_UNREADABLE)]


def test_list_action_reports_the_unreadable_one_and_tests_the_others(
    editor_client, store_mock, make_connection, unreadable_connection
):
    readable = make_connection(name="Current keys shop")
    healthy_store(store_mock)
    response = editor_client.post(
        LIST_URL,
        {"action": "test_connections", "_selected_action": [unreadable_connection.pk, readable.pk]},
        follow=True,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Old keys shop: {UNREADABLE_TITLE}." in page
    assert "Current keys shop: verified." in page
    assert Connection.objects.get(pk=readable.pk).status == ConnectionStatus.VERIFIED


def test_verify_service_reports_unreadable_credentials(unreadable_connection):
    connection = Connection.objects.defer("access_token", "admin_token").get(
        pk=unreadable_connection.pk
    )
    result = connection_verify(connection=connection)
    assert result.diagnosis.code == dx.CREDENTIALS_UNREADABLE
    assert result.diagnosis.links[0].url == "/connections/guide/#keys"


# -- commands and background work ---------------------------------------------------------------


def test_test_connection_command_explains_without_a_traceback(unreadable_connection):
    code, out, err = run("test_connection", "Old keys shop")
    assert code == 1
    # The result on stdout, the explanation on stderr (the commands' one rule).
    assert out == "Old keys shop: failed (credentials_unreadable)\n"
    assert err.startswith(f"{UNREADABLE_TITLE}:")
    assert "Traceback" not in out + err
    assert_no_secret(out + err)


def test_task_client_raises_connection_unusable(unreadable_connection):
    with pytest.raises(ConnectionUnusable) as caught:
        connection_client_for_task(unreadable_connection.pk)
    assert caught.value.code == dx.CREDENTIALS_UNREADABLE
    assert "Old keys shop" in caught.value.message


def test_token_cache_treats_an_unreadable_token_as_none(unreadable_connection):
    cache = ConnectionTokenCache(unreadable_connection.pk)
    assert cache.get("any-key") is None
    cache.set("any-key", "fresh-token", expires_at=4_102_444_800)  # 2100: a sign-in replaces it
    assert cache.get("any-key") == "fresh-token"


def test_dumpdata_fails_with_the_reason(unreadable_connection):
    with pytest.raises(CommandError) as caught:
        call_command("dumpdata", "connections", stdout=io.StringIO())
    message = str(caught.value)
    assert "Access Token cannot be decrypted" in message
    assert "reencrypt_connections" in message
    # Everything else can still be exported.
    out = io.StringIO()
    call_command("dumpdata", "--exclude", "connections.connection", stdout=out)
    assert json.loads(out.getvalue()) is not None


def test_dumpdata_with_readable_keys_leaves_the_credentials_out(make_connection):
    make_connection(**SECRETS)
    out = io.StringIO()
    call_command("dumpdata", "connections", stdout=out)
    rows = json.loads(out.getvalue())
    assert rows[0]["fields"]["name"] == "Main store"
    assert rows[0]["fields"]["access_token"] == ""
    assert_no_secret(out.getvalue())


def test_reencrypt_with_wrong_old_keys_names_the_connection(unreadable_connection, monkeypatch):
    monkeypatch.setenv("OLD_DJANGO_SECRET_KEY", "not-the-old-one")
    monkeypatch.setenv("OLD_CRYPTOGRAPHY_KEY", "not-the-old-one-either")
    with pytest.raises(CommandError, match="Could not decrypt with the old keys: Old keys shop"):
        call_command("reencrypt_connections", stdout=io.StringIO())


def test_unpicklable_value_under_the_old_key_is_reported_not_raised(make_connection, monkeypatch):
    # The old key given is wrong but decrypts this value to bytes with valid padding.
    connection = make_connection(name="Odd shop")
    wrong_old = "a-wrong-guess-at-the-old-key"
    reader = _fernet(secret_key=settings.SECRET_KEY, cryptography_key=wrong_old)
    raw, _ = seal_passing_padding("x", cryptography_key="the-real-old-key", reader=reader)
    write_raw(connection.pk, access_token=raw)
    monkeypatch.setenv("OLD_CRYPTOGRAPHY_KEY", wrong_old)
    with pytest.raises(CommandError, match="Odd shop"):
        call_command("reencrypt_connections", stdout=io.StringIO())


def test_current_keys_only_read_their_own_values(make_connection):
    connection = make_connection()
    write_raw(
        connection.pk,
        access_token=seal("v", secret_key=settings.SECRET_KEY, cryptography_key=None),
    )
    assert Connection.objects.get(pk=connection.pk).access_token == "v"

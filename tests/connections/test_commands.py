"""add_connection, test_connection and reencrypt_connections from the command line."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection as db

from connections import diagnosis as dx
from connections.keys import _fernet
from connections.models import Connection, ConnectionStatus
from tests.connections.helpers import (
    ADMIN_TOKEN,
    REST,
    SECRETS,
    add_probes,
    add_store_configs,
    assert_no_secret,
    healthy_store,
    load_error_unauthorized,
    refuse_everything,
)
from tests.helpers import manage

pytestmark = pytest.mark.django_db


def run(*args, stdin=None, **kwargs):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        if stdin is not None:
            kwargs["stdin"] = io.StringIO(stdin)
        call_command(*args, stdout=out, stderr=err, **kwargs)
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


def test_add_with_token_prints_one_json_line(store_mock):
    healthy_store(store_mock)
    code, out, err = run(
        "add_connection",
        "--name",
        "Main store",
        "--store-domain",
        "shop.example.com",
        "--access-token",
        SECRETS["access_token"],
    )
    assert code == 0, err
    line = json.loads(out.strip())
    connection = Connection.objects.get()
    assert line == {
        "id": connection.pk,
        "name": "Main store",
        "status": "verified",
        "diagnosis": "verified",
    }
    assert_no_secret(out + err)


def test_add_reads_secrets_from_environment(store_mock, monkeypatch):
    monkeypatch.setenv("MAGENTO_ACCESS_TOKEN", SECRETS["access_token"])
    monkeypatch.setenv("MAGENTO_CONSUMER_KEY", SECRETS["consumer_key"])
    monkeypatch.setenv("MAGENTO_CONSUMER_SECRET", SECRETS["consumer_secret"])
    monkeypatch.setenv("MAGENTO_ACCESS_TOKEN_SECRET", SECRETS["access_token_secret"])
    healthy_store(store_mock)
    code, _out, err = run("add_connection", "--name", "Env", "--store-domain", "shop.example.com")
    assert code == 0, err
    connection = Connection.objects.get()
    assert connection.uses_oauth
    assert store_mock.calls[0].request.headers["Authorization"].startswith("OAuth ")


def test_add_reads_secrets_from_standard_input(store_mock):
    store_mock.add("POST", f"{REST}/V1/integration/admin/token", json=ADMIN_TOKEN)
    healthy_store(store_mock)
    code, _out, err = run(
        "add_connection",
        "--name",
        "Stdin",
        "--store-domain",
        "shop.example.com",
        "--admin-username",
        "portal-bot",
        "--admin-password",
        "-",
        stdin=SECRETS["admin_password"] + "\n",
    )
    assert code == 0, err
    connection = Connection.objects.get()
    assert connection.admin_password == SECRETS["admin_password"]
    assert json.loads(store_mock.calls[0].request.body)["password"] == SECRETS["admin_password"]


def test_failed_verification_exits_1_with_the_diagnosis_and_saves_nothing(store_mock):
    refuse_everything(store_mock)
    code, out, err = run(
        "add_connection",
        "--name",
        "Bad",
        "--store-domain",
        "shop.example.com",
        "--access-token",
        SECRETS["access_token"],
    )
    assert code == 1
    assert json.loads(out.strip())["status"] == "failed"
    assert "Magento did not accept the Access Token" in err
    assert "/connections/guide/integration-token/#bearer-setting" in err
    assert not Connection.objects.exists()
    assert_no_secret(out + err)


def test_save_anyway_keeps_it_but_still_exits_1(store_mock):
    code, out, _err = run(
        "add_connection",
        "--name",
        "Later",
        "--store-domain",
        "nowhere.example.com",
        "--access-token",
        SECRETS["access_token"],
        "--save-anyway",
    )
    assert code == 1
    line = json.loads(out.strip())
    assert line["status"] == "failed" and line["diagnosis"] == dx.DNS_FAILED
    assert Connection.objects.get().pk == line["id"]


def test_no_verify_saves_unverified_without_calling_the_store(store_mock):
    code, out, _ = run(
        "add_connection",
        "--name",
        "Offline",
        "--store-domain",
        "shop.example.com",
        "--access-token",
        SECRETS["access_token"],
        "--no-verify",
    )
    assert code == 0
    assert json.loads(out.strip())["status"] == ConnectionStatus.UNVERIFIED
    assert len(store_mock.calls) == 0


def test_bad_values_are_reported_by_option():
    with pytest.raises(CommandError) as caught:
        call_command(
            "add_connection",
            "--name",
            "X",
            "--store-domain",
            "ftp://shop.example.com",
            "--consumer-key",
            SECRETS["consumer_key"],
            "--access-token",
            SECRETS["access_token"],
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    assert caught.value.returncode == 2
    text = str(caught.value)
    assert "--store-domain: " in text and "--consumer-secret: " in text
    assert_no_secret(text)


def test_both_methods_at_once_is_refused():
    with pytest.raises(CommandError, match="Choose one authentication type") as caught:
        call_command(
            "add_connection",
            "--name",
            "X",
            "--store-domain",
            "shop.example.com",
            "--access-token",
            "abc",
            "--admin-username",
            "bot",
            "--admin-password",
            "pw",
            stdout=io.StringIO(),
        )
    assert caught.value.returncode == 2


def add_error(*args, stdin=None):
    """Run add_connection expecting a refusal; the CommandError's text and exit status."""
    with pytest.raises(CommandError) as caught:
        call_command(
            "add_connection",
            "--name",
            "X",
            "--store-domain",
            "shop.example.com",
            *args,
            stdout=io.StringIO(),
            stderr=io.StringIO(),
            **({"stdin": io.StringIO(stdin)} if stdin is not None else {}),
        )
    assert caught.value.returncode == 2
    assert_no_secret(str(caught.value))
    return str(caught.value)


@pytest.mark.parametrize(
    "given",
    [
        ("--admin-password", SECRETS["admin_password"]),
        ("--totp-secret", SECRETS["totp_secret"]),
    ],
    ids=["password", "totp"],
)
def test_session_values_without_a_user_name_ask_for_the_user_name(given):
    text = add_error(*given)
    assert "--admin-username: Enter the Magento admin user name." in text.splitlines()
    assert "access" not in text.lower()


def test_a_user_name_alone_asks_for_the_password():
    text = add_error("--admin-username", "portal-bot")
    assert text == "--admin-password: Enter the admin user's password."


def test_no_credentials_at_all_asks_for_the_access_token():
    assert add_error() == "--access-token: Enter the integration's Access Token."


def test_credentials_of_both_methods_say_where_each_came_from(monkeypatch):
    monkeypatch.setenv("MAGENTO_ADMIN_PASSWORD", SECRETS["admin_password"])
    text = add_error("--access-token", SECRETS["access_token"])
    assert text.startswith("Choose one authentication type")
    assert text.endswith("Given: --access-token, MAGENTO_ADMIN_PASSWORD.")
    assert not Connection.objects.exists()


def test_an_invalid_value_names_its_option():
    text = add_error("--access-token", SECRETS["access_token"], "--timeout", "0")
    assert text == "--timeout: The timeout must be between 1 and 120 seconds."
    text = add_error("--admin-username", "portal\x1bbot", "--admin-password", "-", stdin="pw\n")
    assert text.startswith("--admin-username: The Admin Username contains an invisible")


def test_adding_a_name_twice_in_any_case_is_refused_by_name(store_mock):
    args = ("--store-domain", "shop.example.com", "--access-token", SECRETS["access_token"])
    code, out, err = run("add_connection", "--name", "Ärger Shop", *args, "--no-verify")
    assert code == 0, err
    assert json.loads(out)["name"] == "Ärger Shop"
    for name in ("Ärger Shop", "ärger shop", "ÄRGER SHOP"):
        with pytest.raises(CommandError) as caught:
            call_command(
                "add_connection", "--name", name, *args, stdout=io.StringIO(), stderr=io.StringIO()
            )
        assert caught.value.returncode == 2
        assert str(caught.value) == (
            f"--name: A connection named '{name}' already exists; choose another name."
        )
    assert list(Connection.objects.values_list("name", flat=True)) == ["Ärger Shop"]
    healthy_store(store_mock)
    code, out, err = run("test_connection", "ÄRGER SHOP")
    assert code == 0, err
    assert out.startswith("Ärger Shop: verified.")


def test_test_connection_exit_0_only_when_verified(store_mock, make_connection):
    make_connection(name="Main store")
    healthy_store(store_mock)
    code, out, err = run("test_connection", "main store")
    assert code == 0
    assert "verified" in out and "Europe/Berlin" in out
    assert err == ""
    store_mock.reset()
    status, body = load_error_unauthorized()
    add_store_configs(store_mock)
    add_probes(store_mock, answers={"/V1/products": (status, body)})
    code, out, err = run("test_connection", "Main store")
    assert code == 1
    # The result on standard output, the explanation on standard error.
    assert out == "Main store: failed (permissions_missing)\n"
    assert "Some API permissions are missing" in err
    assert "Products" in err
    assert_no_secret(out + err)


def test_the_commands_log_nothing_below_warning_while_they_run(store_mock, caplog):
    caplog.set_level(logging.DEBUG)
    healthy_store(store_mock)
    args = ("--store-domain", "shop.example.com", "--access-token", SECRETS["access_token"])
    code, out, err = run("add_connection", "--name", "Main store", *args)
    assert (code, err) == (0, "")
    assert json.loads(out)["status"] == "verified"
    healthy_store(store_mock)
    code, out, err = run("test_connection", "Main store")
    assert (code, err) == (0, "")
    assert out.startswith("Main store: verified.")
    assert [record.getMessage() for record in caplog.records] == []
    # Logging is back as it was once the command is done.
    logging.getLogger("connections.services").info("after the commands")
    assert [record.getMessage() for record in caplog.records] == ["after the commands"]


def test_test_connection_unknown_name():
    with pytest.raises(CommandError, match="No connection named"):
        call_command("test_connection", "Nope", stdout=io.StringIO())


def _write_raw(pk: int, field: str, raw: bytes) -> None:
    with db.cursor() as cursor:
        cursor.execute(f"UPDATE connections_connection SET {field} = %s WHERE id = %s", [raw, pk])


def test_reencrypt_after_key_rotation(make_connection, monkeypatch):
    import pickle

    connection = make_connection()
    old_secret, old_crypto = "old-secret-key-for-test", "old-cryptography-key-for-test"
    old = _fernet(secret_key=old_secret, cryptography_key=old_crypto)
    _write_raw(connection.pk, "access_token", old.encrypt(pickle.dumps("rotated-token-value")))
    # With the current keys the value cannot be read: loading the row fails.
    with pytest.raises(dx.UNREADABLE_ERRORS):
        Connection.objects.get(pk=connection.pk)
    # The check says so and records it on the row, as the admin's Test button does.
    code, out, err = run("test_connection", "Main store")
    assert code == 1
    assert out == "Main store: failed (credentials_unreadable)\n"
    assert "The saved credentials cannot be decrypted" in err
    assert "re-encrypt" in err
    assert "rotated-token-value" not in out + err
    recorded = Connection.objects.filter(pk=connection.pk).values("status", "last_error_code")
    assert list(recorded) == [{"status": "failed", "last_error_code": dx.CREDENTIALS_UNREADABLE}]

    monkeypatch.setenv("OLD_DJANGO_SECRET_KEY", old_secret)
    monkeypatch.setenv("OLD_CRYPTOGRAPHY_KEY", old_crypto)
    code, out, _ = run("reencrypt_connections", "--dry-run")
    assert "Would re-encrypt 1 connection(s)" in out
    with pytest.raises(dx.UNREADABLE_ERRORS):
        Connection.objects.get(pk=connection.pk)
    code, out, _ = run("reencrypt_connections")
    assert "Re-encrypted 1 connection(s)" in out
    assert "rotated-token-value" not in out
    assert Connection.objects.get(pk=connection.pk).access_token == "rotated-token-value"
    code, out, _ = run("reencrypt_connections")
    assert "Re-encrypted 0 connection(s); 1 already used the current keys" in out


def test_reencrypt_with_wrong_old_keys_names_the_connection(make_connection, monkeypatch):
    import pickle

    connection = make_connection()
    old = _fernet(secret_key="really-old", cryptography_key="really-old-crypto")
    _write_raw(connection.pk, "access_token", old.encrypt(pickle.dumps("x")))
    monkeypatch.setenv("OLD_DJANGO_SECRET_KEY", "wrong-guess")
    with pytest.raises(CommandError, match="Main store"):
        call_command("reencrypt_connections", stdout=io.StringIO())


def test_reencrypt_needs_old_keys(monkeypatch):
    monkeypatch.delenv("OLD_DJANGO_SECRET_KEY", raising=False)
    monkeypatch.delenv("OLD_CRYPTOGRAPHY_KEY", raising=False)
    with pytest.raises(CommandError, match="OLD_DJANGO_SECRET_KEY"):
        call_command("reencrypt_connections", stdout=io.StringIO())


def test_reencrypt_when_only_the_secret_key_changed(make_connection, monkeypatch):
    import pickle

    connection = make_connection()
    old = _fernet(secret_key="previous-django-secret-key", cryptography_key=None)
    _write_raw(connection.pk, "access_token", old.encrypt(pickle.dumps("kept-token")))
    monkeypatch.setenv("OLD_DJANGO_SECRET_KEY", "previous-django-secret-key")
    monkeypatch.delenv("OLD_CRYPTOGRAPHY_KEY", raising=False)
    code, out, _ = run("reencrypt_connections")
    assert code == 0 and "Re-encrypted 1 connection(s)" in out
    assert Connection.objects.get(pk=connection.pk).access_token == "kept-token"


def test_plain_http_needs_the_option_and_is_warned_about(store_mock):
    args = ("add_connection", "--name", "Plain", "--store-domain", "http://plain.example.com")
    args += ("--access-token", SECRETS["access_token"], "--no-verify")
    with pytest.raises(CommandError, match="unencrypted") as caught:
        call_command(*args, stdout=io.StringIO(), stderr=io.StringIO())
    assert caught.value.returncode == 2
    code, out, err = run(*args, "--allow-plain-http")
    assert code == 0
    assert json.loads(out.strip())["status"] == ConnectionStatus.UNVERIFIED
    assert "Warning: this store is reached over plain http://" in err
    code, out, err = run(
        "add_connection",
        "--name",
        "Safe",
        "--store-domain",
        "https://other.example.com",
        "--access-token",
        SECRETS["access_token"],
        "--no-verify",
    )
    assert code == 0 and "Warning" not in err


def test_from_a_shell_secrets_come_from_standard_input_and_statuses_are_real(
    store_mock, monkeypatch, capsys
):
    store_mock.add("POST", f"{REST}/V1/integration/admin/token", json=ADMIN_TOKEN)
    healthy_store(store_mock)
    monkeypatch.setenv("MAGENTO_TOTP_SECRET", "")
    code, out, err = manage(
        monkeypatch,
        capsys,
        "add_connection",
        "--name=Shell",
        "--store-domain=shop.example.com",
        "--admin-username=portal-bot",
        "--admin-password=-",
        stdin=SECRETS["admin_password"] + "\n",
    )
    assert code == 0, err
    assert json.loads(out)["status"] == "verified"
    assert Connection.objects.get(name="Shell").admin_password == SECRETS["admin_password"]
    assert_no_secret(out + err)

    code, out, err = manage(
        monkeypatch, capsys, "add_connection", "--name=Bad", "--store-domain=ftp://x"
    )
    assert code == 2
    assert "--store-domain: " in err and out == ""

    store_mock.reset()
    refuse_everything(store_mock)
    code, out, err = manage(
        monkeypatch,
        capsys,
        "add_connection",
        "--name=Refused",
        "--store-domain=shop.example.com",
        "--access-token=-",
        stdin=SECRETS["access_token"] + "\n",
    )
    assert code == 1
    assert json.loads(out) == {
        "id": None,
        "name": "Refused",
        "status": "failed",
        "diagnosis": "token_rejected",
    }
    assert_no_secret(out + err)

    code, out, err = manage(monkeypatch, capsys, "test_connection", "Nobody")
    assert code == 1 and "No connection named 'Nobody'" in err

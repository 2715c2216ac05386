"""Bad input to connections: every field of the admin form and every option of add_connection and
test_connection gets every kind of bad value (tests/security/inputs.py says which and how the
answer is judged). Fields and options are read from the form and the commands' parsers, so a new
one is covered without touching this file."""

from __future__ import annotations

import pytest
from django import forms
from django.core.management import base as management_base
from django.core.management import load_command_class

from connections.forms import ConnectionForm
from connections.models import OAUTH_FIELDS, SECRET_FIELDS, AuthMethod, Connection
from tests.connections.helpers import ADD_URL, SECRETS, form_data, token_fields
from tests.helpers import manage
from tests.security.inputs import (
    BAD_TEXT,
    KINDS,
    MUST_REFUSE,
    TOO_LONG,
    UNESCAPED,
    no_traceback,
    value_of,
)

pytestmark = pytest.mark.django_db

TOKEN_FIELDS = ("access_token", *OAUTH_FIELDS)
SESSION_FIELDS = ("admin_username", "admin_password", "totp_secret")
# Fields a connection cannot do without (for its method): empty is refused there.
REQUIRED = {"name", "store_domain", "auth_method", "access_token", "admin_username"}
REQUIRED_IF_SESSION = {"admin_password"}


def session_data(**extra):
    return form_data(
        auth_method=AuthMethod.SESSION,
        access_token="",
        admin_username="portal-bot",
        admin_password=SECRETS["admin_password"],
        **extra,
    )


def oauth_data(**extra):
    return form_data(**{name: SECRETS[name] for name in OAUTH_FIELDS}, **extra)


def form_fields() -> dict[str, forms.Field]:
    return dict(ConnectionForm().fields)


def wrong_type(field: forms.Field) -> object:
    """What a browser could post that is not of the field's type."""
    if isinstance(field, forms.IntegerField):
        return "ten"
    if isinstance(field, forms.ChoiceField):
        return "no-such-choice"
    if isinstance(field, forms.BooleanField):
        return "maybe"  # a checkbox: any value counts as ticked, as in every browser
    return ["two", "values"]  # a text field posted twice


def form_cases():
    for name in form_fields():
        methods = ("session",) if name in SESSION_FIELDS else ("token",)
        if name in OAUTH_FIELDS:
            methods = ("oauth",)  # the four OAuth values go together
        if name not in TOKEN_FIELDS and name not in SESSION_FIELDS:
            methods = ("token", "session")
        for method in methods:
            for kind in KINDS:
                yield pytest.param(method, name, kind, id=f"{method}-{name}-{kind}")


@pytest.mark.parametrize(("method", "name", "kind"), list(form_cases()))
def test_admin_form_field_gets_bad_value(editor_client, store_mock, method, name, kind):
    field = form_fields()[name]
    value = value_of(kind, wrong=wrong_type(field))
    data = {"session": session_data, "token": form_data, "oauth": oauth_data}[method]()
    # Saved even when the (unreachable) store cannot verify it, so "accepted" shows as a row.
    data.update({"save_anyway": "on", name: value})
    if isinstance(field, forms.BooleanField) and value == "":
        data.pop(name)  # an unticked checkbox is not posted at all
    response = editor_client.post(ADD_URL, data)

    assert response.status_code in (200, 302), response.status_code
    if name == "save_anyway" and kind == "empty":
        # Not ticked: the unreachable store's diagnosis is the answer, and nothing is saved.
        assert response.status_code == 200 and Connection.objects.count() == 0
        return
    if response.status_code == 200:
        form = response.context["adminform"].form
        assert form.errors, "the form came back without saying what is wrong"
        assert name in form.errors, f"the message is not at {name}: {dict(form.errors)}"
        assert Connection.objects.count() == 0
        assert len(store_mock.calls) == 0, "the store was asked about refused input"
        page = response.content.decode()
        assert not UNESCAPED.search(page)
        for secret in SECRET_FIELDS:
            # Secrets are never sent back to the browser, not even refused ones.
            if name == secret and isinstance(value, str) and len(value) > 3:
                assert value not in page and value[:12] not in page
        return

    if isinstance(field, forms.BooleanField):
        return  # a checkbox is ticked or not; there is nothing else to keep
    must_refuse = kind in MUST_REFUSE or (
        kind == "empty"
        and (name in REQUIRED or (method == "session" and name in REQUIRED_IF_SESSION))
    )
    if kind == "wrong type" and isinstance(value, list):
        must_refuse = False  # a browser's repeated field: the last value counts
    assert not must_refuse, f"{kind} in {name} was saved"
    connection = Connection.objects.get()
    saved = getattr(connection, name)
    if name in ("store_code", "timeout_seconds") and kind == "empty":
        return  # the defaults
    if name == "totp_secret" and kind not in ("empty", "wrong type"):
        pytest.fail(f"{kind} was saved as a 2FA secret")
    if isinstance(saved, str) and isinstance(value, str) and name != "store_domain":
        assert saved in (value, value.strip()), f"{name} was changed on the way: {saved!r}"
    page = editor_client.get(
        f"/admin/connections/connection/{connection.pk}/change/"
    ).content.decode()
    assert not UNESCAPED.search(page)


def command_options(command_name: str) -> list[tuple[str, str, object]]:
    """(option string, dest, type) of every option of a command that takes a value."""
    command = load_command_class("connections", command_name)
    parser = command.create_parser("manage.py", command_name)
    found = []
    for action in parser._actions:
        if action.nargs == 0 or action.dest in management_base.BaseCommand.base_stealth_options:
            continue
        options = action.option_strings
        if options and options[0] in ("--settings", "--pythonpath", "--verbosity", "-v"):
            continue
        if options and options[0] in (
            "--traceback",
            "--no-color",
            "--force-color",
            "--skip-checks",
        ):
            continue
        found.append((options[0] if options else "", action.dest, action.type))
    return found


ADD_BASE = {
    "--name": "Main store",
    "--store-domain": "shop.example.com",
    "--access-token": SECRETS["access_token"],
}
ADD_OAUTH_BASE = {
    **ADD_BASE,
    **{f"--{name.replace('_', '-')}": SECRETS[name] for name in OAUTH_FIELDS},
}
ADD_SESSION_BASE = {
    "--name": "Main store",
    "--store-domain": "shop.example.com",
    "--admin-username": "portal-bot",
    "--admin-password": SECRETS["admin_password"],
}


def add_cases():
    for option, dest, kind_type in command_options("add_connection"):
        base = ADD_SESSION_BASE if dest in SESSION_FIELDS else ADD_BASE
        if dest in OAUTH_FIELDS:
            base = ADD_OAUTH_BASE
        for kind in KINDS:
            yield pytest.param(option, dest, kind_type, base, kind, id=f"{option}-{kind}")


@pytest.mark.parametrize(("option", "dest", "type_", "base", "kind"), list(add_cases()))
def test_add_connection_option_gets_bad_value(
    monkeypatch, capsys, store_mock, option, dest, type_, base, kind
):
    for env in ("ACCESS_TOKEN", "CONSUMER_KEY", "CONSUMER_SECRET", "ACCESS_TOKEN_SECRET"):
        monkeypatch.delenv(f"MAGENTO_{env}", raising=False)
    for env in ("ADMIN_PASSWORD", "TOTP_SECRET"):
        monkeypatch.delenv(f"MAGENTO_{env}", raising=False)
    value = value_of(kind, wrong="ten" if type_ is int else None)
    argv = [f"{key}={item}" for key, item in base.items() if key != option]
    # A text option has no wrong type: the option without its value is tried instead.
    argv += [option] if value is None else [f"{option}={value}"]
    # The (unreachable) store cannot verify: accepted values are saved anyway and exit 1.
    code, out, err = manage(monkeypatch, capsys, "add_connection", "--save-anyway", *argv)

    assert no_traceback(err + out), err
    if code == 2:
        assert option in err, f"the message does not name {option}: {err}"
        assert Connection.objects.count() == 0
        assert len(store_mock.calls) == 0, "the store was asked about refused input"
        if dest in SECRET_FIELDS and value and len(value) > 3:
            assert value not in err + out
        return
    assert code == 1, (code, out, err)
    must_refuse = kind in MUST_REFUSE or (
        kind == "empty" and dest in REQUIRED | REQUIRED_IF_SESSION | {"store_code"}
    )
    if dest == "totp_secret" and kind != "empty":
        must_refuse = True  # only base32 is a 2FA secret
    assert not must_refuse, f"{kind} in {option} was saved: {out}"
    assert Connection.objects.count() == 1


@pytest.mark.parametrize("kind", [kind for kind in KINDS if kind != "wrong type"])
def test_test_connection_name_gets_bad_value(monkeypatch, capsys, store_mock, kind):
    Connection.objects.create(**token_fields(store_domain="https://shop.example.com"))
    value = BAD_TEXT[kind]
    code, out, err = manage(monkeypatch, capsys, "test_connection", "--", value)
    assert no_traceback(err + out), err
    assert code != 0
    assert "No connection named" in err or "name" in err
    assert len(store_mock.calls) == 0
    # What was typed is quoted back escaped: no control character reaches the terminal.
    assert "\x1b" not in err and "\x00" not in err and "\r" not in err


def test_every_field_and_option_is_covered():
    """The matrices above are built from the form and the parsers: show they found fields."""
    names = set(form_fields())
    assert {"name", "store_domain", "access_token", "admin_password", "timeout_seconds"} <= names
    options = {option for option, _dest, _type in command_options("add_connection")}
    assert {"--name", "--store-domain", "--timeout", "--totp-secret", "--store-code"} <= options
    assert TOO_LONG and len(TOO_LONG) > 1024

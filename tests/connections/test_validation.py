"""A plain-words validation message for every bad value of every field."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from connections.forms import ConnectionForm
from connections.models import Connection
from connections.services import connection_create
from connections.validation import connection_problems
from tests.connections.helpers import SECRETS

pytestmark = pytest.mark.django_db


def form_data(**extra):
    data = {
        "name": "Main store",
        "store_domain": "shop.example.com",
        "auth_method": "integration_token",
        "access_token": SECRETS["access_token"],
        "store_code": "all",
        "verify_tls": "on",
        "timeout_seconds": "30",
    }
    data.update(extra)
    return data


SESSION = {
    "auth_method": "session",
    "access_token": "",
    "admin_username": "portal-bot",
    "admin_password": SECRETS["admin_password"],
}

BAD_VALUES = [
    ("name-empty", {"name": ""}, "name", "Enter a name"),
    ("name-blank", {"name": "   "}, "name", "Enter a name"),
    ("name-too-long", {"name": "x" * 101}, "name", "at most 100"),
    ("domain-empty", {"store_domain": ""}, "store_domain", "Enter the store's address"),
    ("domain-scheme", {"store_domain": "ftp://shop.example.com"}, "store_domain", "https://"),
    (
        "domain-userinfo",
        {"store_domain": "https://bob:pw@shop.example.com"},
        "store_domain",
        "user name or password",
    ),
    ("domain-query", {"store_domain": "shop.example.com/?a=1"}, "store_domain", "query"),
    ("domain-space", {"store_domain": "shop example.com"}, "store_domain", "spaces"),
    ("domain-no-host", {"store_domain": "https://"}, "store_domain", "no host name"),
    ("domain-private", {"store_domain": "internal.example.com"}, "store_domain", "private"),
    ("domain-loopback", {"store_domain": "localhost"}, "store_domain", "loopback"),
    (
        "http-without-opt-in",
        {"store_domain": "http://plain.example.com"},
        "allow_plain_http",
        "unencrypted",
    ),
    (
        "domain-too-long",
        {"store_domain": "https://shop.example.com/" + "a" * 600},
        "store_domain",
        "500",
    ),
    ("method-unknown", {"auth_method": "magic"}, "auth_method", "valid choice"),
    ("token-missing", {"access_token": ""}, "access_token", "Enter the integration's Access"),
    ("token-spaces", {"access_token": "abc def"}, "access_token", "spaces"),
    ("token-too-long", {"access_token": "a" * 1025}, "access_token", "too long"),
    (
        "oauth-partial-secret",
        {"consumer_key": SECRETS["consumer_key"]},
        "consumer_secret",
        "all four",
    ),
    (
        "oauth-partial-token-secret",
        {"consumer_key": SECRETS["consumer_key"]},
        "access_token_secret",
        "all four",
    ),
    (
        "oauth-missing-key",
        {"consumer_secret": "x" * 20, "access_token_secret": "y" * 20},
        "consumer_key",
        "all four",
    ),
    (
        "oauth-spaces",
        {"consumer_key": "a b", "consumer_secret": "c", "access_token_secret": "d"},
        "consumer_key",
        "spaces",
    ),
    (
        "oauth-secret-too-long",
        {"consumer_key": "k" * 20, "consumer_secret": "s" * 1100, "access_token_secret": "a" * 20},
        "consumer_secret",
        "too long",
    ),
    (
        "oauth-token-secret-spaces",
        {"consumer_key": "k" * 20, "consumer_secret": "s" * 20, "access_token_secret": "a b"},
        "access_token_secret",
        "spaces",
    ),
    ("username-missing", {**SESSION, "admin_username": ""}, "admin_username", "admin user name"),
    ("username-too-long", {**SESSION, "admin_username": "u" * 256}, "admin_username", "255"),
    ("password-missing", {**SESSION, "admin_password": ""}, "admin_password", "password"),
    ("password-too-long", {**SESSION, "admin_password": "p" * 1025}, "admin_password", "too long"),
    ("totp-not-base32", {**SESSION, "totp_secret": "not-base32!"}, "totp_secret", "base32"),
    ("totp-digit-one", {**SESSION, "totp_secret": "JBSWY3DPEHPK3PX1"}, "totp_secret", "2-7 only"),
    ("totp-zero-width", {**SESSION, "totp_secret": "JBSWY3DP\u200bEHPK"}, "totp_secret", "2-7"),
    ("totp-nul", {**SESSION, "totp_secret": "JBSWY3DP\x00EHPK"}, "totp_secret", "Null char"),
    ("totp-inner-padding", {**SESSION, "totp_secret": "JBSW=Y3DP"}, "totp_secret", "2-7"),
    ("totp-only-dashes", {**SESSION, "totp_secret": "- -"}, "totp_secret", "is empty"),
    ("totp-only-padding", {**SESSION, "totp_secret": "===="}, "totp_secret", "is empty"),
    ("totp-too-long", {**SESSION, "totp_secret": "A" * 257}, "totp_secret", "at most 256"),
    ("totp-10000", {**SESSION, "totp_secret": "JBSWY3DP" * 1250}, "totp_secret", "(10000 char"),
    ("store-code-digit-first", {"store_code": "1shop"}, "store_code", "starts with a letter"),
    ("store-code-dash", {"store_code": "de-ch"}, "store_code", "letters, digits"),
    ("store-code-too-long", {"store_code": "a" * 33}, "store_code", "at most 32"),
    ("timeout-zero", {"timeout_seconds": "0"}, "timeout_seconds", "between 1 and 120"),
    ("timeout-too-big", {"timeout_seconds": "121"}, "timeout_seconds", "between 1 and 120"),
    ("timeout-negative", {"timeout_seconds": "-5"}, "timeout_seconds", "between 1 and 120"),
    ("timeout-not-number", {"timeout_seconds": "soon"}, "timeout_seconds", "whole number"),
]


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [case[1:] for case in BAD_VALUES],
    ids=[case[0] for case in BAD_VALUES],
)
def test_bad_value_gets_a_message_on_its_field(changes, field, fragment):
    form = ConnectionForm(data=form_data(**changes))
    assert not form.is_valid()
    assert field in form.errors, form.errors
    message = " ".join(form.errors[field])
    assert fragment in message
    assert form.verification is None  # the store is never called with bad values


def test_duplicate_name_ignores_case(make_connection):
    make_connection(name="Main Store")
    form = ConnectionForm(data=form_data(name="main store"))
    assert not form.is_valid()
    assert "already exists" in form.errors["name"][0]


def test_renaming_to_own_name_is_fine(make_connection, store_mock):
    from tests.connections.helpers import healthy_store

    connection = make_connection(name="Main store")
    healthy_store(store_mock)
    form = ConnectionForm(data=form_data(name="MAIN STORE", access_token=""), instance=connection)
    assert form.is_valid(), form.errors


def test_messages_never_echo_a_secret():
    form = ConnectionForm(data=form_data(access_token="secret with spaces inside"))
    assert not form.is_valid()
    assert "secret with spaces inside" not in str(form.errors)


def test_service_raises_validation_error_by_field():
    with pytest.raises(ValidationError) as caught:
        connection_create(
            name="",
            store_domain="ftp://x",
            auth_method="session",
            store_code="1",
            timeout_seconds=0,
        )
    fields = set(caught.value.message_dict)
    assert {
        "name",
        "store_domain",
        "admin_username",
        "admin_password",
        "store_code",
        "timeout_seconds",
    } <= fields


def test_service_refuses_an_admin_username_with_surrounding_spaces():
    # The form strips spaces; the command line and other callers get a message instead.
    with pytest.raises(ValidationError) as caught:
        connection_create(
            name="Main store",
            store_domain="shop.example.com",
            auth_method="session",
            admin_username=" portal-bot",
            admin_password=SECRETS["admin_password"],
        )
    assert caught.value.message_dict == {
        "admin_username": ["The Admin Username must not start or end with a space."]
    }


@pytest.mark.parametrize(
    "secret",
    [
        "JBSWY3DPEHPK3PXP",  # 80 bits: Magento's set-secret takes it, pyotp 2.12 alone does not
        "jbsw y3dp-ehpk 3pxp",  # as authenticator apps group it
        "ABCD",  # Magento has no minimum (OTPHP decodes any base32)
        "JBSWY3DPEHPK3PXP====",
        "A" * 256,
    ],
)
def test_every_secret_magento_accepts_passes_validation(secret):
    problems = connection_problems(Connection(**SESSION, name="Shop", totp_secret=secret))
    assert "totp_secret" not in problems


# Characters nobody types on purpose, each refused on the field it is in (form and service).
UNSEEN = [
    ("nul", "\x00"),
    ("bel", "\x07"),
    ("esc", "\x1b"),
    ("cr", "\r"),
    ("lf", "\n"),
    ("tab", "\t"),
    ("rtl-override", "\u202e"),
    ("zero-width-space", "\u200b"),
    ("line-separator", "\u2028"),
]
TOKEN_SERVICE = {"auth_method": "integration_token", "access_token": SECRETS["access_token"]}
SESSION_SERVICE = {
    "auth_method": "session",
    "admin_username": "portal-bot",
    "admin_password": SECRETS["admin_password"],
}
UNSEEN_FIELDS = [
    ("name", {}, TOKEN_SERVICE, "Main{}store"),
    ("admin_username", SESSION, SESSION_SERVICE, "portal{}bot"),
    ("admin_password", SESSION, SESSION_SERVICE, "Adm1n{}Pa55word"),
]


@pytest.mark.parametrize(("char_id", "char"), UNSEEN, ids=[case[0] for case in UNSEEN])
@pytest.mark.parametrize(
    ("field", "form_values", "service_values", "template"),
    UNSEEN_FIELDS,
    ids=[case[0] for case in UNSEEN_FIELDS],
)
def test_control_and_invisible_characters_are_refused_on_their_field(
    field, form_values, service_values, template, char_id, char
):
    value = template.format(char)
    form = ConnectionForm(data=form_data(**{**form_values, field: value}))
    assert not form.is_valid()
    assert list(form.errors) == [field], form.errors
    assert form.verification is None
    values = {"name": "Main store", "store_domain": "shop.example.com", **service_values}
    with pytest.raises(ValidationError) as caught:
        connection_create(**{**values, field: value}, verify=False)
    messages = caught.value.message_dict
    assert list(messages) == [field]
    if char != "\x00":  # the form itself refuses NUL ("Null characters are not allowed.")
        assert "invisible or control character" in form.errors[field][0]
    assert "invisible or control character" in messages[field][0]
    assert "type it again without it" in messages[field][0]
    if field == "admin_password":
        assert value not in str(messages) and repr(char)[1:-1] not in messages[field][0]


def test_the_message_names_the_character_outside_secrets():
    with pytest.raises(ValidationError) as caught:
        connection_create(
            name="Main\u202estore", store_domain="shop.example.com", **TOKEN_SERVICE, verify=False
        )
    assert caught.value.message_dict == {
        "name": [
            "The name contains an invisible or control character (U+202E RIGHT-TO-LEFT "
            "OVERRIDE): type it again without it."
        ]
    }
    with pytest.raises(ValidationError) as caught:
        connection_create(
            name="Main\nstore", store_domain="shop.example.com", **TOKEN_SERVICE, verify=False
        )
    assert "(a line break)" in caught.value.message_dict["name"][0]


@pytest.mark.parametrize(
    "password",
    ["  spaces around and inside  ", "Grüße aus Köln ♥ 日本語 🙂", "\u00a0no-break\u00a0space"],
)
def test_passwords_keep_spaces_and_any_printable_character(password):
    form = ConnectionForm(data=form_data(**{**SESSION, "admin_password": password}))
    form.is_valid()
    assert "admin_password" not in form.errors
    assert form.cleaned_data["admin_password"] == password  # not stripped
    connection = connection_create(
        name="Main store",
        store_domain="shop.example.com",
        auth_method="session",
        admin_username="portal-bot",
        admin_password=password,
        verify=False,
    ).connection
    assert connection.admin_password == password


def test_a_very_long_2fa_secret_is_refused_with_its_length():
    form = ConnectionForm(data=form_data(**{**SESSION, "totp_secret": "A" * 10_000}))
    assert not form.is_valid()
    assert form.errors["totp_secret"] == [
        "The 2FA secret is too long (10000 characters); use at most 256. Copy only the key "
        "shown when Google Authenticator was set up."
    ]

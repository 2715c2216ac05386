"""Authentication and ACL of the sandbox, over real HTTP, compared with Magento's answers."""

import base64
import hashlib
import hmac
import json
import re
import time
from urllib.parse import quote

import pyotp
import pytest
import requests
from requests_oauthlib import OAuth1

from magento.sandbox import ALL_RESOURCES, DEFAULT_GRANTS, Credentials, acl_selection
from tests.magento.sandbox.helpers import admin_token, bearer, oauth, rest, search_params
from tests.shared_data import load_error

GENERIC_401 = "The consumer isn't authorized to access %resources."


def test_integration_bearer_token_is_refused_while_the_standalone_option_is_off(sandbox_store):
    token = sandbox_store.credentials.access_token

    response = requests.get(rest(sandbox_store, "/V1/customers/1"), headers=bearer(token))

    assert response.status_code == 401
    assert response.json() == {
        "message": GENERIC_401,
        "parameters": {"resources": "Magento_Customer::customer"},
    }


def test_integration_bearer_token_works_once_the_option_is_on(sandbox_store):
    sandbox_store.bearer_enabled = True
    token = sandbox_store.credentials.access_token

    response = requests.get(rest(sandbox_store, "/V1/customers/1"), headers=bearer(token))

    assert response.status_code == 200
    assert response.json()["id"] == 1


def test_unknown_bearer_token_and_no_token_get_the_published_401(sandbox_store):
    status, body = load_error("unauthorized_consumer")
    url = rest(sandbox_store, "/V1/store/storeConfigs")

    unknown = requests.get(url, headers=bearer("x" * 32))
    missing = requests.get(url)

    assert (unknown.status_code, unknown.json()) == (status, body)
    assert (missing.status_code, missing.json()) == (status, body)


def test_oauth_signed_request_is_accepted(sandbox_store):
    params = search_params(("firstname", "%a%", "like"), page_size=5)

    response = requests.get(
        rest(sandbox_store, "/V1/customers/search"), params=params, auth=oauth(sandbox_store)
    )

    assert response.status_code == 200, response.text
    assert response.json()["total_count"] >= 1


def test_oauth_with_a_wrong_consumer_secret_fails_the_signature_check(sandbox_store):
    c = sandbox_store.credentials
    wrong = OAuth1(
        c.consumer_key,
        "0" * 32,
        c.access_token,
        c.access_token_secret,
        signature_method="HMAC-SHA256",
    )

    response = requests.get(rest(sandbox_store, "/V1/store/storeViews"), auth=wrong)

    assert response.status_code == 401
    assert response.json() == {"message": "The signature is invalid. Verify and try again."}


def test_oauth_hmac_sha1_is_not_supported(sandbox_store):
    c = sandbox_store.credentials
    sha1 = OAuth1(c.consumer_key, c.consumer_secret, c.access_token, c.access_token_secret)

    response = requests.get(rest(sandbox_store, "/V1/store/storeViews"), auth=sha1)

    assert response.status_code == 400
    assert response.json() == {
        "message": "Signature method %1 is not supported",
        "parameters": ["HMAC-SHA1"],
    }


def test_oauth_unknown_consumer_key_and_token(sandbox_store):
    c = sandbox_store.credentials
    url = rest(sandbox_store, "/V1/store/storeViews")
    bad_key = OAuth1(
        "k" * 32,
        c.consumer_secret,
        c.access_token,
        c.access_token_secret,
        signature_method="HMAC-SHA256",
    )
    bad_token = OAuth1(
        c.consumer_key,
        c.consumer_secret,
        "t" * 32,
        c.access_token_secret,
        signature_method="HMAC-SHA256",
    )

    key_answer = requests.get(url, auth=bad_key)
    token_answer = requests.get(url, auth=bad_token)

    assert key_answer.status_code == 401
    assert key_answer.json() == {"message": "A consumer having the specified key does not exist"}
    assert token_answer.status_code == 401
    assert token_answer.json() == {"message": "Specified token does not exist"}


def test_oauth_nonce_cannot_be_used_twice(sandbox_store):
    request = requests.Request(
        "GET", rest(sandbox_store, "/V1/store/storeViews"), auth=oauth(sandbox_store)
    ).prepare()

    with requests.Session() as session:
        first = session.send(request)
        replay = session.send(request)

    assert first.status_code == 200
    assert replay.status_code == 401
    assert replay.json() == {
        "message": "The nonce is already being used by the consumer with ID %1",
        "parameters": ["1"],
    }


def test_oauth_timestamp_far_in_the_future_is_refused(sandbox_store):
    c = sandbox_store.credentials
    future = OAuth1(
        c.consumer_key,
        c.consumer_secret,
        c.access_token,
        c.access_token_secret,
        signature_method="HMAC-SHA256",
        timestamp=str(int(time.time()) + 3600),
    )

    response = requests.get(rest(sandbox_store, "/V1/store/storeViews"), auth=future)

    assert response.status_code == 400
    assert response.json() == {
        "message": "Incorrect timestamp value in the oauth_timestamp parameter"
    }


def test_oauth_plus_in_the_query_is_a_literal_plus_so_form_encoding_breaks_the_signature(
    sandbox_store,
):
    url = rest(sandbox_store, "/V1/customers/search")
    base = "searchCriteria[filter_groups][0][filters][0][field]=firstname"
    plus = base + "&searchCriteria[filter_groups][0][filters][0][value]=Jane+Doe"
    percent = base + "&searchCriteria[filter_groups][0][filters][0][value]=Jane%20Doe"

    signed_with_plus = requests.get(f"{url}?{plus}", auth=oauth(sandbox_store))
    signed_with_percent = requests.get(f"{url}?{percent}", auth=oauth(sandbox_store))

    assert signed_with_plus.status_code == 401
    assert signed_with_plus.json()["message"] == "The signature is invalid. Verify and try again."
    assert signed_with_percent.status_code == 200


def _natural_key(name: str):
    return [
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.findall(r"\d+|\D+", name)
    ]


def _sign(method, url, pairs, credentials, *, natural: bool):
    """An independent OAuth 1.0a HMAC-SHA256 signer with a choice of parameter order."""

    def enc(value):
        return quote(value, safe="-._~")

    oauth_params = {
        "oauth_consumer_key": credentials.consumer_key,
        "oauth_nonce": base64.b16encode(str(time.time_ns()).encode()).decode()
        + ("n" if natural else "b"),
        "oauth_signature_method": "HMAC-SHA256",
        "oauth_timestamp": str(int(time.time())),
        "oauth_token": credentials.access_token,
        "oauth_version": "1.0",
    }
    encoded = {enc(k): enc(v) for k, v in [*pairs, *oauth_params.items()]}
    order = sorted(encoded, key=_natural_key) if natural else sorted(encoded)
    normalized = "&".join(f"{k}={encoded[k]}" for k in order)
    base = "&".join([method, enc(url), enc(normalized)])
    key = f"{enc(credentials.consumer_secret)}&{enc(credentials.access_token_secret)}"
    signature = base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha256).digest())
    oauth_params["oauth_signature"] = signature.decode()
    return "OAuth " + ", ".join(f'{k}="{enc(v)}"' for k, v in oauth_params.items())


@pytest.mark.parametrize(("natural", "expected_status"), [(True, 200), (False, 401)])
def test_oauth_base_string_orders_parameters_naturally_like_php_strnatcmp(
    sandbox_store, natural, expected_status
):
    url = rest(sandbox_store, "/V1/orders")
    filters = [[("entity_id", str(n), "neq")] for n in range(1000, 1012)]
    pairs = search_params(*filters, page_size=5)
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
    header = _sign("GET", url, pairs, sandbox_store.credentials, natural=natural)

    response = requests.get(f"{url}?{query}", headers={"Authorization": header})

    assert response.status_code == expected_status, response.text


def test_plain_admin_token_endpoint_answers_the_2fa_400_when_two_factor_is_on(sandbox_store):
    status, body = load_error("tfa_provider_specific_endpoints")
    c = sandbox_store.credentials

    response = requests.post(
        rest(sandbox_store, "/V1/integration/admin/token"),
        json={"username": c.admin_username, "password": c.admin_password},
    )

    assert (response.status_code, response.json()) == (status, body)


def test_google_2fa_gives_an_admin_token_that_works(sandbox_store):
    token = admin_token(sandbox_store)

    response = requests.get(rest(sandbox_store, "/V1/store/storeConfigs"), headers=bearer(token))

    assert re.fullmatch(r"[a-z0-9]{32}", token)
    assert response.status_code == 200


def test_google_2fa_with_a_wrong_code(sandbox_store):
    c = sandbox_store.credentials
    right = pyotp.TOTP(c.totp_secret).at(sandbox_store.store.clock())
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    response = requests.post(
        rest(sandbox_store, "/V1/tfa/provider/google/authenticate"),
        json={"username": c.admin_username, "password": c.admin_password, "otp": wrong},
    )

    assert response.status_code == 401
    assert response.json() == {"message": "Invalid code."}


TWO_FACTOR_NOT_SET_UP = {
    "message": "You are required to configure personal Two-Factor Authorization in order to "
    "login. Please check your email.",
    "parameters": {"providers": ["google"], "active_providers": []},
}


def test_admin_token_asks_an_admin_without_2fa_set_up_to_configure_it(sandbox_factory):
    server = sandbox_factory(two_factor_configured=False)
    c = server.credentials

    response = requests.post(
        rest(server, "/V1/integration/admin/token"),
        json={"username": c.admin_username, "password": c.admin_password},
    )

    assert response.status_code == 400
    assert response.json() == TWO_FACTOR_NOT_SET_UP


def test_admin_token_checks_the_password_before_the_2fa_set_up(sandbox_factory):
    server = sandbox_factory(two_factor_configured=False)

    response = requests.post(
        rest(server, "/V1/integration/admin/token"),
        json={"username": server.credentials.admin_username, "password": "wrong"},
    )

    assert (response.status_code, response.json()) == load_error("signin_incorrect")


def test_google_2fa_for_an_admin_without_it_set_up_is_refused_before_the_code(sandbox_factory):
    server = sandbox_factory(two_factor_configured=False)
    c = server.credentials
    url = rest(server, "/V1/tfa/provider/google/authenticate")
    right = pyotp.TOTP(c.totp_secret).at(server.store.clock())

    refused = requests.post(
        url, json={"username": c.admin_username, "password": c.admin_password, "otp": right}
    )
    wrong_code = requests.post(
        url, json={"username": c.admin_username, "password": c.admin_password, "otp": "000000"}
    )
    wrong_password = requests.post(
        url, json={"username": c.admin_username, "password": "wrong", "otp": right}
    )

    assert (refused.status_code, refused.json()) == (
        400,
        {"message": "Provider is not configured."},
    )
    assert (wrong_code.status_code, wrong_code.json()) == (
        400,
        {"message": "Provider is not configured."},
    )
    assert (wrong_password.status_code, wrong_password.json()) == load_error("signin_incorrect")


def test_admin_sets_up_2fa_then_signs_in_with_a_code(sandbox_factory):
    server = sandbox_factory(two_factor_configured=False)
    state = requests.post(
        f"{server.url}/__sandbox__/state", json={"two_factor_configured": True}
    ).json()

    token = admin_token(server)

    assert state["two_factor_configured"] is True
    assert server.two_factor_configured is True
    assert len(token) == 32


def test_google_2fa_route_does_not_exist_without_two_factor(sandbox_factory):
    server = sandbox_factory(two_factor_enabled=False)

    response = requests.post(
        rest(server, "/V1/tfa/provider/google/authenticate"),
        json={"username": "a", "password": "b", "otp": "123456"},
    )

    assert response.status_code == 404


def test_admin_token_without_two_factor_is_a_json_string(sandbox_factory):
    server = sandbox_factory(two_factor_enabled=False)

    token = admin_token(server)

    assert isinstance(token, str) and len(token) == 32


def test_wrong_admin_password_and_empty_credentials(sandbox_factory):
    server = sandbox_factory(two_factor_enabled=False)
    url = rest(server, "/V1/integration/admin/token")

    wrong = requests.post(url, json={"username": "admin", "password": "nope"})
    empty = requests.post(url, json={"username": "", "password": ""})

    assert (wrong.status_code, wrong.json()) == load_error("signin_incorrect")
    assert (empty.status_code, empty.json()) == load_error("input_exceptions")


def test_six_failures_lock_the_account_for_thirty_minutes(sandbox_factory):
    server = sandbox_factory(two_factor_enabled=False)
    url = rest(server, "/V1/integration/admin/token")
    c = server.credentials
    for _ in range(6):
        assert (
            requests.post(url, json={"username": c.admin_username, "password": "x"}).status_code
            == 401
        )

    locked = requests.post(url, json={"username": c.admin_username, "password": c.admin_password})
    server.store.clock.advance(1801)
    unlocked = requests.post(url, json={"username": c.admin_username, "password": c.admin_password})

    assert (locked.status_code, locked.json()) == load_error("signin_incorrect")
    assert unlocked.status_code == 200


def test_five_failures_do_not_lock(sandbox_factory):
    server = sandbox_factory(two_factor_enabled=False)
    url = rest(server, "/V1/integration/admin/token")
    c = server.credentials
    for _ in range(5):
        requests.post(url, json={"username": c.admin_username, "password": "x"})

    response = requests.post(url, json={"username": c.admin_username, "password": c.admin_password})

    assert response.status_code == 200


def test_admin_token_expires_after_its_lifetime(sandbox_factory):
    server = sandbox_factory(admin_token_lifetime=60)
    token = admin_token(server)
    url = rest(server, "/V1/store/storeConfigs")

    fresh = requests.get(url, headers=bearer(token))
    server.store.clock.advance(61)
    expired = requests.get(url, headers=bearer(token))

    assert fresh.status_code == 200
    assert (expired.status_code, expired.json()) == load_error("unauthorized_consumer")


def test_default_admin_token_lifetime_is_four_hours(sandbox_store):
    token = admin_token(sandbox_store)
    url = rest(sandbox_store, "/V1/store/storeViews")

    sandbox_store.store.clock.advance(4 * 3600 - 5)
    still_valid = requests.get(url, headers=bearer(token))
    sandbox_store.store.clock.advance(10)
    expired = requests.get(url, headers=bearer(token))

    assert still_valid.status_code == 200
    assert expired.status_code == 401


def test_missing_acl_grant_gives_the_generic_401_naming_the_resource(sandbox_factory):
    server = sandbox_factory(
        bearer_enabled=True,
        granted_resources={"Magento_Customer::customer", "Magento_Sales::shipment"},
    )
    headers = bearer(server.credentials.access_token)

    orders = requests.get(rest(server, "/V1/orders"), params=search_params(), headers=headers)
    ship = requests.post(rest(server, "/V1/order/1/ship"), json={}, headers=headers)
    customer = requests.get(rest(server, "/V1/customers/1"), headers=headers)
    edit = requests.put(rest(server, "/V1/customers/1"), json={"customer": {}}, headers=headers)

    assert orders.status_code == 401
    assert orders.json()["parameters"] == {"resources": "Magento_Sales::actions_view"}
    assert ship.json()["parameters"] == {"resources": "Magento_Sales::ship"}
    assert customer.status_code == 200
    # Magento saves a rule for every resource: a ticked parent does not grant an unticked child.
    assert edit.status_code == 401
    assert edit.json()["parameters"] == {"resources": "Magento_Customer::manage"}


def test_resource_access_all_grants_every_resource(sandbox_factory):
    server = sandbox_factory(bearer_enabled=True, granted_resources={ALL_RESOURCES})
    headers = bearer(server.credentials.access_token)

    edit = requests.put(rest(server, "/V1/customers/1"), json={"customer": {}}, headers=headers)
    ship = requests.post(rest(server, "/V1/order/0/ship"), json={}, headers=headers)

    assert edit.status_code == 400
    assert ship.status_code == 400


def test_admin_role_resources_limit_an_admin_token(sandbox_factory):
    server = sandbox_factory(admin_role_resources=DEFAULT_GRANTS - {"Magento_Sales::ship"})
    headers = bearer(admin_token(server))

    ship = requests.post(rest(server, "/V1/order/1/ship"), json={}, headers=headers)
    order = requests.get(rest(server, "/V1/orders/1"), headers=headers)

    assert ship.status_code == 401
    assert ship.json()["parameters"] == {"resources": "Magento_Sales::ship"}
    assert order.status_code == 200
    assert server.state()["counts"]["shipments"] == 0


def test_ticking_magento_sales_sales_covers_orders_shipping_and_shipments(sandbox_factory):
    server = sandbox_factory(
        bearer_enabled=True, granted_resources=acl_selection("Magento_Sales::sales")
    )
    headers = bearer(server.credentials.access_token)

    orders = requests.get(
        rest(server, "/V1/orders"), params=search_params(page_size=5), headers=headers
    )
    store_views = requests.get(rest(server, "/V1/store/storeViews"), headers=headers)

    assert orders.status_code == 200
    assert store_views.status_code == 401
    assert store_views.json()["parameters"] == {"resources": "Magento_Backend::store"}


def test_credentials_repr_hides_every_secret(sandbox_store):
    c = sandbox_store.credentials

    text = repr(c)

    for secret in (
        c.consumer_key,
        c.consumer_secret,
        c.access_token,
        c.access_token_secret,
        c.admin_password,
        c.totp_secret,
    ):
        assert secret not in text


def test_anonymous_routes_ignore_even_broken_credentials(sandbox_store):
    c = sandbox_store.credentials
    broken = OAuth1(
        c.consumer_key,
        "wrong",
        c.access_token,
        c.access_token_secret,
        signature_method="HMAC-SHA256",
    )

    response = requests.post(
        rest(sandbox_store, "/V1/customers"),
        json={"customer": {"email": "anon@example.com", "firstname": "A", "lastname": "N"}},
        auth=broken,
    )

    assert response.status_code == 200


def test_oauth_version_other_than_1_0_is_not_supported(sandbox_store):
    response = requests.get(
        rest(sandbox_store, "/V1/store/storeViews"),
        headers={"Authorization": 'OAuth oauth_version="2.0"'},
    )

    assert response.status_code == 400
    assert response.json() == {
        "message": 'The "%1" Oauth version isn\'t supported.',
        "parameters": ["2.0"],
    }


def test_oauth_consumer_key_of_the_wrong_length(sandbox_store):
    short_key = oauth(sandbox_store, consumer_key="k" * 31)

    response = requests.get(rest(sandbox_store, "/V1/store/storeViews"), auth=short_key)

    assert response.status_code == 401
    assert response.json() == {"message": "Consumer key is not the correct length"}


NON_ASCII_ADMIN = {"admin_username": "jürgen.müller", "admin_password": "Pässwort-€-1"}


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("jürgen.müller", "Pässwort-€-2"),  # the right user, a wrong non-ASCII password
        ("jürgen.müller", "Passwort-E-1"),
        ("jürgen.mūller", "Pässwort-€-1"),  # another non-ASCII user name
        ("admin", "Pässwort-€-1"),
        ("jürgen.müller", "\ud800"),  # a lone surrogate, as JSON can carry one
    ],
)
def test_non_ascii_admin_credentials_are_refused_like_any_wrong_sign_in(
    sandbox_factory, username, password
):
    server = sandbox_factory(
        credentials=Credentials.generate(**NON_ASCII_ADMIN), two_factor_enabled=False
    )
    status, body = load_error("signin_incorrect")

    response = requests.post(
        rest(server, "/V1/integration/admin/token"),
        data=json.dumps({"username": username, "password": password}),
        headers={"Content-Type": "application/json"},
    )

    assert (response.status_code, response.json()) == (status, body)


@pytest.mark.parametrize("two_factor_enabled", [False, True])
def test_non_ascii_admin_credentials_that_are_right_sign_in(sandbox_factory, two_factor_enabled):
    server = sandbox_factory(
        credentials=Credentials.generate(**NON_ASCII_ADMIN), two_factor_enabled=two_factor_enabled
    )

    token = admin_token(server)  # JSON as requests sends it: "\u00fc" escapes

    response = requests.get(rest(server, "/V1/store/storeConfigs"), headers=bearer(token))
    assert response.status_code == 200
    # The same credentials as raw UTF-8 in the body.
    raw = requests.post(
        rest(server, "/V1/integration/admin/token"),
        data=json.dumps(
            {"username": "jürgen.müller", "password": "Pässwort-€-1"}, ensure_ascii=False
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert raw.status_code == (400 if two_factor_enabled else 200)


def test_non_ascii_tokens_and_oauth_values_are_refused_not_a_500(sandbox_store):
    url = rest(sandbox_store, "/V1/store/storeViews")
    bearer_answer = requests.get(url, headers={"Authorization": "Bearer tökén".encode()})
    assert bearer_answer.status_code == 401

    c = sandbox_store.credentials
    key = "ä" * 32
    header = (
        f'OAuth oauth_consumer_key="{quote(key)}", oauth_token="{c.access_token}", '
        'oauth_signature_method="HMAC-SHA256", oauth_nonce="n1", '
        f'oauth_timestamp="{int(sandbox_store.store.clock())}", oauth_version="1.0", '
        'oauth_signature="x"'
    )
    oauth_answer = requests.get(url, headers={"Authorization": header})
    assert oauth_answer.status_code == 401
    assert oauth_answer.json()["message"] == "A consumer having the specified key does not exist"

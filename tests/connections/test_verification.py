"""Every diagnosis, from Magento's real answers (strict `responses` mocks)."""

from __future__ import annotations

import json

import pytest
import requests
import responses

from connections import diagnosis as dx
from connections.models import Connection, ConnectionStatus
from connections.selectors import connection_list_verified
from connections.services import connection_create
from connections.verification import connection_check, connection_verify
from tests.connections.helpers import (
    ADMIN_TOKEN,
    PROBES,
    REST,
    SECRETS,
    add_probes,
    add_store_configs,
    assert_no_secret,
    healthy_store,
    oauth_fields,
    refuse_everything,
    session_fields,
    token_fields,
)
from tests.helpers import store_configs
from tests.shared_data import load_error, load_sample

pytestmark = pytest.mark.django_db


def check(**fields):
    return connection_check(connection=Connection(**fields))


def unauthorized(resource="Magento_Backend::store"):
    status, body = load_error("unauthorized_consumer")
    body["parameters"]["resources"] = resource
    return status, body


def test_healthy_store_is_verified_with_store_facts(store_mock):
    healthy_store(store_mock)
    result = check(**token_fields(store_domain="https://shop.example.com"))
    assert result.ok
    assert result.diagnosis.code == dx.VERIFIED
    assert result.store.base_url == "https://shop.example.com/"
    assert result.store.timezone == "Europe/Berlin"
    assert result.store.currency == "EUR"
    assert result.permissions == {
        "store": "ok",
        "customers": "ok",
        "customers_update": "ok",
        "products": "ok",
        "products_save": "ok",
        "orders": "ok",
        "orders_ship": "ok",
        "shipments": "ok",
    }
    bearer = store_mock.calls[0].request.headers["Authorization"]
    assert bearer == f"Bearer {SECRETS['access_token']}"
    # Probes ask for one row only, so a big store answers quickly.
    assert "searchCriteria%5BpageSize%5D=1" in store_mock.calls[1].request.url


def test_store_configs_sample_shape_matches_schema():
    import jsonschema

    from tests.shared_data import load_schema_subset

    schema = load_schema_subset()
    definition = {
        "$ref": "#/definitions/store-data-store-config-interface",
        "definitions": schema["definitions"],
    }
    for config in store_configs("default", "de"):
        jsonschema.Draft4Validator(definition).validate(config)


def test_facts_come_from_the_chosen_store_view(store_mock):
    configs = store_configs("default", "de")
    configs[1]["base_currency_code"] = "CHF"
    configs[1]["timezone"] = "Europe/Zurich"
    add_store_configs(store_mock, body=configs)
    add_probes(store_mock, store_code="de")
    result = check(**token_fields(store_domain="https://shop.example.com", store_code="de"))
    assert result.ok
    assert (result.store.currency, result.store.timezone) == ("CHF", "Europe/Zurich")


def test_unknown_store_code_is_named(store_mock):
    add_store_configs(store_mock, codes=("default", "de"))
    result = check(**token_fields(store_domain="https://shop.example.com", store_code="fr"))
    assert result.diagnosis.code == dx.STORE_CODE_UNKNOWN
    assert "'fr'" in result.diagnosis.explanation
    assert "default, de" in result.diagnosis.detail
    assert result.diagnosis.guide_url == "/connections/guide/#store-code"


def test_unknown_store_code_found_by_route_404_when_store_configs_is_denied(store_mock):
    status, body = unauthorized()
    add_store_configs(store_mock, status=status, body=body)
    store_mock.add(
        responses.GET,
        f"{REST}/fr/V1/customers/search",
        json={"message": "Request does not match any route."},
        status=404,
    )
    result = check(**token_fields(store_domain="https://shop.example.com", store_code="fr"))
    assert result.diagnosis.code == dx.STORE_CODE_UNKNOWN


def test_bearer_token_refused_everywhere_names_both_causes_and_offers_oauth(store_mock):
    status, body = unauthorized()
    add_store_configs(store_mock, status=status, body=body)
    add_probes(
        store_mock,
        answers={
            "/V1/customers/search": unauthorized("Magento_Customer::customer"),
            "/V1/products": unauthorized("Magento_Catalog::products"),
            "/V1/orders": unauthorized("Magento_Sales::actions_view"),
            "/V1/shipment/0": unauthorized("Magento_Sales::shipment"),
            "/V1/customers/0/confirm": unauthorized("Magento_Customer::manage"),
            "POST /V1/products": unauthorized("Magento_Catalog::products"),
            "POST /V1/order/0/ship": unauthorized("Magento_Sales::ship"),
        },
    )
    result = check(**token_fields(store_domain="https://shop.example.com"))
    diagnosis = result.diagnosis
    assert diagnosis.code == dx.TOKEN_REJECTED
    # The token itself was refused: no permission was checked, none is called denied.
    assert set(result.permissions.values()) == {"not_checked"}
    assert len(result.permissions) == 8
    assert "standalone Bearer tokens" in diagnosis.explanation
    assert "token is wrong" in diagnosis.explanation
    anchors = [link.url for link in diagnosis.links]
    assert anchors == [
        "/connections/guide/integration-token/#bearer-setting",
        "/connections/guide/integration-token/#oauth",
        "/connections/guide/integration-token/#activate",
    ]


def test_oauth_credentials_sign_requests_instead_of_bearer(store_mock):
    healthy_store(store_mock)
    result = check(**oauth_fields(store_domain="https://shop.example.com"))
    assert result.ok
    header = store_mock.calls[0].request.headers["Authorization"]
    assert header.startswith("OAuth ")
    assert 'oauth_signature_method="HMAC-SHA256"' in header
    assert SECRETS["consumer_secret"] not in header
    assert SECRETS["access_token_secret"] not in header


def test_oauth_refused_everywhere(store_mock):
    refuse_everything(store_mock)
    diagnosis = check(**oauth_fields(store_domain="https://shop.example.com")).diagnosis
    assert diagnosis.code == dx.OAUTH_REJECTED


def test_malformed_oauth_request_answered_400_is_an_oauth_refusal(store_mock):
    add_store_configs(
        store_mock,
        status=400,
        body={"message": "The token length is invalid. Check the length and try again."},
    )
    diagnosis = check(**oauth_fields(store_domain="https://shop.example.com")).diagnosis
    assert diagnosis.code == dx.OAUTH_REJECTED
    assert "token length is invalid" in diagnosis.detail


def test_refused_everywhere_keeps_magentos_first_answer_in_the_detail(store_mock):
    status, body = unauthorized()
    add_store_configs(store_mock, status=status, body=body)
    add_probes(
        store_mock,
        answers={probe: unauthorized("Magento_Customer::customer") for probe in PROBES},
    )
    diagnosis = check(**token_fields(store_domain="https://shop.example.com")).diagnosis
    assert diagnosis.code == dx.TOKEN_REJECTED
    assert "The consumer isn't authorized to access Magento_Backend::store." in diagnosis.detail


def test_missing_resources_are_named(store_mock):
    add_store_configs(store_mock)
    add_probes(
        store_mock,
        answers={
            "/V1/orders": unauthorized("Magento_Sales::actions_view"),
            "/V1/shipment/0": unauthorized("Magento_Sales::shipment"),
        },
    )
    result = check(**token_fields(store_domain="https://shop.example.com"))
    diagnosis = result.diagnosis
    assert diagnosis.code == dx.PERMISSIONS_MISSING
    assert "Orders" in diagnosis.explanation and "Shipments" in diagnosis.explanation
    assert "Customers" not in diagnosis.explanation
    assert "Resource Access" in diagnosis.explanation
    assert result.permissions["orders"] == "denied"
    assert result.permissions["customers"] == "ok"
    assert diagnosis.guide_url == "/connections/guide/integration-token/#resource-access"


def test_missing_store_permission_alone_is_named(store_mock):
    status, body = unauthorized()
    add_store_configs(store_mock, status=status, body=body)
    add_probes(store_mock)
    diagnosis = check(**token_fields(store_domain="https://shop.example.com")).diagnosis
    assert diagnosis.code == dx.PERMISSIONS_MISSING
    assert "Stores > Settings > All Stores" in diagnosis.explanation


# Each write permission withheld the way Magento refuses it. Products are read and saved under
# one resource, so a role without it is refused both, and the resource is named once.
WRITE_REFUSALS = [
    (
        {"/V1/customers/0/confirm": unauthorized("Magento_Customer::manage")},
        {"customers_update"},
        "Customers > All Customers (Magento_Customer::manage) to update customers.",
    ),
    (
        {
            "/V1/products": unauthorized("Magento_Catalog::products"),
            "POST /V1/products": unauthorized("Magento_Catalog::products"),
        },
        {"products", "products_save"},
        "Catalog > Inventory > Products (Magento_Catalog::products) to read products, save "
        "products.",
    ),
    (
        {"POST /V1/order/0/ship": unauthorized("Magento_Sales::ship")},
        {"orders_ship"},
        "Sales > Operations > Orders > Actions > Ship (Magento_Sales::ship) to ship orders.",
    ),
]


@pytest.mark.parametrize(("answers", "denied", "named"), WRITE_REFUSALS)
def test_missing_write_permission_is_named_with_its_acl_resource(
    store_mock, answers, denied, named
):
    add_store_configs(store_mock)
    add_probes(store_mock, answers=answers)
    result = check(**token_fields(store_domain="https://shop.example.com"))
    assert result.diagnosis.code == dx.PERMISSIONS_MISSING
    assert f"refused access to: {named}" in result.diagnosis.explanation
    assert {key for key, value in result.permissions.items() if value == "denied"} == denied
    assert set(result.permissions.values()) == {"ok", "denied"}
    # The store settings were read, so the store's facts are kept even though a write failed.
    assert result.store.base_url == "https://shop.example.com/"


def test_write_probes_are_calls_that_cannot_change_anything(store_mock):
    healthy_store(store_mock)
    assert check(**token_fields(store_domain="https://shop.example.com")).ok
    writes = [
        (call.request.method, call.request.url, call.request.body)
        for call in store_mock.calls
        if call.request.method != "GET"
    ]
    # Save a product without the product; ship order 0, which Magento refuses before loading.
    assert writes == [
        ("POST", f"{REST}/all/V1/products", b"{}"),
        ("POST", f"{REST}/all/V1/order/0/ship", b"{}"),
    ]
    confirm = [c.request.url for c in store_mock.calls if "/confirm" in c.request.url]
    assert confirm == [f"{REST}/all/V1/customers/0/confirm"]


@pytest.mark.parametrize(
    "answer",
    [
        (
            404,
            {
                "message": "The entity that was requested doesn't exist. Verify the entity and try "
                "again."
            },
        ),
        (400, {"message": "An ID is needed. Set the ID and try again."}),
    ],
)
def test_ship_probe_refused_after_the_permission_check_means_allowed(store_mock, answer):
    add_store_configs(store_mock)
    add_probes(store_mock, answers={"POST /V1/order/0/ship": answer})
    result = check(**token_fields(store_domain="https://shop.example.com"))
    assert result.ok
    assert result.permissions["orders_ship"] == "ok"


def test_write_probe_route_missing_is_not_taken_for_allowed(store_mock):
    add_store_configs(store_mock)
    add_probes(
        store_mock,
        answers={"POST /V1/order/0/ship": (404, {"message": "Request does not match any route."})},
    )
    store_mock.remove(responses.GET, f"{REST}/all/V1/shipment/0")  # the check stops before
    result = check(**token_fields(store_domain="https://shop.example.com"))
    assert result.diagnosis.code == dx.UNEXPECTED
    assert "does not match any route" in result.diagnosis.detail
    assert "orders_ship" not in result.permissions


def test_session_role_without_write_permissions_names_the_role_fix(store_mock):
    add_admin_token(store_mock)
    add_store_configs(store_mock)
    add_probes(
        store_mock,
        answers={
            "/V1/customers/0/confirm": unauthorized("Magento_Customer::manage"),
            "POST /V1/order/0/ship": unauthorized("Magento_Sales::ship"),
        },
    )
    diagnosis = check(**session_fields(store_domain="https://shop.example.com")).diagnosis
    assert diagnosis.code == dx.PERMISSIONS_MISSING
    assert "Magento_Customer::manage" in diagnosis.explanation
    assert "Magento_Sales::ship" in diagnosis.explanation
    assert "User Roles" in diagnosis.explanation
    assert diagnosis.detail == ("HTTP 401 for: GET /V1/customers/0/confirm, POST /V1/order/0/ship")


def add_admin_token(mock, *, status=200, body=None, path="/V1/integration/admin/token"):
    mock.add(
        responses.POST,
        f"{REST}{path}",
        json=load_sample("admin-token-response") if body is None else body,
        status=status,
    )


def test_session_signs_in_then_verifies(store_mock):
    add_admin_token(store_mock)
    healthy_store(store_mock)
    result = check(**session_fields(store_domain="https://shop.example.com"))
    assert result.ok
    sign_in = json.loads(store_mock.calls[0].request.body)
    assert sign_in == {"username": "portal-bot", "password": SECRETS["admin_password"]}
    assert store_mock.calls[1].request.headers["Authorization"] == f"Bearer {ADMIN_TOKEN}"


def test_session_role_without_permissions(store_mock):
    add_admin_token(store_mock)
    add_store_configs(store_mock)
    add_probes(
        store_mock, answers={"/V1/customers/search": unauthorized("Magento_Customer::customer")}
    )
    diagnosis = check(**session_fields(store_domain="https://shop.example.com")).diagnosis
    assert diagnosis.code == dx.PERMISSIONS_MISSING
    assert "User Roles" in diagnosis.explanation
    assert diagnosis.links[1].url == "/connections/guide/session/#api-permissions"


def test_wrong_admin_password(store_mock):
    status, body = load_error("signin_incorrect")
    add_admin_token(store_mock, status=status, body=body)
    diagnosis = check(**session_fields(store_domain="https://shop.example.com")).diagnosis
    assert diagnosis.code == dx.ADMIN_SIGNIN_REJECTED
    assert "Admin Password is wrong" in diagnosis.explanation
    assert "locked" in diagnosis.explanation
    assert diagnosis.guide_url == "/connections/guide/session/#admin-user"
    # Only the single sign-in call: a refused sign-in is never repeated (lockout).
    assert len(store_mock.calls) == 1


def test_repeated_refusals_diagnose_a_locked_account(store_mock, make_connection):
    status, body = load_error("signin_incorrect")
    connection = make_connection(
        **session_fields(), consecutive_signin_failures=dx.LOCKOUT_AFTER_FAILURES - 1
    )
    add_admin_token(store_mock, status=status, body=body)
    result = connection_verify(connection=connection)
    assert result.diagnosis.code == dx.ADMIN_LOCKED
    assert "Locked Users" in result.diagnosis.explanation
    connection.refresh_from_db()
    assert connection.consecutive_signin_failures == dx.LOCKOUT_AFTER_FAILURES
    assert connection.status == ConnectionStatus.FAILED


def test_two_factor_required(store_mock):
    status, body = load_error("tfa_provider_specific_endpoints")
    add_admin_token(store_mock, status=status, body=body)
    diagnosis = check(**session_fields(store_domain="https://shop.example.com")).diagnosis
    assert diagnosis.code == dx.TWO_FACTOR_REQUIRED
    assert diagnosis.guide_url == "/connections/guide/session/#two-factor"


def test_two_factor_required_also_as_401(store_mock):
    # Some versions of Magento_TwoFactorAuth answer 401 instead of 400 (samples/SOURCE.md).
    _, body = load_error("tfa_provider_specific_endpoints")
    add_admin_token(store_mock, status=401, body=body)
    diagnosis = check(**session_fields(store_domain="https://shop.example.com")).diagnosis
    assert diagnosis.code == dx.TWO_FACTOR_REQUIRED


@pytest.mark.parametrize(
    "body",
    [
        {
            "message": "You are required to configure personal Two-Factor Authorization in "
            "order to login. Please check your email.",
            "parameters": {"providers": ["google"], "active_providers": []},
        },
        {"message": "Please ask an administrator with sufficient access to configure 2FA first"},
    ],
    ids=["personal-setup-mailed", "no-provider"],
)
def test_two_factor_not_configured(store_mock, body):
    add_admin_token(store_mock, status=400, body=body)
    diagnosis = check(**session_fields(store_domain="https://shop.example.com")).diagnosis
    assert diagnosis.code == dx.TWO_FACTOR_NOT_CONFIGURED


@pytest.mark.parametrize("message", ["Provider is not configured.", "Provider is not allowed."])
def test_totp_secret_for_an_admin_without_google_authenticator_set_up(store_mock, message):
    add_admin_token(
        store_mock,
        path="/V1/tfa/provider/google/authenticate",
        status=400,
        body={"message": message},
    )
    fields = session_fields(
        store_domain="https://shop.example.com", totp_secret=SECRETS["totp_secret"]
    )
    diagnosis = check(**fields).diagnosis
    assert diagnosis.code == dx.TWO_FACTOR_NOT_CONFIGURED
    assert diagnosis.guide_url == "/connections/guide/session/#two-factor"
    assert message in diagnosis.detail


def test_totp_secret_signs_in_through_google_provider(store_mock):
    add_admin_token(store_mock, path="/V1/tfa/provider/google/authenticate")
    healthy_store(store_mock)
    fields = session_fields(
        store_domain="https://shop.example.com", totp_secret=SECRETS["totp_secret"]
    )
    assert check(**fields).ok
    body = json.loads(store_mock.calls[0].request.body)
    assert body["username"] == "portal-bot"
    assert body["otp"].isdigit() and len(body["otp"]) == 6


def test_totp_secret_for_a_store_without_two_factor(store_mock):
    store_mock.add(
        responses.POST,
        f"{REST}/V1/tfa/provider/google/authenticate",
        json={"message": "Request does not match any route."},
        status=404,
    )
    fields = session_fields(
        store_domain="https://shop.example.com", totp_secret=SECRETS["totp_secret"]
    )
    diagnosis = check(**fields).diagnosis
    assert diagnosis.code == dx.TWO_FACTOR_NOT_USED
    assert "Remove the 2FA secret" in diagnosis.explanation


def test_wrong_two_factor_code(store_mock):
    add_admin_token(
        store_mock,
        path="/V1/tfa/provider/google/authenticate",
        status=401,
        body={"message": "Invalid code."},
    )
    fields = session_fields(
        store_domain="https://shop.example.com", totp_secret=SECRETS["totp_secret"]
    )
    assert check(**fields).diagnosis.code == dx.TWO_FACTOR_CODE_REJECTED


def test_html_at_rest_is_not_magento(store_mock):
    store_mock.add(
        responses.GET,
        f"{REST}/V1/store/storeConfigs",
        body="<!doctype html><html><head><title>Welcome to nginx!</title></head></html>",
        status=200,
        content_type="text/html",
    )
    diagnosis = check(**token_fields(store_domain="https://shop.example.com")).diagnosis
    assert diagnosis.code == dx.NOT_MAGENTO
    assert "Welcome to nginx!" in diagnosis.detail


def test_html_404_at_rest_is_not_magento(store_mock):
    store_mock.add(
        responses.GET,
        f"{REST}/V1/store/storeConfigs",
        body="<html><head><title>404 Not Found</title></head></html>",
        status=404,
        content_type="text/html",
    )
    diagnosis = check(**token_fields(store_domain="https://shop.example.com")).diagnosis
    assert diagnosis.code == dx.NOT_MAGENTO
    assert diagnosis.guide_url == "/connections/guide/#store-domain"


def test_json_route_404_at_rest_is_not_magento(store_mock):
    store_mock.add(
        responses.GET,
        f"{REST}/V1/store/storeConfigs",
        json={"message": "Request does not match any route."},
        status=404,
    )
    assert check(**token_fields(store_domain="https://shop.example.com")).diagnosis.code == (
        dx.NOT_MAGENTO
    )


def test_redirect_names_the_target(store_mock):
    store_mock.add(
        responses.GET,
        f"{REST}/V1/store/storeConfigs",
        status=301,
        headers={"Location": "https://www.example.com/rest/V1/store/storeConfigs?x=1"},
    )
    diagnosis = check(**token_fields(store_domain="https://shop.example.com")).diagnosis
    assert diagnosis.code == dx.REDIRECTED
    assert "https://www.example.com/rest/V1/store/storeConfigs" in diagnosis.explanation


def test_maintenance_page(store_mock):
    store_mock.add(
        responses.GET,
        f"{REST}/V1/store/storeConfigs",
        body="<html><head><title>Error 503: Service Unavailable</title></head></html>",
        status=503,
        content_type="text/html",
    )
    assert check(**token_fields(store_domain="https://shop.example.com")).diagnosis.code == (
        dx.MAINTENANCE
    )


def test_internal_error(store_mock):
    status, body = load_error("internal_error")
    add_store_configs(store_mock, status=status, body=body)
    diagnosis = check(**token_fields(store_domain="https://shop.example.com")).diagnosis
    assert diagnosis.code == dx.STORE_ERROR
    assert "webapi-5a291a13d9760" in diagnosis.detail


def test_too_many_requests(store_mock):
    status, body = load_error("too_many_requests")
    add_store_configs(store_mock, status=status, body=body)
    assert check(**token_fields(store_domain="https://shop.example.com")).diagnosis.code == (
        dx.RATE_LIMITED
    )


def test_firewall_403(store_mock):
    store_mock.add(
        responses.GET,
        f"{REST}/V1/store/storeConfigs",
        body="<html><title>Access denied</title></html>",
        status=403,
        content_type="text/html",
    )
    # A 403 HTML page comes from something in front of Magento, not from Magento itself.
    diagnosis = check(**token_fields(store_domain="https://shop.example.com")).diagnosis
    assert diagnosis.code == dx.ACCESS_BLOCKED
    assert "firewall" in diagnosis.explanation


def test_connection_refused(store_mock):
    store_mock.add(
        responses.GET,
        f"{REST}/V1/store/storeConfigs",
        body=requests.exceptions.ConnectionError("connection refused"),
    )
    diagnosis = check(**token_fields(store_domain="https://shop.example.com")).diagnosis
    assert diagnosis.code == dx.CONNECTION_FAILED
    assert diagnosis.guide_url == "/connections/guide/#network"


def test_name_that_stops_resolving_at_connect_time(store_mock):
    from urllib3.exceptions import MaxRetryError, NameResolutionError

    reason = NameResolutionError("shop.example.com", None, OSError("Name or service not known"))
    store_mock.add(
        responses.GET,
        f"{REST}/V1/store/storeConfigs",
        body=requests.exceptions.ConnectionError(MaxRetryError(None, "/", reason=reason)),
    )
    diagnosis = check(**token_fields(store_domain="https://shop.example.com")).diagnosis
    assert diagnosis.code == dx.DNS_FAILED


def test_tls_error(store_mock):
    store_mock.add(
        responses.GET,
        f"{REST}/V1/store/storeConfigs",
        body=requests.exceptions.SSLError("certificate verify failed"),
    )
    diagnosis = check(**token_fields(store_domain="https://shop.example.com")).diagnosis
    assert diagnosis.code == dx.TLS_ERROR
    assert diagnosis.guide_url == "/connections/guide/#tls"


def test_timeout(store_mock):
    store_mock.add(
        responses.GET,
        f"{REST}/V1/store/storeConfigs",
        body=requests.exceptions.ReadTimeout("read timed out"),
    )
    diagnosis = check(
        **token_fields(store_domain="https://shop.example.com", timeout_seconds=7)
    ).diagnosis
    assert diagnosis.code == dx.TIMEOUT
    assert "7 seconds" in diagnosis.explanation


def test_name_that_does_not_resolve():
    diagnosis = check(**token_fields(store_domain="https://nowhere.example.com")).diagnosis
    assert diagnosis.code == dx.DNS_FAILED
    assert "nowhere.example.com" in diagnosis.explanation


def test_private_address_refused_before_any_request():
    diagnosis = check(**token_fields(store_domain="https://rebind.example.com")).diagnosis
    assert diagnosis.code == dx.PRIVATE_ADDRESS
    assert "127.0.0.1" in diagnosis.detail


def test_plain_http_to_public_host_needs_opt_in(store_mock):
    diagnosis = check(**token_fields(store_domain="http://plain.example.com")).diagnosis
    assert diagnosis.code == dx.PLAIN_HTTP
    store_mock.add(
        responses.GET,
        "http://plain.example.com/rest/V1/store/storeConfigs",
        json=store_configs(base="http://plain.example.com"),
    )
    for probe in PROBES:
        method, path = probe.split(" ", 1)
        store_mock.add(method, f"http://plain.example.com/rest/all{path}", json={})
    assert check(**token_fields(store_domain="http://plain.example.com", allow_plain_http=True)).ok


def test_details_never_contain_secrets(store_mock):
    # A misbehaving proxy echoing the Authorization header back in its error page.
    store_mock.add(
        responses.GET,
        f"{REST}/V1/store/storeConfigs",
        body=f"<html><title>Bad header Bearer {SECRETS['access_token']}</title></html>",
        status=502,
        content_type="text/html",
    )
    diagnosis = check(**token_fields(store_domain="https://shop.example.com")).diagnosis
    assert diagnosis.code == dx.STORE_ERROR
    assert_no_secret(diagnosis.detail + diagnosis.explanation + diagnosis.as_text())


def test_create_saves_verified_connection_with_facts(store_mock, editor):
    healthy_store(store_mock)
    outcome = connection_create(**token_fields(), user=editor)
    assert outcome.saved
    connection = Connection.objects.get()
    assert connection.status == ConnectionStatus.VERIFIED
    assert connection.store_domain == "https://shop.example.com"
    assert connection.base_url == "https://shop.example.com/"
    assert connection.last_verified_at is not None
    assert connection.created_by == editor


def test_create_refuses_to_save_a_failing_connection(store_mock):
    refuse_everything(store_mock)
    outcome = connection_create(**token_fields())
    assert not outcome.saved
    assert outcome.verification.diagnosis.code == dx.TOKEN_REJECTED
    assert not Connection.objects.exists()


def test_save_anyway_keeps_a_failing_connection_marked(store_mock):
    diagnosis_outcome = connection_create(
        **token_fields(store_domain="nowhere.example.com"), save_unverified=True
    )
    assert diagnosis_outcome.saved
    connection = Connection.objects.get()
    assert connection.status == ConnectionStatus.FAILED
    assert connection.last_error_code == dx.DNS_FAILED
    assert connection.last_verified_at is None


def test_verify_records_failure_then_success(store_mock, make_connection):
    connection = make_connection()
    store_mock.add(
        responses.GET,
        f"{REST}/V1/store/storeConfigs",
        body=requests.exceptions.SSLError("certificate verify failed"),
    )
    connection_verify(connection=connection)
    connection.refresh_from_db()
    assert (connection.status, connection.last_error_code) == ("failed", dx.TLS_ERROR)
    store_mock.reset()
    healthy_store(store_mock)
    assert connection_verify(connection=connection).ok
    connection.refresh_from_db()
    assert (connection.status, connection.last_error_code) == ("verified", "")


def test_client_builder_passes_the_connection_settings(make_connection, settings):
    from connections.clients import connection_client

    connection = make_connection(store_code="default", verify_tls=False, timeout_seconds=45)
    client = connection_client(connection)
    assert client.store_code == "default"
    assert client.verify_tls is False
    assert client.timeout == (10.0, 45.0)
    assert client.allow_private_network is False
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
    assert connection_client(connection).allow_private_network is True


def test_client_builder_refuses_plain_http_without_opt_in(make_connection):
    from connections.clients import PlainHttpNotAllowed, connection_client

    connection = make_connection(store_domain="http://plain.example.com")
    with pytest.raises(PlainHttpNotAllowed):
        connection_client(connection)
    connection.allow_plain_http = True
    assert connection_client(connection).address.scheme == "http"


def test_client_builder_refuses_plain_http_to_a_public_store_with_private_targets_on(
    make_connection, settings
):
    from connections.clients import PlainHttpNotAllowed, connection_client

    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
    # Saved while the name pointed into the private network; now it resolves to a public address.
    public = make_connection(store_domain="http://plain.example.com")
    with pytest.raises(PlainHttpNotAllowed):
        connection_client(public)
    private = make_connection(name="Sandbox", store_domain="http://rebind.example.com:8081")
    assert connection_client(private).address.host == "rebind.example.com"


def test_update_with_blank_secret_keeps_it_and_rejects_unknown_fields(store_mock, make_connection):
    from connections.services import connection_update

    connection = make_connection()
    healthy_store(store_mock)
    outcome = connection_update(
        connection=connection, changes={"name": "Renamed", "access_token": ""}
    )
    assert outcome.saved
    fresh = Connection.objects.get(pk=connection.pk)
    assert fresh.name == "Renamed"
    assert fresh.access_token == SECRETS["access_token"]
    with pytest.raises(ValueError, match="status"):
        connection_update(connection=connection, changes={"status": "verified"})


def test_update_keeps_an_admin_token_renewed_during_the_check(store_mock, make_connection):
    from connections.services import connection_update

    connection = make_connection(**session_fields())
    store_mock.add(responses.POST, f"{REST}/V1/integration/admin/token", json=ADMIN_TOKEN)
    healthy_store(store_mock)
    assert connection_update(connection=connection, changes={"timeout_seconds": 20}).saved
    fresh = Connection.objects.get(pk=connection.pk)
    assert fresh.timeout_seconds == 20
    assert fresh.admin_token == ADMIN_TOKEN


def test_store_configs_that_are_not_a_list_are_not_magento(store_mock):
    add_store_configs(store_mock, body={"message": "hello"})
    diagnosis = check(**token_fields(store_domain="https://shop.example.com")).diagnosis
    assert diagnosis.code == dx.NOT_MAGENTO


def test_an_unexpected_refusal_keeps_magentos_words(store_mock):
    add_store_configs(store_mock)
    store_mock.add(
        responses.GET,
        f"{REST}/all/V1/customers/search",
        json={"message": "Maximum SearchCriteria pageSize is %max", "parameters": {"max": 0}},
        status=400,
    )
    diagnosis = check(**token_fields(store_domain="https://shop.example.com")).diagnosis
    assert diagnosis.code == dx.UNEXPECTED
    assert "Maximum SearchCriteria pageSize is 0" in diagnosis.detail


def test_only_verified_connections_are_offered_to_automations(make_connection):
    verified = make_connection(name="Verified", status=ConnectionStatus.VERIFIED)
    make_connection(name="Failed", status=ConnectionStatus.FAILED)
    make_connection(name="Unchecked", status=ConnectionStatus.UNVERIFIED)
    assert list(connection_list_verified()) == [verified]

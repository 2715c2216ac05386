"""Errors built from Magento's real error bodies: right class, readable message, no secrets."""

import json
import pickle

import pytest

from magento.errors import (
    AuthenticationError,
    InvalidCredentialsError,
    MagentoError,
    MaintenanceError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RouteNotFoundError,
    StoreUnavailableError,
    TwoFactorRequiredError,
    UnexpectedResponseError,
    ValidationError,
)
from magento.responses import error_from_response, parse_retry_after, render_message
from tests.shared_data import load_error

MAINTENANCE_PAGE = b"""<!doctype html>
<html xmlns="http://www.w3.org/1999/xhtml" >
<head>
    <title>Error 503: Service Unavailable</title>
    <base href="http://shop.example.com/errors/default/" />
</head>
<body><main class="page-main"><h1>Service Temporarily Unavailable</h1>
<p>The server is temporarily unable to service your request due to maintenance downtime or
capacity problems. Please try again later.</p></main></body></html>"""


def build(key, method="GET", path="/V1/store/storeConfigs"):
    status, body = load_error(key)
    return error_from_response(
        status,
        json.dumps(body).encode(),
        content_type="application/json; charset=utf-8",
        method=method,
        path=path,
    )


@pytest.mark.parametrize(
    ("key", "error_class", "message_start"),
    [
        (
            "unauthorized_consumer",
            AuthenticationError,
            "The consumer isn't authorized to access Magento_Backend::store.",
        ),
        ("signin_incorrect", InvalidCredentialsError, "The account sign-in was incorrect"),
        ("input_exceptions", ValidationError, "One or more input exceptions have occurred."),
        ("required_field_single", ValidationError, '"firstname" is required. Enter and try again.'),
        ("customer_not_found", NotFoundError, "No such entity with customerId = -1"),
        (
            "shipment_validation",
            ValidationError,
            "Shipment Document Validation Error(s):\nYou can't create",
        ),
        (
            "internal_error",
            StoreUnavailableError,
            "Internal Error. Details are available in Magento log file.",
        ),
        (
            "tfa_provider_specific_endpoints",
            TwoFactorRequiredError,
            "Please use the 2fa provider-specific",
        ),
        (
            "invalid_product_data",
            ValidationError,
            "Invalid product data: Invalid attribute set entity type",
        ),
        ("too_many_requests", RateLimitedError, "Too Many Requests"),
    ],
)
def test_every_real_error_body_maps_to_its_class(key, error_class, message_start):
    error = build(key)
    status, body = load_error(key)
    assert type(error) is error_class
    assert error.message.startswith(message_start)
    assert error.raw_message == body["message"]
    assert error.status == status
    assert (error.method, error.path) == ("GET", "/V1/store/storeConfigs")
    assert f"HTTP {status}" in str(error)


def test_unauthorized_consumer_names_the_resource_and_explains_causes():
    error = build("unauthorized_consumer")
    assert error.resources == "Magento_Backend::store"
    assert error.parameters == {"resources": "Magento_Backend::store"}
    assert "standalone Bearer tokens" in error.message
    assert "expired" in error.message


def test_sign_in_refusal_explains_wrong_password_and_lockout():
    error = build("signin_incorrect", method="POST", path="/V1/integration/admin/token")
    assert isinstance(error, AuthenticationError)
    assert "wrong" in error.message
    assert "locked" in error.message
    assert "6 failed sign-ins" in error.message
    assert "30 minutes" in error.message


def test_input_exceptions_render_every_sub_error():
    error = build("input_exceptions")
    assert error.errors == [
        '"username" is required. Enter and try again.',
        '"password" is required. Enter and try again.',
    ]
    assert '"username" is required' in str(error)
    assert '"password" is required' in str(error)


def test_two_factor_refusal_points_to_integrations():
    error = build("tfa_provider_specific_endpoints", method="POST")
    assert error.parameters == {"active_providers": ["google"]}
    assert "integration" in error.message
    assert "TOTP" in error.message


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (400, "Please ask an administrator with sufficient access to configure 2FA first"),
        (
            400,
            "You are required to configure personal Two-Factor Authorization in order to login. "
            "Please check your email.",
        ),
        (401, "Please use the 2fa provider-specific endpoints to obtain a token."),
    ],
)
def test_other_two_factor_answers(status, message):
    body = json.dumps({"message": message, "parameters": {"providers": [], "active_providers": []}})
    error = error_from_response(
        status, body.encode(), method="POST", path="/V1/integration/admin/token"
    )
    assert isinstance(error, TwoFactorRequiredError)
    assert error.raw_message == message


@pytest.mark.parametrize("message", ["Provider is not configured.", "Provider is not allowed."])
def test_google_provider_refusal_is_two_factor_not_a_validation_error(message):
    error = error_from_response(
        400,
        json.dumps({"message": message}).encode(),
        method="POST",
        path="/V1/tfa/provider/google/authenticate",
    )
    assert isinstance(error, TwoFactorRequiredError)
    assert error.raw_message == message
    # The secret was given, so the advice is to set Google Authenticator up, not to add one.
    assert "has not set up Google Authenticator" in error.message
    assert "Give the account's" not in error.message


def test_rate_limit_carries_retry_after():
    status, body = load_error("too_many_requests")
    error = error_from_response(status, json.dumps(body).encode(), retry_after=12.0)
    assert error.retry_after == 12.0


def test_route_not_found_is_a_not_found():
    body = b'{"message":"Request does not match any route."}'
    error = error_from_response(404, body, method="GET", path="/V1/products/a")
    assert type(error) is RouteNotFoundError
    assert isinstance(error, NotFoundError)


def test_forbidden_and_unknown_statuses():
    assert type(error_from_response(403, b'{"message":"Forbidden"}')) is PermissionDeniedError
    assert type(error_from_response(409, b'{"message":"Conflict"}')) is MagentoError


def test_maintenance_page_becomes_maintenance_error():
    error = error_from_response(
        503, MAINTENANCE_PAGE, content_type="text/html", method="GET", path="/V1/orders"
    )
    assert type(error) is MaintenanceError
    assert isinstance(error, StoreUnavailableError)
    assert error.body_excerpt == "Error 503: Service Unavailable"
    assert "maintenance" in str(error)


def test_proxy_html_on_502_is_store_unavailable_with_title():
    page = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    error = error_from_response(502, page, content_type="text/html")
    assert type(error) is StoreUnavailableError
    assert "502 Bad Gateway" in error.message
    assert "HTML page" in error.message
    assert error.message.count("502") == 1


def test_login_page_on_401_is_unexpected_and_explains_a_front_door():
    page = b"<html><head><title>Sign in - Staging</title></head><body>form</body></html>"
    error = error_from_response(
        401, page, content_type="text/html", method="GET", path="/V1/orders"
    )
    assert type(error) is UnexpectedResponseError
    assert error.status == 401
    assert "Sign in - Staging" in error.message
    assert "proxy or firewall" in error.message


def test_html_404_suggests_checking_the_store_domain():
    page = b"<html><head><title>404 Not Found</title></head></html>"
    error = error_from_response(404, page, content_type="text/html")
    assert type(error) is UnexpectedResponseError
    assert "Store Domain" in error.message
    # The page title already names the status: said once, not "(HTTP 404) (404 Not Found)".
    assert "(HTTP 404 Not Found)" in error.message
    assert error.message.count("404") == 1


def test_html_404_for_an_encoded_slash_names_the_web_server_setting():
    page = b"<html><head><title>404 Not Found</title></head></html>"
    error = error_from_response(404, page, content_type="text/html", path="/V1/products/A%2FB")
    assert "AllowEncodedSlashes" in error.message


def test_html_429_from_a_proxy_is_still_rate_limited():
    page = b"<html><head><title>Too many requests</title></head></html>"
    error = error_from_response(429, page, content_type="text/html", retry_after=3.0)
    assert type(error) is RateLimitedError
    assert error.retry_after == 3.0


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"", "an empty answer"),
        (b"   \n", "an empty answer"),
        (b'{"message": "cut off', "a non-JSON answer"),
        (b"Service down", "a non-JSON answer"),
    ],
)
def test_empty_and_malformed_bodies_are_clear_errors(body, says):
    error = error_from_response(500, body, content_type="application/json")
    assert isinstance(error, StoreUnavailableError)
    assert says in error.message


def test_json_that_is_not_a_magento_error():
    error = error_from_response(400, b'["unexpected", "list"]', content_type="application/json")
    assert type(error) is UnexpectedResponseError
    assert "not a Magento error" in error.message


def test_long_non_json_bodies_are_cut_short():
    error = error_from_response(500, b"x" * 5000, content_type="text/plain")
    assert len(error.body_excerpt) <= 200


@pytest.mark.parametrize(
    ("message", "parameters", "expected"),
    [
        ("Invalid product data: %1", ["bad set"], "Invalid product data: bad set"),
        ("%1-%10", [str(n) for n in range(1, 11)], "1-10"),
        (
            "No such entity with %fieldName = %fieldValue",
            {"fieldName": "email", "fieldValue": 7},
            "No such entity with email = 7",
        ),
        (
            "Maximum SearchCriteria pageSize is %max",
            {"max": 300},
            "Maximum SearchCriteria pageSize is 300",
        ),
        ("%field and %fieldName", {"field": "F", "fieldName": "N"}, "F and N"),
        ("Providers: %p", {"p": ["google", "authy"]}, "Providers: google, authy"),
        ("Flag %f, empty %e", {"f": True, "e": None}, "Flag true, empty "),
        ("Nothing to fill: %1", None, "Nothing to fill: %1"),
        ("100% sure", [], "100% sure"),
    ],
)
def test_placeholders_are_filled(message, parameters, expected):
    assert render_message(message, parameters) == expected


def test_parse_retry_after_seconds_and_http_date():
    now = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
    assert parse_retry_after("7", now=now) == 7.0
    assert parse_retry_after("Tue, 14 Nov 2023 22:13:50 GMT", now=now) == 30.0
    assert parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after("", now=now) is None
    assert parse_retry_after(None, now=now) is None
    assert parse_retry_after("-5", now=now) is None


@pytest.mark.parametrize(
    "value",
    [
        "Tue, 14 Nov 2023 22:13:50 GMT",  # IMF-fixdate, what servers send today
        "Tuesday, 14-Nov-23 22:13:50 GMT",  # RFC 850, which HTTP still asks clients to read
        "Tue Nov 14 22:13:50 2023",  # asctime, which carries no zone and means GMT
    ],
)
def test_parse_retry_after_reads_all_three_http_date_forms(value):
    assert parse_retry_after(value, now=1_700_000_000.0) == 30.0


@pytest.mark.parametrize("value", ["²", "1.5", "١٢", "3 seconds"])
def test_parse_retry_after_ignores_what_is_not_a_whole_number_of_seconds(value):
    assert parse_retry_after(value, now=1_700_000_000.0) is None


def test_errors_survive_pickling_with_their_details():
    error = build("customer_not_found", path="/V1/customers/-1")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is NotFoundError
    assert str(copy) == str(error)
    assert copy.parameters == error.parameters
    limited = pickle.loads(pickle.dumps(RateLimitedError("slow", retry_after=4.0, status=429)))
    assert limited.retry_after == 4.0


def test_str_and_repr_are_one_readable_line():
    error = build("customer_not_found", method="GET", path="/V1/customers/-1")
    assert str(error) == "No such entity with customerId = -1 [HTTP 404, GET /V1/customers/-1]"
    assert repr(error) == f"NotFoundError({str(error)!r})"
    assert error.args == (error.message,)

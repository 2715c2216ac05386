"""The transport: one session, timeouts, careful retries, typed errors, quiet logs."""

import json
import logging
import tomllib
from pathlib import Path

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError, ProtocolError

from magento import (
    USER_AGENT,
    IntegrationTokenAuth,
    MagentoClient,
    MagentoError,
    MaintenanceError,
    NotFoundError,
    RateLimitedError,
    RequestTimeoutError,
    StoreUnavailableError,
    TLSError,
    TransportError,
    UnexpectedResponseError,
    UnknownOutcomeError,
    __version__,
    parse_store_domain,
)
from tests.shared_data import load_error, load_sample

STORE = "https://shop.example.com"
TOKEN = "integration0token0000000000000001"
CONFIGS = "/V1/store/storeConfigs"
CONFIGS_URL = f"{STORE}/rest/all{CONFIGS}"
CUSTOMERS_URL = f"{STORE}/rest/all/V1/customers"
MAINTENANCE_PAGE = (
    b"<!doctype html><html><head><title>Error 503: Service Unavailable</title></head>"
    b"<body><h1>Service Temporarily Unavailable</h1></body></html>"
)


class Sleeps(list):
    """Records the pauses the client asked for instead of sleeping."""

    def __call__(self, seconds):
        self.append(seconds)


class TopOfRange:
    """Jitter stand-in: always the upper bound, so the backoff ceiling is visible."""

    def uniform(self, low, high):
        return high


@pytest.fixture
def sleeps():
    return Sleeps()


def make_client(sleeps, **options):
    client = MagentoClient(STORE, IntegrationTokenAuth(TOKEN), sleep=sleeps, **options)
    client._random = TopOfRange()
    return client


def refused():
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] refused")
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/", reason=reason))


def dns_failure():
    reason = NameResolutionError("shop.example.com", None, OSError("Name or service not known"))
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/", reason=reason))


def dropped():
    reset = ProtocolError("Connection aborted.", ConnectionResetError(104, "reset by peer"))
    return requests.exceptions.ConnectionError(reset)


# -- the session and what every request carries ---------------------------------------------------


def test_user_agent_names_the_portal_and_its_version(store_mock, sleeps):
    store_mock.get(CONFIGS_URL, json=[])
    make_client(sleeps).request("GET", CONFIGS)
    headers = store_mock.calls[0].request.headers
    assert headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith(f"Magento2AutomationPortal/{__version__} ")
    # The version merchants see in their logs is the portal's release, not a second number.
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert __version__ == pyproject["project"]["version"]
    assert headers["Accept"] == "application/json"


def test_timeouts_and_tls_verification_are_passed_to_requests(store_mock, sleeps):
    store_mock.get(CONFIGS_URL, json=[])
    make_client(sleeps, connect_timeout=3, read_timeout=7.5, verify_tls=False).request(
        "GET", CONFIGS
    )
    kwargs = store_mock.calls[0].request.req_kwargs
    assert kwargs["timeout"] == (3.0, 7.5)
    assert kwargs["verify"] is False


@pytest.mark.parametrize("timeouts", [(0, 30), (10, 0), (-1, 5)])
def test_timeouts_must_be_positive(sleeps, timeouts):
    with pytest.raises(ValueError, match="positive"):
        make_client(sleeps, connect_timeout=timeouts[0], read_timeout=timeouts[1])


def test_one_session_serves_every_call(store_mock, sleeps, monkeypatch):
    store_mock.get(CONFIGS_URL, json=[])
    client = make_client(sleeps)
    sessions = []
    original = requests.Session.request

    def spy(self, *args, **kwargs):
        sessions.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", spy)
    client.request("GET", CONFIGS)
    client.request("GET", CONFIGS)
    assert len(sessions) == 2
    assert sessions[0] is sessions[1] is client._session
    assert client._session.trust_env is False


def test_context_manager_closes_the_session(sleeps, monkeypatch):
    closed = []
    with make_client(sleeps) as client:
        monkeypatch.setattr(client._session, "close", lambda: closed.append(True))
    assert closed == [True]


def test_json_body_is_sent_as_utf8_json(store_mock, sleeps):
    store_mock.post(CUSTOMERS_URL, json={"id": 1})
    body = {"customer": {"firstname": "Zoë", "lastname": "Müller", "email": "z@example.com"}}
    make_client(sleeps).request("POST", "/V1/customers", json=body)
    sent = store_mock.calls[0].request
    assert sent.headers["Content-Type"] == "application/json"
    assert json.loads(sent.body.decode("utf-8")) == body
    assert "Zoë".encode() in sent.body


def test_query_pairs_keep_their_order_and_encoding(store_mock, sleeps):
    store_mock.get(f"{STORE}/rest/all/V1/customers/search", json={"items": []})
    params = [("searchCriteria[pageSize]", 100), ("b", "x y+z"), ("a", True)]
    make_client(sleeps).request("GET", "/V1/customers/search", params=params)
    assert store_mock.calls[0].request.url.endswith(
        "/customers/search?searchCriteria%5BpageSize%5D=100&b=x%20y%2Bz&a=1"
    )


def test_params_may_be_a_dict(store_mock, sleeps):
    store_mock.get(CONFIGS_URL, json=[])
    make_client(sleeps).request("GET", CONFIGS, params={"storeCodes[]": "default"})
    assert store_mock.calls[0].request.url == f"{CONFIGS_URL}?storeCodes%5B%5D=default"


def test_store_code_per_call_and_none(store_mock, sleeps):
    store_mock.get(f"{STORE}/rest/default{CONFIGS}", json=[])
    store_mock.get(f"{STORE}/rest{CONFIGS}", json=[])
    client = make_client(sleeps)
    client.request("GET", CONFIGS, store_code="default")
    client.request("GET", CONFIGS, store_code=None)
    assert client.url_for(CONFIGS) == CONFIGS_URL


def test_client_accepts_a_parsed_store_address_with_sub_folder(store_mock, sleeps):
    store_mock.get("https://example.com/shop/index.php/rest/de/V1/store/storeConfigs", json=[])
    address = parse_store_domain("https://example.com/shop/index.php")
    MagentoClient(address, None, store_code="de", sleep=sleeps).request("GET", CONFIGS)


@pytest.mark.parametrize(
    "path", ["V1/customers", "//evil.example/V1", "/V1/customers?x=1", "/V1/a b"]
)
def test_bad_paths_are_refused_before_sending(sleeps, path):
    with pytest.raises(ValueError):
        make_client(sleeps).request("GET", path)


def test_unknown_attributes_are_attribute_errors(sleeps):
    with pytest.raises(AttributeError):
        make_client(sleeps).not_a_resource  # noqa: B018


# -- answers that are not what Magento sends -------------------------------------------------------


def test_redirects_are_not_followed_and_say_where_they_point(store_mock, sleeps):
    store_mock.get(
        CONFIGS_URL,
        status=302,
        headers={"Location": "http://169.254.169.254/latest/meta-data?token=abc"},
    )
    with pytest.raises(UnexpectedResponseError) as caught:
        make_client(sleeps).request("GET", CONFIGS)
    message = str(caught.value)
    assert "http://169.254.169.254/latest/meta-data" in message
    assert "token=abc" not in message
    assert "does not follow redirects" in message
    assert len(store_mock.calls) == 1
    assert sleeps == []


def test_redirect_to_https_suggests_changing_the_store_domain(store_mock, sleeps):
    store_mock.get(
        "http://shop.example.com/rest/all/V1/store/storeConfigs",
        status=301,
        headers={"Location": "https://shop.example.com/rest/all/V1/store/storeConfigs"},
    )
    client = MagentoClient("http://shop.example.com", None, sleep=sleeps)
    with pytest.raises(UnexpectedResponseError, match="start with https://"):
        client.request("GET", CONFIGS)


@pytest.mark.parametrize(
    ("store", "location", "other_address"),
    [
        # Same host and port, only the path differs: not "another address".
        ("https://shop.example.com:8443", "/index.php/rest/all/V1/store/storeConfigs", False),
        ("https://shop.example.com", "https://shop.example.com:443/shop/rest", False),
        ("https://shop.example.com", "https://www.shop.example.com/rest", True),
        ("https://shop.example.com:8443", "https://shop.example.com/rest", True),
    ],
)
def test_redirect_hint_names_another_address_only_when_it_is_one(
    store_mock, sleeps, store, location, other_address
):
    store_mock.get(f"{store}/rest/all{CONFIGS}", status=301, headers={"Location": location})
    client = MagentoClient(store, None, sleep=sleeps)
    with pytest.raises(UnexpectedResponseError) as caught:
        client.request("GET", CONFIGS)
    assert ("may live at the other address" in str(caught.value)) is other_address


@pytest.mark.parametrize(
    ("body", "content_type", "says"),
    [
        (b'{"items": [', "application/json", "malformed JSON"),
        (b"<html><head><title>Customer Login</title></head></html>", "text/html", "Customer Login"),
        (b"", "application/json", "empty body"),
    ],
)
def test_success_status_with_a_body_that_is_not_json(store_mock, sleeps, body, content_type, says):
    store_mock.get(CONFIGS_URL, body=body, content_type=content_type)
    with pytest.raises(UnexpectedResponseError) as caught:
        make_client(sleeps).request("GET", CONFIGS)
    assert says in str(caught.value)
    assert caught.value.status == 200


def test_magento_error_carries_path_without_query(store_mock, sleeps):
    status, body = load_error("customer_not_found")
    store_mock.get(f"{CUSTOMERS_URL}/-1", status=status, json=body)
    with pytest.raises(NotFoundError) as caught:
        make_client(sleeps).request("GET", "/V1/customers/-1", params={"fields": "id"})
    assert caught.value.path == "/V1/customers/-1"
    assert caught.value.method == "GET"
    assert (
        str(caught.value) == "No such entity with customerId = -1 [HTTP 404, GET /V1/customers/-1]"
    )


def test_a_page_echoing_the_token_is_scrubbed(store_mock, sleeps):
    page = f"<html><body>Debug: Authorization: Bearer {TOKEN}</body></html>".encode()
    store_mock.get(CONFIGS_URL, status=500, body=page, content_type="text/html")
    with pytest.raises(StoreUnavailableError) as caught:
        make_client(sleeps).request("GET", CONFIGS)
    assert TOKEN not in str(caught.value)
    assert TOKEN not in caught.value.body_excerpt
    assert "[hidden]" in caught.value.body_excerpt


def test_an_error_echoing_the_token_in_its_parameters_is_scrubbed(store_mock, sleeps):
    body = {"message": 'Token "%1" is not valid.', "parameters": [TOKEN]}
    store_mock.get(CONFIGS_URL, status=400, json=body)
    with pytest.raises(MagentoError) as caught:
        make_client(sleeps).request("GET", CONFIGS)
    assert TOKEN not in str(caught.value)
    assert caught.value.parameters == ["[hidden]"]


# -- retries for idempotent requests ---------------------------------------------------------------


def test_get_is_retried_on_503_with_exponential_backoff(store_mock, sleeps):
    store_mock.get(CONFIGS_URL, status=503, json={"message": "busy"})
    store_mock.get(CONFIGS_URL, status=502, body=b"<html><title>502 Bad Gateway</title></html>")
    store_mock.get(CONFIGS_URL, status=504, body=b"")
    store_mock.get(CONFIGS_URL, json=[{"code": "default"}])
    assert make_client(sleeps).request("GET", CONFIGS) == [{"code": "default"}]
    assert sleeps == [0.5, 1.0, 2.0]


def test_full_jitter_stays_within_the_backoff_ceiling(store_mock, sleeps):
    store_mock.get(CONFIGS_URL, status=503, json={"message": "busy"})
    store_mock.get(CONFIGS_URL, json=[])
    client = MagentoClient(STORE, None, sleep=sleeps)
    client.request("GET", CONFIGS)
    assert len(sleeps) == 1
    assert 0 <= sleeps[0] <= 0.5


def test_retries_are_bounded_in_count(store_mock, sleeps):
    store_mock.get(CONFIGS_URL, status=503, json={"message": "busy"})
    with pytest.raises(StoreUnavailableError):
        make_client(sleeps, max_retries=2).request("GET", CONFIGS)
    assert len(store_mock.calls) == 3
    assert sleeps == [0.5, 1.0]


def test_retries_are_bounded_in_total_time(store_mock, sleeps):
    store_mock.get(CONFIGS_URL, status=503, json={"message": "busy"})
    with pytest.raises(StoreUnavailableError):
        make_client(sleeps, max_retries=10, max_retry_seconds=3.0).request("GET", CONFIGS)
    assert sleeps == [0.5, 1.0]  # the next 2.0 s pause would exceed the 3 s budget
    assert len(store_mock.calls) == 3


def test_retry_after_seconds_is_honoured(store_mock, sleeps):
    status, body = load_error("too_many_requests")
    store_mock.get(CONFIGS_URL, status=status, json=body, headers={"Retry-After": "7"})
    store_mock.get(CONFIGS_URL, json=[])
    make_client(sleeps).request("GET", CONFIGS)
    assert sleeps == [7.0]


def test_retry_after_http_date_is_honoured(store_mock, sleeps):
    store_mock.get(
        CONFIGS_URL,
        status=429,
        json={"message": "Too Many Requests"},
        headers={"Retry-After": "Tue, 14 Nov 2023 22:13:40 GMT"},
    )
    store_mock.get(CONFIGS_URL, json=[])
    client = make_client(sleeps)
    client._wall_clock = lambda: 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
    client.request("GET", CONFIGS)
    assert sleeps == [20.0]


def test_retry_after_beyond_the_budget_gives_up_at_once(store_mock, sleeps):
    store_mock.get(
        CONFIGS_URL,
        status=429,
        json={"message": "Too Many Requests"},
        headers={"Retry-After": "3600"},
    )
    with pytest.raises(RateLimitedError) as caught:
        make_client(sleeps, max_retry_seconds=60).request("GET", CONFIGS)
    assert caught.value.retry_after == 3600.0
    assert sleeps == []
    assert len(store_mock.calls) == 1


def test_maintenance_page_is_retried_then_reported(store_mock, sleeps):
    store_mock.get(CONFIGS_URL, status=503, body=MAINTENANCE_PAGE, content_type="text/html")
    with pytest.raises(MaintenanceError, match="maintenance mode"):
        make_client(sleeps, max_retries=1).request("GET", CONFIGS)
    assert len(store_mock.calls) == 2


def test_internal_error_500_is_not_retried(store_mock, sleeps):
    status, body = load_error("internal_error")
    store_mock.get(CONFIGS_URL, status=status, json=body)
    with pytest.raises(StoreUnavailableError, match="Report ID: webapi-5a291a13d9760"):
        make_client(sleeps).request("GET", CONFIGS)
    assert len(store_mock.calls) == 1
    assert sleeps == []


def test_get_is_retried_after_a_dropped_connection_and_a_read_timeout(store_mock, sleeps):
    store_mock.get(CONFIGS_URL, body=dropped())
    store_mock.get(CONFIGS_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    store_mock.get(CONFIGS_URL, json=[])
    assert make_client(sleeps).request("GET", CONFIGS) == []
    assert sleeps == [0.5, 1.0]


def test_get_read_timeouts_end_in_a_timeout_error(store_mock, sleeps):
    store_mock.get(CONFIGS_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(RequestTimeoutError, match="did not answer within 30 seconds"):
        make_client(sleeps, max_retries=1).request("GET", CONFIGS)
    assert len(store_mock.calls) == 2


def test_put_is_retried_on_502(store_mock, sleeps):
    url = f"{STORE}/rest/all/V1/products/MS-Champ-S"
    store_mock.put(url, status=502, body=b"Bad Gateway")
    store_mock.put(url, json=load_sample("product"))
    make_client(sleeps).request("PUT", "/V1/products/MS-Champ-S", json={"product": {"price": 9}})
    assert len(store_mock.calls) == 2
    assert store_mock.calls[0].request.body == store_mock.calls[1].request.body


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_a_connection_dropped_on_every_attempt_ends_in_a_transport_error(
    store_mock, sleeps, method
):
    store_mock.add(method, CONFIGS_URL, body=dropped())
    with pytest.raises(TransportError) as caught:
        make_client(sleeps, max_retries=1).request(method, CONFIGS, json={})
    assert type(caught.value) is TransportError
    assert "The connection to https://shop.example.com failed." in str(caught.value)
    assert (caught.value.method, caught.value.path) == (method, CONFIGS)
    assert len(store_mock.calls) == 2
    assert sleeps == [0.5]


def test_tls_failure_is_reported_and_not_retried(store_mock, sleeps):
    store_mock.get(CONFIGS_URL, body=requests.exceptions.SSLError("certificate verify failed"))
    with pytest.raises(TLSError, match="secure HTTPS connection"):
        make_client(sleeps).request("GET", CONFIGS)
    assert len(store_mock.calls) == 1


# -- POST is never blindly repeated ----------------------------------------------------------------


def test_post_read_timeout_is_an_unknown_outcome(store_mock, sleeps):
    store_mock.post(CUSTOMERS_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(UnknownOutcomeError) as caught:
        make_client(sleeps).request("POST", "/V1/customers", json={"customer": {}})
    assert "Check the store before trying again" in str(caught.value)
    assert (caught.value.method, caught.value.path) == ("POST", "/V1/customers")
    assert len(store_mock.calls) == 1
    assert sleeps == []


def test_post_dropped_after_sending_is_an_unknown_outcome(store_mock, sleeps):
    store_mock.post(f"{STORE}/rest/all/V1/order/5/ship", body=dropped())
    with pytest.raises(UnknownOutcomeError):
        make_client(sleeps).request("POST", "/V1/order/5/ship", json={})
    assert len(store_mock.calls) == 1


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (200, b"", "application/json"),
        (200, b'{"id": 9', "application/json"),
        (200, b"<html><body>Thanks!</body></html>", "text/html"),
        (502, b"<html><body>Bad Gateway</body></html>", "text/html"),
        (504, b"<html><body>Gateway Time-out</body></html>", "text/html"),
    ],
)
def test_post_with_an_unusable_answer_that_may_have_been_done_is_an_unknown_outcome(
    store_mock, sleeps, status, body, content_type
):
    store_mock.post(
        f"{STORE}/rest/all/V1/order/5/ship", body=body, status=status, content_type=content_type
    )
    with pytest.raises(UnknownOutcomeError) as caught:
        make_client(sleeps).request("POST", "/V1/order/5/ship", json={})
    assert caught.value.status == status
    assert "Check the store before trying again" in str(caught.value)
    assert len(store_mock.calls) == 1
    assert sleeps == []


def test_post_refused_by_magento_is_not_an_unknown_outcome(store_mock, sleeps):
    status, body = load_error("internal_error")
    store_mock.post(CUSTOMERS_URL, json=body, status=status)
    store_mock.post(CUSTOMERS_URL, body=MAINTENANCE_PAGE, status=503, content_type="text/html")
    client = make_client(sleeps)
    with pytest.raises(StoreUnavailableError) as first:
        client.request("POST", "/V1/customers", json={})
    with pytest.raises(MaintenanceError):
        client.request("POST", "/V1/customers", json={})
    assert not isinstance(first.value, UnknownOutcomeError)


def test_get_with_a_malformed_answer_stays_an_unexpected_response(store_mock, sleeps):
    store_mock.get(CONFIGS_URL, body=b'[{"code": ', status=200, content_type="application/json")
    with pytest.raises(UnexpectedResponseError) as caught:
        make_client(sleeps).request("GET", CONFIGS)
    assert not isinstance(caught.value, UnknownOutcomeError)


def test_post_is_retried_when_the_connection_was_never_made(store_mock, sleeps):
    store_mock.post(CUSTOMERS_URL, body=refused())
    store_mock.post(CUSTOMERS_URL, body=requests.exceptions.ConnectTimeout("connect timed out"))
    store_mock.post(CUSTOMERS_URL, json={"id": 9})
    assert make_client(sleeps).request("POST", "/V1/customers", json={}) == {"id": 9}
    assert sleeps == [0.5, 1.0]


def test_refused_connection_in_the_end_is_a_transport_error(store_mock, sleeps):
    store_mock.post(CUSTOMERS_URL, body=refused())
    with pytest.raises(TransportError, match="connection was refused") as caught:
        make_client(sleeps, max_retries=1).request("POST", "/V1/customers", json={})
    assert not isinstance(caught.value, UnknownOutcomeError)


def test_connect_timeouts_in_the_end_say_how_long_the_portal_waited(store_mock, sleeps):
    store_mock.post(CUSTOMERS_URL, body=requests.exceptions.ConnectTimeout("connect timed out"))
    with pytest.raises(RequestTimeoutError) as caught:
        make_client(sleeps, connect_timeout=4, max_retries=1).request(
            "POST", "/V1/customers", json={}
        )
    assert "Could not connect to https://shop.example.com within 4 seconds." in str(caught.value)
    assert not isinstance(caught.value, UnknownOutcomeError)
    assert len(store_mock.calls) == 2
    assert sleeps == [0.5]


def test_an_unreachable_network_is_a_plain_connect_failure(store_mock, sleeps):
    reason = NewConnectionError(
        None, "Failed to establish a new connection: [Errno 101] unreachable"
    )
    failure = requests.exceptions.ConnectionError(MaxRetryError(None, "/", reason=reason))
    store_mock.post(CUSTOMERS_URL, body=failure)
    with pytest.raises(TransportError) as caught:
        make_client(sleeps, max_retries=0).request("POST", "/V1/customers", json={})
    assert type(caught.value) is TransportError
    assert caught.value.message == "Could not connect to https://shop.example.com."
    assert len(store_mock.calls) == 1


def test_dns_failure_says_the_address_was_not_found(store_mock, sleeps):
    store_mock.get(CONFIGS_URL, body=dns_failure())
    with pytest.raises(TransportError, match="could not be found"):
        make_client(sleeps, max_retries=0).request("GET", CONFIGS)


def test_post_429_is_retried_after_retry_after(store_mock, sleeps):
    store_mock.post(
        CUSTOMERS_URL,
        status=429,
        json={"message": "Too Many Requests"},
        headers={"Retry-After": "2"},
    )
    store_mock.post(CUSTOMERS_URL, json={"id": 3})
    assert make_client(sleeps).request("POST", "/V1/customers", json={}) == {"id": 3}
    assert sleeps == [2.0]


@pytest.mark.parametrize(
    ("status", "error"),
    [(502, UnknownOutcomeError), (503, StoreUnavailableError), (504, UnknownOutcomeError)],
)
def test_post_gateway_errors_are_not_repeated(store_mock, sleeps, status, error):
    store_mock.post(CUSTOMERS_URL, status=status, body=b"")
    with pytest.raises(error):
        make_client(sleeps).request("POST", "/V1/customers", json={})
    assert len(store_mock.calls) == 1
    assert sleeps == []


# -- logging ---------------------------------------------------------------------------------------


def test_debug_log_has_method_path_status_duration_and_attempt_but_no_values(
    store_mock, sleeps, caplog
):
    caplog.set_level(logging.DEBUG, logger="magento.client")
    store_mock.get(f"{STORE}/rest/all/V1/customers/search", status=503, json={"message": "busy"})
    store_mock.get(f"{STORE}/rest/all/V1/customers/search", json={"items": []})
    make_client(sleeps).request(
        "GET", "/V1/customers/search", params=[("email", "jane.secret@example.com"), ("x", "1")]
    )
    lines = [r.getMessage() for r in caplog.records if r.name == "magento.client"]
    assert any(
        line.startswith("GET /rest/all/V1/customers/search?(2 params) -> 503 in ")
        and line.endswith("(attempt 1)")
        for line in lines
    )
    assert any("-> 200" in line and line.endswith("(attempt 2)") for line in lines)
    assert "jane.secret" not in caplog.text
    assert TOKEN not in caplog.text

"""The three ways to sign in: bearer token, OAuth 1.0a as Magento checks it, admin session."""

import base64
import hashlib
import hmac
import json
import logging
import re
from urllib.parse import quote, unquote, urlsplit

import pyotp
import pytest
import requests

from magento import (
    AdminSessionAuth,
    AuthenticationError,
    InMemoryTokenCache,
    IntegrationTokenAuth,
    InvalidCredentialsError,
    InvalidTwoFactorCodeError,
    MagentoClient,
    OAuth1Auth,
    SignInWithheldError,
    StoreUnavailableError,
    TransportError,
    TwoFactorRequiredError,
    UnexpectedResponseError,
)
from magento.auth import natural_compare, oauth_base_string, signed_path
from magento.sandbox import Credentials, FakeClock
from tests.helpers import no_sleep
from tests.magento.schema_check import assert_matches_schema
from tests.shared_data import load_error, load_sample

STORE = "https://shop.example.com"
CONFIGS_URL = f"{STORE}/rest/all/V1/store/storeConfigs"
SEARCH_URL = f"{STORE}/rest/all/V1/customers/search"
ADMIN_TOKEN_URL = f"{STORE}/rest/V1/integration/admin/token"
GOOGLE_URL = f"{STORE}/rest/V1/tfa/provider/google/authenticate"

CONSUMER_KEY = "ck0consumerkey0000000000000000ab"
CONSUMER_SECRET = "cs0consumersecret00000000000000cd"
ACCESS_TOKEN = "at0accesstoken000000000000000000ef"
ACCESS_TOKEN_SECRET = "ats0tokensecret0000000000000000gh"
ADMIN_PASSWORD = "Adm1n-Pa55word!"
TOTP_SECRET = "TMEZR3RXKYGMXQTA3LZQSONAAUIASPOI"
ADMIN_TOKEN = load_sample("admin-token-response")
SECOND_TOKEN = "9zsecondtoken00000000000000000zz"


NOW = 1_800_000_000.0  # where every FakeClock of these tests starts


def make_client(auth, **options):
    options.setdefault("sleep", no_sleep)
    return MagentoClient(STORE, auth, **options)


def calls_to(store_mock, url):
    return [call for call in store_mock.calls if call.request.url.split("?")[0] == url]


# -- bearer -------------------------------------------------------------------------------------


def test_bearer_token_is_sent_as_authorization_header(store_mock):
    store_mock.get(CONFIGS_URL, json=[{"code": "default"}])
    client = make_client(IntegrationTokenAuth(ACCESS_TOKEN))
    assert client.request("GET", "/V1/store/storeConfigs") == [{"code": "default"}]
    assert store_mock.calls[0].request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"


def test_bearer_401_is_not_retried(store_mock):
    status, body = load_error("unauthorized_consumer")
    store_mock.get(CONFIGS_URL, status=status, json=body)
    client = make_client(IntegrationTokenAuth(ACCESS_TOKEN))
    with pytest.raises(AuthenticationError) as refused:
        client.request("GET", "/V1/store/storeConfigs")
    assert len(store_mock.calls) == 1
    assert refused.value.resources == "Magento_Backend::store"


@pytest.mark.parametrize("token", ["", "   ", "abc\r\nX-Evil: 1", None])
def test_bearer_token_must_be_one_line_of_text(token):
    with pytest.raises(ValueError, match="access token"):
        IntegrationTokenAuth(token)


# -- OAuth 1.0a, checked the way Magento checks it ------------------------------------------------


def parse_oauth_header(header):
    """Split the header the way Magento's OAuth request helper does (rawurldecode)."""
    assert header.startswith("OAuth ")
    params = {}
    for item in header[len("OAuth ") :].split(","):
        name, value = item.strip().split("=", 1)
        params[unquote(name)] = unquote(value.strip('"'))
    return params


def php_natural_key(name):
    # Enough of PHP's strnatcmp for these names: digit runs compare by value.
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


UNRESERVED = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.~")
# Magento 2.4.6/2.4.7 (Laminas' own normalizePath) also decodes these; 2.4.8 only UNRESERVED.
LAMINAS_DECODES = UNRESERVED | set(":@&=+$,/;%")
LAMINAS_KEEPS = LAMINAS_DECODES | set("()")
HEX = set("0123456789abcdefABCDEF")


def laminas_path(path, decodes=LAMINAS_DECODES):
    """Laminas' Uri::normalizePath, written out step by step: decode the escapes of characters
    in `decodes`, upper-case the rest, then escape what a path may not hold literally (Magento
    2.4.8 overrides it to decode only unreserved characters: pass decodes=UNRESERVED)."""
    decoded, i = "", 0
    while i < len(path):
        escape = path[i : i + 3]
        if path[i] == "%" and len(escape) == 3 and set(escape[1:]) <= HEX:
            char = chr(int(escape[1:], 16))
            decoded += char if char in decodes else escape.upper()
            i += 3
        else:
            decoded += path[i]
            i += 1
    encoded = ""
    for i, char in enumerate(decoded):
        lone_percent = char == "%" and not set(decoded[i + 1 : i + 3]) <= HEX
        lone_percent = lone_percent or (char == "%" and len(decoded[i + 1 : i + 3]) < 2)
        if char not in LAMINAS_KEEPS or lone_percent:
            encoded += "".join(f"%{byte:02X}" for byte in char.encode())
        else:
            encoded += char
    return encoded


def magento_base_string(method, url, header_params, order=php_natural_key, decodes=UNRESERVED):
    """Recompute Magento's signature base string independently of the client's code (by
    default as 2.4.8 does; decodes=LAMINAS_DECODES for 2.4.6/2.4.7)."""
    parts = urlsplit(url)
    params = {k: v for k, v in header_params.items() if k != "oauth_signature"}
    if parts.query:
        for chunk in parts.query.split("&"):
            name, value = chunk.split("=")
            params[unquote(name)] = unquote(value)  # a PHP array: a repeated name keeps the last
    encoded = {quote(k, safe="~"): quote(v, safe="~") for k, v in params.items()}
    names = sorted(encoded, key=order)
    normalized = "&".join(f"{name}={encoded[name]}" for name in names)
    base_url = f"{parts.scheme}://{parts.netloc}{laminas_path(parts.path, decodes)}"
    return "&".join([method, quote(base_url, safe="~"), quote(normalized, safe="~")])


def hmac_sha256(base_string):
    key = f"{quote(CONSUMER_SECRET, safe='~')}&{quote(ACCESS_TOKEN_SECRET, safe='~')}"
    digest = hmac.new(key.encode(), base_string.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def oauth_client(**options):
    auth = OAuth1Auth(CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_TOKEN_SECRET)
    return make_client(auth, **options)


def twelve_filter_search():
    pairs = []
    for group in range(12):
        prefix = f"searchCriteria[filter_groups][{group}][filters][0]"
        pairs += [
            (f"{prefix}[field]", "email" if group % 2 else "firstname"),
            (f"{prefix}[value]", f"Jane Doe+{group}%"),
            (f"{prefix}[condition_type]", "neq"),
        ]
    pairs += [("searchCriteria[pageSize]", "100"), ("searchCriteria[currentPage]", "1")]
    return pairs


def test_signed_search_with_twelve_filters_matches_magentos_natural_order(store_mock):
    store_mock.get(SEARCH_URL, json={"items": [], "total_count": 0})
    client = oauth_client()
    client.request("GET", "/V1/customers/search", params=twelve_filter_search())

    sent = store_mock.calls[0].request
    header = parse_oauth_header(sent.headers["Authorization"])
    assert header["oauth_signature_method"] == "HMAC-SHA256"
    assert header["oauth_consumer_key"] == CONSUMER_KEY
    assert header["oauth_token"] == ACCESS_TOKEN
    assert header["oauth_signature"] == hmac_sha256(magento_base_string("GET", sent.url, header))

    # A client ordering by bytes, as RFC 5849 says, would compute a signature Magento rejects.
    byte_order = magento_base_string("GET", sent.url, header, order=lambda name: name)
    assert hmac_sha256(byte_order) != header["oauth_signature"]
    natural = magento_base_string("GET", sent.url, header)
    group = "searchCriteria%255Bfilter_groups%255D%255B{}%255D"
    assert natural.index(group.format(2)) < natural.index(group.format(10))
    assert byte_order.index(group.format(10)) < byte_order.index(group.format(2))


def test_signed_query_decodes_plus_as_plus_and_space_from_percent_20(store_mock):
    store_mock.get(SEARCH_URL, json={"items": []})
    client = oauth_client()
    client.request("GET", "/V1/customers/search", params=[("q", "a+b c")])
    sent = store_mock.calls[0].request
    assert sent.url.endswith("?q=a%2Bb%20c")
    header = parse_oauth_header(sent.headers["Authorization"])
    assert header["oauth_signature"] == hmac_sha256(magento_base_string("GET", sent.url, header))


def test_signed_post_with_json_body_and_store_code(store_mock):
    url = f"{STORE}/rest/default/V1/customers"
    store_mock.post(url, json={"id": 7})
    client = oauth_client(store_code="default")
    client.request("POST", "/V1/customers", json={"customer": {"email": "j@example.com"}})
    sent = store_mock.calls[0].request
    header = parse_oauth_header(sent.headers["Authorization"])
    assert header["oauth_signature"] == hmac_sha256(magento_base_string("POST", url, header))


def test_each_attempt_is_signed_with_a_fresh_nonce(store_mock):
    store_mock.get(CONFIGS_URL, status=503, json={"message": "busy"})
    store_mock.get(CONFIGS_URL, json=[])
    client = oauth_client(sleep=lambda seconds: None)
    client.request("GET", "/V1/store/storeConfigs")
    first, second = (
        parse_oauth_header(c.request.headers["Authorization"]) for c in store_mock.calls
    )
    assert first["oauth_nonce"] != second["oauth_nonce"]
    for call, header in zip(store_mock.calls, (first, second), strict=True):
        expected = hmac_sha256(magento_base_string("GET", call.request.url, header))
        assert header["oauth_signature"] == expected


def test_oauth_401_is_not_retried(store_mock):
    store_mock.get(
        CONFIGS_URL, status=401, json={"message": "The signature is invalid. Verify and try again."}
    )
    with pytest.raises(AuthenticationError, match="signature is invalid"):
        oauth_client().request("GET", "/V1/store/storeConfigs")
    assert len(store_mock.calls) == 1


@pytest.mark.parametrize(
    ("sent_path", "rfc_path", "decoded_path"),
    [
        ("MS%2FChamp%20S%2B1", "MS%2FChamp%20S%2B1", "MS/Champ%20S+1"),
        ("a%26b%3Dc%2Cd%3Be%3Af%40g%24h", "a%26b%3Dc%2Cd%3Be%3Af%40g%24h", "a&b=c,d;e:f@g$h"),
        ("100%25", "100%25", "100%25"),
        ("100%2541", "100%2541", "100%41"),
        ("Gr%C3%B6%C3%9Fe%23%3F", "Gr%C3%B6%C3%9Fe%23%3F", "Gr%C3%B6%C3%9Fe%23%3F"),
        ("a%28c%29%2A", "a%28c%29%2A", "a%28c%29%2A"),
    ],
)
@pytest.mark.parametrize("path_signing", [None, "rfc5849", "decoded"])
def test_signed_path_is_normalised_the_way_magento_checks_it(
    store_mock, sent_path, rfc_path, decoded_path, path_signing
):
    # Magento 2.4.8 signs the path the RFC 5849 way ("%2F" stays); 2.4.6/2.4.7 (Laminas'
    # Uri::normalize) sign "%2F" as "/" (magento/magento2#37913). Unknown: the RFC way first.
    url = f"{STORE}/rest/all/V1/products/{sent_path}"
    store_mock.get(url, json={"sku": "x"})
    auth = OAuth1Auth(
        CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_TOKEN_SECRET, path_signing=path_signing
    )
    make_client(auth).request("GET", f"/V1/products/{sent_path}")
    sent = store_mock.calls[0].request
    assert sent.url == url
    header = parse_oauth_header(sent.headers["Authorization"])
    decodes, signed_path_ = (
        (LAMINAS_DECODES, decoded_path) if path_signing == "decoded" else (UNRESERVED, rfc_path)
    )
    assert laminas_path(f"/rest/all/V1/products/{sent_path}", decodes).endswith(f"/{signed_path_}")
    expected = hmac_sha256(magento_base_string("GET", url, header, decodes=decodes))
    assert header["oauth_signature"] == expected
    signed_url = quote(f"{STORE}/rest/all/V1/products/{signed_path_}", safe="~")
    base = oauth_base_string("GET", url, [], path_signing=path_signing or "rfc5849")
    assert base.startswith(f"GET&{signed_url}&")


@pytest.mark.parametrize(
    "path", ["/x/%c3%b6%7e%2f%2b", "/x/a%2e%2E/%41%2525", "/x/%zz%", "/x/()!*'"]
)
def test_signed_path_matches_laminas_for_odd_escapes(path):
    assert signed_path(path, "decoded") == laminas_path(path, LAMINAS_DECODES)
    assert signed_path(path, "rfc5849") == laminas_path(path, UNRESERVED)
    assert signed_path(path) == laminas_path(path, UNRESERVED)


@pytest.mark.parametrize(
    "message",
    [
        "Specified token does not exist",
        "The nonce is already being used by the consumer with ID %1",
        "The signature is invalid.",  # not Magento's exact words
    ],
)
def test_other_401s_on_an_escaped_path_are_not_signed_again(store_mock, message):
    url = f"{STORE}/rest/all/V1/products/tee%2Fred"
    store_mock.get(url, status=401, json={"message": message, "parameters": ["1"]})
    learned = []
    auth = OAuth1Auth(
        CONSUMER_KEY,
        CONSUMER_SECRET,
        ACCESS_TOKEN,
        ACCESS_TOKEN_SECRET,
        on_signing_learned=learned.append,
    )
    with pytest.raises(AuthenticationError):
        make_client(auth).request("GET", "/V1/products/tee%2Fred")
    assert len(store_mock.calls) == 1
    assert learned == [] and auth.path_signing is None


def test_the_second_signing_covers_the_decoded_path_and_is_learned(store_mock):
    url = f"{STORE}/rest/all/V1/products/tee%2Fred"
    invalid = {"message": "The signature is invalid. Verify and try again."}
    store_mock.get(url, status=401, json=invalid)
    store_mock.get(url, json={"sku": "tee/red"})
    learned = []
    auth = OAuth1Auth(
        CONSUMER_KEY,
        CONSUMER_SECRET,
        ACCESS_TOKEN,
        ACCESS_TOKEN_SECRET,
        on_signing_learned=learned.append,
    )
    assert make_client(auth).request("GET", "/V1/products/tee%2Fred") == {"sku": "tee/red"}
    first, second = (
        parse_oauth_header(call.request.headers["Authorization"]) for call in store_mock.calls
    )
    rfc = hmac_sha256(magento_base_string("GET", url, first, decodes=UNRESERVED))
    decoded = hmac_sha256(magento_base_string("GET", url, second, decodes=LAMINAS_DECODES))
    assert (first["oauth_signature"], second["oauth_signature"]) == (rfc, decoded)
    assert first["oauth_nonce"] != second["oauth_nonce"]
    assert learned == ["decoded"] and auth.path_signing == "decoded"


def test_unknown_path_signing_is_refused():
    with pytest.raises(ValueError, match="path_signing"):
        OAuth1Auth(
            CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_TOKEN_SECRET, path_signing="x"
        )


def test_repeated_query_name_is_signed_once_with_its_last_value(store_mock):
    store_mock.get(CONFIGS_URL, json=[])
    oauth_client().request(
        "GET", "/V1/store/storeConfigs", params=[("storeCodes[]", "de"), ("storeCodes[]", "fr")]
    )
    sent = store_mock.calls[0].request
    assert sent.url.endswith("?storeCodes%5B%5D=de&storeCodes%5B%5D=fr")
    header = parse_oauth_header(sent.headers["Authorization"])
    assert header["oauth_signature"] == hmac_sha256(magento_base_string("GET", sent.url, header))
    base = oauth_base_string("GET", sent.url, [])
    assert base.endswith("&storeCodes%255B%255D%3Dfr")


def test_signature_covers_a_non_default_port(store_mock):
    url = "http://127.0.0.1:8081/rest/all/V1/store/storeConfigs"
    store_mock.get(url, json=[])
    auth = OAuth1Auth(CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_TOKEN_SECRET)
    MagentoClient("http://127.0.0.1:8081", auth).request("GET", "/V1/store/storeConfigs")
    header = parse_oauth_header(store_mock.calls[0].request.headers["Authorization"])
    assert header["oauth_signature"] == hmac_sha256(magento_base_string("GET", url, header))


def test_base_string_puts_ten_after_two():
    url = f"{SEARCH_URL}?f%5B10%5D=x&f%5B2%5D=y&f%5B1%5D=z"
    base = oauth_base_string("GET", url, [("oauth_nonce", "n")])
    assert base.index("f%255B1%255D") < base.index("f%255B2%255D") < base.index("f%255B10%255D")


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("img12.png", "img10.png", 1),
        ("img2.png", "img10.png", -1),
        ("abc", "abc", 0),
        ("abc", "abcd", -1),
        ("", "a", -1),
        ("b", "a", 1),
        ("x2-g8", "x2-y7", -1),
        ("1.010", "1.02", -1),
        ("a1", "a01", 1),
        ("f%5B2%5D%5Bx%5D", "f%5B10%5D%5Bx%5D", -1),
        ("oauth_nonce", "oauth_consumer_key", 1),
    ],
)
def test_natural_compare_matches_php_strnatcmp(left, right, expected):
    assert natural_compare(left, right) == expected
    assert natural_compare(right, left) == -expected


# -- admin session --------------------------------------------------------------------------------


def admin_auth(**options):
    options.setdefault("clock", FakeClock(NOW))
    return AdminSessionAuth("shop-admin", ADMIN_PASSWORD, **options)


def test_admin_token_is_fetched_once_and_reused(store_mock):
    store_mock.post(ADMIN_TOKEN_URL, json=ADMIN_TOKEN)
    store_mock.get(CONFIGS_URL, json=[])
    client = make_client(admin_auth())
    client.request("GET", "/V1/store/storeConfigs")
    client.request("GET", "/V1/store/storeConfigs")

    token_calls = calls_to(store_mock, ADMIN_TOKEN_URL)
    assert len(token_calls) == 1
    body = json.loads(token_calls[0].request.body)
    assert body == {"username": "shop-admin", "password": ADMIN_PASSWORD}
    assert_matches_schema(body, ("/V1/integration/admin/token", "post"))
    assert token_calls[0].request.headers["Content-Type"] == "application/json"
    assert "Authorization" not in token_calls[0].request.headers
    for call in calls_to(store_mock, CONFIGS_URL):
        assert call.request.headers["Authorization"] == f"Bearer {ADMIN_TOKEN}"


def test_admin_token_is_renewed_before_its_lifetime_ends(store_mock):
    store_mock.post(ADMIN_TOKEN_URL, json=ADMIN_TOKEN)
    store_mock.post(ADMIN_TOKEN_URL, json=SECOND_TOKEN)
    store_mock.get(CONFIGS_URL, json=[])
    clock = FakeClock(NOW)
    client = make_client(admin_auth(clock=clock))
    client.request("GET", "/V1/store/storeConfigs")
    clock.advance(4 * 3600 - 301)  # still inside 4 hours minus the 5-minute margin
    client.request("GET", "/V1/store/storeConfigs")
    assert len(calls_to(store_mock, ADMIN_TOKEN_URL)) == 1
    clock.advance(1)  # 4 hours minus the margin since the sign-in
    client.request("GET", "/V1/store/storeConfigs")
    assert len(calls_to(store_mock, ADMIN_TOKEN_URL)) == 2
    used = [c.request.headers["Authorization"] for c in calls_to(store_mock, CONFIGS_URL)]
    assert used == [f"Bearer {ADMIN_TOKEN}"] * 2 + [f"Bearer {SECOND_TOKEN}"]


def test_custom_token_cache_receives_the_expiry_time(store_mock):
    class RecordingCache:
        def __init__(self):
            self.saved = {}

        def get(self, key):
            return self.saved.get(key, (None,))[0]

        def set(self, key, token, expires_at):
            self.saved[key] = (token, expires_at)

    store_mock.post(ADMIN_TOKEN_URL, json=ADMIN_TOKEN)
    store_mock.get(CONFIGS_URL, json=[])
    cache, clock = RecordingCache(), FakeClock(NOW)
    make_client(admin_auth(token_cache=cache, clock=clock)).request("GET", "/V1/store/storeConfigs")
    (saved,) = cache.saved.values()
    assert saved == (ADMIN_TOKEN, NOW + 4 * 3600 - 300)


def test_shorter_store_token_lifetime_is_respected(store_mock):
    store_mock.post(ADMIN_TOKEN_URL, json=ADMIN_TOKEN)
    store_mock.post(ADMIN_TOKEN_URL, json=SECOND_TOKEN)
    store_mock.get(CONFIGS_URL, json=[])
    clock = FakeClock(NOW)
    client = make_client(admin_auth(clock=clock, token_lifetime_seconds=600))
    client.request("GET", "/V1/store/storeConfigs")
    clock.advance(540)  # 600 s minus a 60 s (10 %) margin
    client.request("GET", "/V1/store/storeConfigs")
    assert len(calls_to(store_mock, ADMIN_TOKEN_URL)) == 2


def test_401_renews_the_admin_token_once_and_repeats_the_call_once(store_mock):
    status, body = load_error("unauthorized_consumer")
    store_mock.post(ADMIN_TOKEN_URL, json=ADMIN_TOKEN)
    store_mock.post(ADMIN_TOKEN_URL, json=SECOND_TOKEN)
    store_mock.post(f"{STORE}/rest/all/V1/order/5/ship", status=status, json=body)
    store_mock.post(f"{STORE}/rest/all/V1/order/5/ship", json=12)
    client = make_client(admin_auth())
    assert client.request("POST", "/V1/order/5/ship", json={"notify": True}) == 12
    assert len(calls_to(store_mock, ADMIN_TOKEN_URL)) == 2
    ship_calls = calls_to(store_mock, f"{STORE}/rest/all/V1/order/5/ship")
    assert [c.request.headers["Authorization"] for c in ship_calls] == [
        f"Bearer {ADMIN_TOKEN}",
        f"Bearer {SECOND_TOKEN}",
    ]
    assert [c.request.body for c in ship_calls] == [b'{"notify": true}'] * 2


def test_a_second_401_is_final_never_a_loop(store_mock):
    status, body = load_error("unauthorized_consumer")
    store_mock.post(ADMIN_TOKEN_URL, json=ADMIN_TOKEN)
    store_mock.post(ADMIN_TOKEN_URL, json=SECOND_TOKEN)
    store_mock.get(CONFIGS_URL, status=status, json=body)
    client = make_client(admin_auth())
    with pytest.raises(AuthenticationError) as refused:
        client.request("GET", "/V1/store/storeConfigs")
    assert type(refused.value) is AuthenticationError
    assert len(calls_to(store_mock, ADMIN_TOKEN_URL)) == 2
    assert len(calls_to(store_mock, CONFIGS_URL)) == 2


def test_token_renewed_by_another_worker_is_used_without_signing_in(store_mock):
    status, body = load_error("unauthorized_consumer")
    cache = InMemoryTokenCache(clock=FakeClock(NOW))
    store_mock.post(ADMIN_TOKEN_URL, json=ADMIN_TOKEN)
    store_mock.get(CONFIGS_URL, status=status, json=body)
    store_mock.get(CONFIGS_URL, json=[])
    auth = admin_auth(token_cache=cache)
    client = make_client(auth)
    original_get = cache.get

    def get_after_other_worker(key):
        token = original_get(key)
        if token == ADMIN_TOKEN and len(calls_to(store_mock, CONFIGS_URL)) == 1:
            cache.set(key, SECOND_TOKEN, NOW + 3600)
            return SECOND_TOKEN
        return token

    cache.get = get_after_other_worker
    client.request("GET", "/V1/store/storeConfigs")
    assert len(calls_to(store_mock, ADMIN_TOKEN_URL)) == 1
    assert (
        calls_to(store_mock, CONFIGS_URL)[1].request.headers["Authorization"]
        == f"Bearer {SECOND_TOKEN}"
    )


def test_shared_token_cache_signs_in_once_for_two_clients(store_mock):
    store_mock.post(ADMIN_TOKEN_URL, json=ADMIN_TOKEN)
    store_mock.get(CONFIGS_URL, json=[])
    cache = InMemoryTokenCache(clock=FakeClock(NOW))
    first = make_client(admin_auth(token_cache=cache))
    second = make_client(admin_auth(token_cache=cache))
    first.request("GET", "/V1/store/storeConfigs")
    second.request("GET", "/V1/store/storeConfigs")
    assert len(calls_to(store_mock, ADMIN_TOKEN_URL)) == 1
    (key,) = cache._tokens
    assert ADMIN_PASSWORD not in key
    assert "shop-admin" not in key


def test_wrong_password_or_lockout_is_explained_and_never_retried(store_mock):
    status, body = load_error("signin_incorrect")
    store_mock.post(ADMIN_TOKEN_URL, status=status, json=body)
    client = make_client(admin_auth())
    with pytest.raises(InvalidCredentialsError) as refused:
        client.request("GET", "/V1/store/storeConfigs")
    message = str(refused.value)
    assert "wrong" in message
    assert "locked" in message
    assert "30 minutes" in message
    assert "6 failed" in message
    # The same client does not knock again: a second attempt would count toward the lockout.
    with pytest.raises(InvalidCredentialsError):
        client.request("GET", "/V1/store/storeConfigs")
    assert len(store_mock.calls) == 1


def test_a_shared_cache_remembers_a_refused_sign_in_for_every_later_client(store_mock):
    # Workers build a new client per task: without a shared memory of the refusal, six tasks
    # with a wrong password would lock the admin account.
    status, body = load_error("signin_incorrect")
    store_mock.post(ADMIN_TOKEN_URL, status=status, json=body)
    cache = InMemoryTokenCache(clock=FakeClock(NOW))
    with pytest.raises(InvalidCredentialsError) as first:
        make_client(admin_auth(token_cache=cache)).request("GET", "/V1/store/storeConfigs")
    assert type(first.value) is InvalidCredentialsError
    for _ in range(6):
        with pytest.raises(SignInWithheldError) as withheld:
            make_client(admin_auth(token_cache=cache)).request("GET", "/V1/store/storeConfigs")
    assert len(store_mock.calls) == 1
    error = withheld.value
    assert isinstance(error, InvalidCredentialsError)
    assert error.raw_message == body["message"]
    assert "no new attempt" in error.message
    assert body["message"] in error.message


def test_a_remembered_refusal_never_keeps_an_echoed_password(store_mock):
    # A store (or a plugin) that echoes the password in its refusal: the memory shared with
    # other processes holds the scrubbed text only.
    store_mock.post(
        ADMIN_TOKEN_URL,
        status=401,
        json={"message": f"Wrong password {ADMIN_PASSWORD} for shop-admin."},
    )
    cache = InMemoryTokenCache(clock=FakeClock(NOW))
    with pytest.raises(InvalidCredentialsError):
        make_client(admin_auth(token_cache=cache)).request("GET", "/V1/store/storeConfigs")
    (remembered,) = cache._refusals.values()
    assert ADMIN_PASSWORD not in remembered
    assert "[hidden]" in remembered
    with pytest.raises(SignInWithheldError) as withheld:
        make_client(admin_auth(token_cache=cache)).request("GET", "/V1/store/storeConfigs")
    assert ADMIN_PASSWORD not in str(withheld.value)


def test_a_token_another_process_cached_is_scrubbed_from_errors(store_mock):
    page = f"<html><body>Debug: Authorization: Bearer {SECOND_TOKEN}</body></html>"
    store_mock.get(CONFIGS_URL, status=500, body=page, content_type="text/html")
    cache = InMemoryTokenCache(clock=FakeClock(NOW))
    auth = admin_auth(token_cache=cache)
    client = make_client(auth, max_retries=0)
    # Signed in elsewhere: this auth object never fetched the token itself.
    cache.set(auth.cache_key(client), SECOND_TOKEN, NOW + 3600)
    with pytest.raises(StoreUnavailableError) as caught:
        client.request("GET", "/V1/store/storeConfigs")
    assert SECOND_TOKEN not in str(caught.value)
    assert SECOND_TOKEN not in caught.value.body_excerpt


def test_a_successful_sign_in_under_the_key_clears_the_remembered_refusal(store_mock):
    _status, body = load_error("signin_incorrect")
    cache = InMemoryTokenCache(clock=FakeClock(NOW))
    auth = admin_auth(token_cache=cache)
    key = auth.cache_key(make_client(auth))
    cache.remember_refusal(key, InvalidCredentialsError(raw_message=body["message"]))
    assert cache.refusal(key) == body["message"]
    # Another process signed in (the password was corrected): its token replaces the refusal.
    cache.set(key, ADMIN_TOKEN, NOW + 3600)
    assert cache.refusal(key) is None
    store_mock.get(CONFIGS_URL, json=[])
    make_client(admin_auth(token_cache=cache)).request("GET", "/V1/store/storeConfigs")
    assert len(calls_to(store_mock, ADMIN_TOKEN_URL)) == 0


def test_two_factor_required_is_not_remembered_as_a_refused_password(store_mock):
    # The password was right (Magento checks it before asking for 2FA): nothing to lock out.
    store_mock.post(
        ADMIN_TOKEN_URL,
        status=400,
        json={"message": "Please use the 2fa provider-specific endpoints to obtain a token."},
    )
    cache = InMemoryTokenCache(clock=FakeClock(NOW))
    with pytest.raises(TwoFactorRequiredError):
        make_client(admin_auth(token_cache=cache)).request("GET", "/V1/store/storeConfigs")
    assert cache._refusals == {}


def test_a_token_cache_with_only_get_and_set_still_works(store_mock):
    status, body = load_error("signin_incorrect")
    store_mock.post(ADMIN_TOKEN_URL, status=status, json=body)

    class PlainCache:
        def get(self, key):
            return None

        def set(self, key, token, expires_at):
            raise AssertionError("no token to keep")

    with pytest.raises(InvalidCredentialsError):
        make_client(admin_auth(token_cache=PlainCache())).request("GET", "/V1/store/storeConfigs")


def test_any_401_from_the_token_call_counts_as_invalid_credentials(store_mock):
    store_mock.post(ADMIN_TOKEN_URL, status=401, json={"message": "You did not sign in correctly."})
    with pytest.raises(InvalidCredentialsError, match="30 minutes"):
        make_client(admin_auth()).request("GET", "/V1/store/storeConfigs")


def test_token_call_is_not_retried_on_503(store_mock):
    store_mock.post(ADMIN_TOKEN_URL, status=503, json={"message": "Service Unavailable"})
    with pytest.raises(StoreUnavailableError):
        make_client(admin_auth()).request("GET", "/V1/store/storeConfigs")
    assert len(store_mock.calls) == 1


def test_token_call_is_not_retried_on_connection_failure(store_mock):
    store_mock.post(ADMIN_TOKEN_URL, body=requests.exceptions.ConnectionError("reset by peer"))
    with pytest.raises(TransportError) as caught:
        make_client(admin_auth()).request("GET", "/V1/store/storeConfigs")
    assert len(store_mock.calls) == 1
    # Not an "unknown outcome": a sign-in changes nothing in the store.
    assert type(caught.value) is TransportError
    assert "failed during sign-in" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "body", "content_type", "error_class", "says"),
    [
        (
            502,
            b"<html><title>502 Bad Gateway</title></html>",
            "text/html",
            StoreUnavailableError,
            "502 Bad Gateway",
        ),
        (200, b'"abc', "application/json", UnexpectedResponseError, "malformed JSON"),
    ],
)
def test_an_unusable_sign_in_answer_is_reported_as_what_it_is(
    store_mock, status, body, content_type, error_class, says
):
    store_mock.post(ADMIN_TOKEN_URL, status=status, body=body, content_type=content_type)
    with pytest.raises(error_class) as caught:
        make_client(admin_auth()).request("GET", "/V1/store/storeConfigs")
    assert type(caught.value) is error_class
    assert says in str(caught.value)
    assert caught.value.status == status
    assert len(store_mock.calls) == 1


def test_token_answer_that_is_not_a_string_is_refused(store_mock):
    store_mock.post(ADMIN_TOKEN_URL, json={"token": "abc"})
    with pytest.raises(UnexpectedResponseError, match="admin token"):
        make_client(admin_auth()).request("GET", "/V1/store/storeConfigs")


@pytest.mark.parametrize("answer", ["", "   ", "abc\ndef"])
def test_token_answer_that_is_empty_or_more_than_one_line_is_refused(store_mock, answer):
    store_mock.post(ADMIN_TOKEN_URL, json=answer)
    with pytest.raises(UnexpectedResponseError) as caught:
        make_client(admin_auth()).request("GET", "/V1/store/storeConfigs")
    assert "did not contain an admin token" in str(caught.value)
    assert (caught.value.method, caught.value.path) == ("POST", "/V1/integration/admin/token")
    assert len(store_mock.calls) == 1


@pytest.mark.parametrize("status", [400, 401])
def test_two_factor_required_points_to_integrations(store_mock, status):
    _, body = load_error("tfa_provider_specific_endpoints")
    store_mock.post(ADMIN_TOKEN_URL, status=status, json=body)
    client = make_client(admin_auth())
    with pytest.raises(TwoFactorRequiredError) as refused:
        client.request("GET", "/V1/store/storeConfigs")
    assert "integration" in str(refused.value)
    assert refused.value.providers == ["google"]
    with pytest.raises(TwoFactorRequiredError):
        client.request("GET", "/V1/store/storeConfigs")
    assert len(store_mock.calls) == 1


@pytest.mark.parametrize(
    "message",
    [
        "Please ask an administrator with sufficient access to configure 2FA first",
        "You are required to configure personal Two-Factor Authorization in order to login. "
        "Please check your email.",
    ],
)
def test_two_factor_setup_answers(store_mock, message):
    store_mock.post(ADMIN_TOKEN_URL, status=400, json={"message": message})
    with pytest.raises(TwoFactorRequiredError):
        make_client(admin_auth()).request("GET", "/V1/store/storeConfigs")


def test_totp_secret_signs_in_through_google_authenticate(store_mock):
    clock = FakeClock(NOW)
    store_mock.post(GOOGLE_URL, json=ADMIN_TOKEN)
    store_mock.get(CONFIGS_URL, json=[])
    client = make_client(admin_auth(totp_secret=TOTP_SECRET, clock=clock))
    client.request("GET", "/V1/store/storeConfigs")
    body = json.loads(calls_to(store_mock, GOOGLE_URL)[0].request.body)
    assert body == {
        "username": "shop-admin",
        "password": ADMIN_PASSWORD,
        "otp": pyotp.TOTP(TOTP_SECRET).at(NOW),
    }
    assert_matches_schema(body, ("/V1/tfa/provider/google/authenticate", "post"))
    assert (
        calls_to(store_mock, CONFIGS_URL)[0].request.headers["Authorization"]
        == f"Bearer {ADMIN_TOKEN}"
    )


def test_totp_secret_with_spaces_and_lower_case_is_accepted(store_mock):
    store_mock.post(GOOGLE_URL, json=ADMIN_TOKEN)
    store_mock.get(CONFIGS_URL, json=[])
    spaced = " ".join(TOTP_SECRET[i : i + 4] for i in range(0, len(TOTP_SECRET), 4)).lower()
    clock = FakeClock(NOW)
    make_client(admin_auth(totp_secret=spaced, clock=clock)).request(
        "GET", "/V1/store/storeConfigs"
    )
    otp = json.loads(calls_to(store_mock, GOOGLE_URL)[0].request.body)["otp"]
    assert otp == pyotp.TOTP(TOTP_SECRET).at(NOW)


def test_invalid_code_is_a_clear_error(store_mock):
    store_mock.post(GOOGLE_URL, status=401, json={"message": "Invalid code."})
    with pytest.raises(InvalidTwoFactorCodeError) as refused:
        make_client(admin_auth(totp_secret=TOTP_SECRET)).request("GET", "/V1/store/storeConfigs")
    assert "clock" in str(refused.value)
    assert isinstance(refused.value, InvalidCredentialsError)
    assert len(store_mock.calls) == 1


def test_google_provider_not_configured_is_a_two_factor_refusal_not_a_wrong_password(store_mock):
    # Magento checked the password first, so this refusal does not count towards a lockout.
    store_mock.post(GOOGLE_URL, status=400, json={"message": "Provider is not configured."})
    cache = InMemoryTokenCache(clock=FakeClock(NOW))
    client = make_client(admin_auth(totp_secret=TOTP_SECRET, token_cache=cache))
    with pytest.raises(TwoFactorRequiredError) as refused:
        client.request("GET", "/V1/store/storeConfigs")
    with pytest.raises(TwoFactorRequiredError):
        client.request("GET", "/V1/store/storeConfigs")
    assert not isinstance(refused.value, InvalidCredentialsError)
    assert refused.value.path == "/V1/tfa/provider/google/authenticate"
    assert len(store_mock.calls) == 1
    assert cache._refusals == {}


def test_a_remembered_refusal_withholds_the_two_factor_sign_in_too(store_mock):
    store_mock.post(GOOGLE_URL, status=401, json={"message": "Invalid code."})
    cache = InMemoryTokenCache(clock=FakeClock(NOW))
    with pytest.raises(InvalidTwoFactorCodeError):
        make_client(admin_auth(totp_secret=TOTP_SECRET, token_cache=cache)).request(
            "GET", "/V1/store/storeConfigs"
        )
    with pytest.raises(SignInWithheldError) as withheld:
        make_client(admin_auth(totp_secret=TOTP_SECRET, token_cache=cache)).request(
            "GET", "/V1/store/storeConfigs"
        )
    assert len(store_mock.calls) == 1
    assert withheld.value.path == "/V1/tfa/provider/google/authenticate"
    assert withheld.value.method == "POST"
    assert withheld.value.raw_message == "Invalid code."
    assert "no new attempt" in withheld.value.message


@pytest.mark.parametrize("secret", ["not base32 !!", "JBSWY3DPEHPK3PX1", " - "])
def test_invalid_totp_secret_is_refused_up_front(secret):
    with pytest.raises(ValueError, match="TOTP"):
        AdminSessionAuth("shop-admin", ADMIN_PASSWORD, totp_secret=secret)


@pytest.mark.parametrize(
    ("username", "password"), [("", ADMIN_PASSWORD), ("shop-admin", ""), ("a\nb", "x")]
)
def test_admin_credentials_are_required(username, password):
    with pytest.raises(ValueError):
        AdminSessionAuth(username, password)


# -- no credential anywhere ------------------------------------------------------------------------


def test_no_credential_in_repr_str_or_logs(store_mock, caplog):
    caplog.set_level(logging.DEBUG)
    status, body = load_error("unauthorized_consumer")
    store_mock.post(GOOGLE_URL, json=ADMIN_TOKEN)
    store_mock.post(GOOGLE_URL, json=SECOND_TOKEN)
    store_mock.get(CONFIGS_URL, status=status, json=body)
    auths = [
        admin_auth(totp_secret=TOTP_SECRET),
        IntegrationTokenAuth(ACCESS_TOKEN),
        OAuth1Auth(CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_TOKEN_SECRET),
    ]
    client = make_client(auths[0])
    with pytest.raises(AuthenticationError) as refused:
        client.request("GET", "/V1/store/storeConfigs")
    secrets = [ADMIN_PASSWORD, TOTP_SECRET, ADMIN_TOKEN, SECOND_TOKEN, CONSUMER_SECRET]
    secrets += [ACCESS_TOKEN, ACCESS_TOKEN_SECRET]
    texts = [repr(a) for a in auths] + [repr(client), str(client.address)]
    texts += [str(refused.value), repr(refused.value), repr(refused.value.args), caplog.text]
    assert "GET /rest/all/V1/store/storeConfigs -> 401" in caplog.text
    for text in texts:
        for secret in secrets:
            assert secret not in text


def test_an_error_page_echoing_the_admin_token_or_password_is_scrubbed(store_mock):
    store_mock.post(ADMIN_TOKEN_URL, json=ADMIN_TOKEN)
    page = f"<html><body>Bearer {ADMIN_TOKEN} / {ADMIN_PASSWORD}</body></html>".encode()
    store_mock.get(CONFIGS_URL, status=500, body=page, content_type="text/html")
    with pytest.raises(StoreUnavailableError) as caught:
        make_client(admin_auth()).request("GET", "/V1/store/storeConfigs")
    assert ADMIN_TOKEN not in str(caught.value)
    assert ADMIN_PASSWORD not in str(caught.value)
    assert caught.value.body_excerpt == "Bearer [hidden] / [hidden]"


# -- over real HTTP against the sandbox store ---------------------------------------------------


def sandbox_client(server, auth):
    return MagentoClient(server.url, auth, allow_private_network=True, sleep=lambda s: None)


def sandbox_oauth(server):
    c = server.credentials
    return OAuth1Auth(c.consumer_key, c.consumer_secret, c.access_token, c.access_token_secret)


def test_sandbox_accepts_a_signed_search_with_twelve_filters(sandbox_store):
    pairs = []
    for group in range(12):
        prefix = f"searchCriteria[filter_groups][{group}][filters][0]"
        pairs += [
            (f"{prefix}[field]", "email"),
            (f"{prefix}[value]", f"nobody {group}+x@example.com"),
            (f"{prefix}[condition_type]", "neq"),
        ]
    pairs += [("searchCriteria[pageSize]", "50"), ("searchCriteria[currentPage]", "1")]
    with sandbox_client(sandbox_store, sandbox_oauth(sandbox_store)) as client:
        result = client.request("GET", "/V1/customers/search", params=pairs)
    assert result["total_count"] == 3
    assert len(result["items"]) == 3


def test_sandbox_bearer_token_needs_the_store_option(sandbox_store):
    client = sandbox_client(
        sandbox_store, IntegrationTokenAuth(sandbox_store.credentials.access_token)
    )
    with pytest.raises(AuthenticationError) as refused:
        client.request("GET", "/V1/store/storeConfigs")
    assert refused.value.resources == "Magento_Backend::store"
    sandbox_store.bearer_enabled = True
    assert isinstance(client.request("GET", "/V1/store/storeConfigs"), list)


def test_sandbox_admin_session_renews_an_expired_token_once(sandbox_factory):
    server = sandbox_factory(two_factor_enabled=False)
    credentials = server.credentials
    auth = AdminSessionAuth(
        credentials.admin_username, credentials.admin_password, clock=server.store.clock
    )
    client = sandbox_client(server, auth)
    assert client.request("GET", "/V1/customers/1")["id"] == 1
    first_token = auth._last_token
    server.auth.expire_admin_tokens()
    assert client.request("GET", "/V1/customers/1")["id"] == 1
    assert auth._last_token != first_token


def test_sandbox_two_factor_account_signs_in_with_the_totp_secret(sandbox_store):
    server = sandbox_store
    assert server.two_factor_enabled  # Magento 2.4's default
    credentials = server.credentials
    without_code = sandbox_client(
        server, AdminSessionAuth(credentials.admin_username, credentials.admin_password)
    )
    with pytest.raises(TwoFactorRequiredError):
        without_code.request("GET", "/V1/store/storeConfigs")
    auth = AdminSessionAuth(
        credentials.admin_username,
        credentials.admin_password,
        totp_secret=credentials.totp_secret,
        clock=server.store.clock,
    )
    assert isinstance(sandbox_client(server, auth).request("GET", "/V1/store/storeConfigs"), list)


def test_sandbox_admin_with_an_80_bit_totp_secret_signs_in(sandbox_factory):
    # 16 base32 characters, as `bin/magento security:tfa:google:set-secret` accepts them.
    server = sandbox_factory(credentials=Credentials.generate(totp_secret="JBSWY3DPEHPK3PXP"))
    credentials = server.credentials
    auth = AdminSessionAuth(
        credentials.admin_username,
        credentials.admin_password,
        totp_secret="jbsw y3dp ehpk 3pxp",
        clock=server.store.clock,
    )
    assert isinstance(sandbox_client(server, auth).request("GET", "/V1/store/storeConfigs"), list)
    other = AdminSessionAuth(
        credentials.admin_username,
        credentials.admin_password,
        totp_secret="KRUGKIDTMVRXEZLU",  # 80 bits too, but not this admin's
        clock=server.store.clock,
    )
    with pytest.raises(InvalidTwoFactorCodeError):
        sandbox_client(server, other).request("GET", "/V1/store/storeConfigs")


def test_sandbox_admin_with_non_ascii_credentials_signs_in_or_is_refused(sandbox_factory):
    server = sandbox_factory(
        credentials=Credentials.generate(admin_username="zoë", admin_password="Grüße-aus-Köln-1"),
        two_factor_enabled=False,
    )
    right = AdminSessionAuth("zoë", "Grüße-aus-Köln-1", clock=server.store.clock)
    assert isinstance(sandbox_client(server, right).request("GET", "/V1/store/storeConfigs"), list)
    wrong = AdminSessionAuth("zoë", "Grüße-aus-Köln-2", clock=server.store.clock)
    with pytest.raises(InvalidCredentialsError, match="30 minutes"):
        sandbox_client(server, wrong).request("GET", "/V1/store/storeConfigs")


def test_sandbox_wrong_password_is_invalid_credentials(sandbox_store):
    auth = AdminSessionAuth(sandbox_store.credentials.admin_username, "not-the-password")
    with pytest.raises(InvalidCredentialsError, match="30 minutes"):
        sandbox_client(sandbox_store, auth).request("GET", "/V1/store/storeConfigs")

"""OAuth 1.0a over SKUs with "/", "+", "&" and ",": both ways Magento signs a path, over HTTP.

Magento 2.4.6/2.4.7 sign "tee%2Fred" as "tee/red" (Laminas' Uri::normalizePath); 2.4.8 signs it
as sent (lib/internal/Magento/Framework/Oauth/Helper/Uri/Http.php). The sandbox models both
(`oauth_path_signing`); the client signs the RFC 5849 way first, once more the other way after
"The signature is invalid", and remembers what the store accepted.
"""

import pytest
import requests
from requests_oauthlib import OAuth1

from magento import AuthenticationError, MagentoClient, NotFoundError, OAuth1Auth

AWKWARD_SKUS = ("tee/red", "a+b", "x&y", "p,q")
SIGNATURE_INVALID = "The signature is invalid. Verify and try again."


def no_sleep(seconds):
    raise AssertionError("these tests never wait")


class Recorder:
    """Every HTTP answer the client received: (method, path, status)."""

    def __init__(self):
        self.calls = []
        self.session = requests.Session()
        self.session.hooks["response"].append(self._record)

    def _record(self, response, *args, **kwargs):
        path = response.request.path_url.split("/rest/all", 1)[-1]
        self.calls.append((response.request.method, path, response.status_code))

    def take(self):
        calls, self.calls = self.calls, []
        return calls


@pytest.fixture
def store(sandbox_factory, request):
    server = sandbox_factory(oauth_path_signing=request.param)
    for sku in (*AWKWARD_SKUS, "tee-red"):
        server.store.product_save({"sku": sku, "name": f"Product {sku}", "price": 10})
    return server


def connect(server, recorder, learned, consumer_secret=None, **auth_options):
    c = server.credentials
    auth = OAuth1Auth(
        c.consumer_key,
        consumer_secret or c.consumer_secret,
        c.access_token,
        c.access_token_secret,
        on_signing_learned=learned.append,
        **auth_options,
    )
    client = MagentoClient(
        server.url,
        auth,
        allow_private_network=True,
        max_retries=0,
        sleep=no_sleep,
        session=recorder.session,
    )
    return client, auth


@pytest.mark.parametrize("store", ["decoded"], indirect=True)
def test_old_store_refuses_the_rfc_signature_once_then_the_decoded_one_is_kept(store):
    recorder, learned = Recorder(), []
    client, auth = connect(store, recorder, learned)

    assert client.products.get("tee/red")["sku"] == "tee/red"
    assert recorder.take() == [
        ("GET", "/V1/products/tee%2Fred", 401),
        ("GET", "/V1/products/tee%2Fred", 200),
    ]
    assert learned == ["decoded"]
    assert auth.path_signing == "decoded"

    for sku in AWKWARD_SKUS:
        assert client.products.get(sku)["sku"] == sku
        assert client.products.update(sku, {"price": 12.5})["price"] == 12.5
    calls = recorder.take()
    assert [status for _, _, status in calls] == [200] * 2 * len(AWKWARD_SKUS)
    assert [method for method, _, _ in calls] == ["GET", "PUT"] * len(AWKWARD_SKUS)
    assert learned == ["decoded"]  # learned once, not per request
    assert store.store.product_get("x&y")["price"] == 12.5


@pytest.mark.parametrize("store", ["decoded"], indirect=True)
def test_put_is_the_request_that_learns_too(store):
    recorder, learned = Recorder(), []
    client, auth = connect(store, recorder, learned)

    client.products.update("a+b", {"price": 7})

    assert recorder.take() == [
        ("PUT", "/V1/products/a%2Bb", 401),
        ("PUT", "/V1/products/a%2Bb", 200),
    ]
    assert learned == ["decoded"]
    assert auth.path_signing == "decoded"
    assert store.store.product_get("a+b")["price"] == 7


@pytest.mark.parametrize("store", ["rfc5849"], indirect=True)
def test_current_store_accepts_the_rfc_signature_at_once(store):
    recorder, learned = Recorder(), []
    client, auth = connect(store, recorder, learned)

    for sku in AWKWARD_SKUS:
        assert client.products.get(sku)["sku"] == sku
        assert client.products.update(sku, {"price": 9})["price"] == 9

    assert [status for _, _, status in recorder.take()] == [200] * 2 * len(AWKWARD_SKUS)
    assert learned == ["rfc5849"]
    assert auth.path_signing == "rfc5849"


@pytest.mark.parametrize("store", ["rfc5849"], indirect=True)
def test_a_remembered_way_that_no_longer_works_is_corrected_once(store):
    # The connection learned "decoded" on 2.4.7; the store has since been upgraded to 2.4.8.
    recorder, learned = Recorder(), []
    client, auth = connect(store, recorder, learned, path_signing="decoded")

    assert client.products.get("p,q")["sku"] == "p,q"
    assert client.products.get("x&y")["sku"] == "x&y"

    assert [status for _, _, status in recorder.take()] == [401, 200, 200]
    assert learned == ["rfc5849"]
    assert auth.path_signing == "rfc5849"


@pytest.mark.parametrize("store", ["decoded", "rfc5849"], indirect=True)
def test_a_plain_path_is_signed_once_and_teaches_nothing(store):
    recorder, learned = Recorder(), []
    client, auth = connect(store, recorder, learned)

    assert client.products.get("tee-red")["sku"] == "tee-red"
    assert client.request("GET", "/V1/store/storeConfigs")

    assert [status for _, _, status in recorder.take()] == [200, 200]
    assert learned == []
    assert auth.path_signing is None


@pytest.mark.parametrize("store", ["decoded", "rfc5849"], indirect=True)
def test_a_wrong_secret_on_a_plain_path_is_refused_without_a_second_signing(store):
    recorder, learned = Recorder(), []
    client, auth = connect(store, recorder, learned, consumer_secret="wrong-secret")

    with pytest.raises(AuthenticationError, match="signature is invalid"):
        client.products.get("tee-red")

    assert recorder.take() == [("GET", "/V1/products/tee-red", 401)]
    assert learned == []
    assert auth.path_signing is None


@pytest.mark.parametrize("store", ["decoded", "rfc5849"], indirect=True)
def test_a_wrong_secret_on_an_awkward_path_is_tried_both_ways_and_teaches_nothing(store):
    recorder, learned = Recorder(), []
    client, auth = connect(store, recorder, learned, consumer_secret="wrong-secret")

    for _ in range(2):
        with pytest.raises(AuthenticationError, match="signature is invalid"):
            client.products.update("tee/red", {"price": 1})

    assert [status for _, _, status in recorder.take()] == [401, 401, 401, 401]
    assert learned == []
    assert auth.path_signing is None
    assert store.store.product_get("tee/red")["price"] == 10


@pytest.mark.parametrize("store", ["decoded", "rfc5849"], indirect=True)
def test_a_missing_product_still_teaches_the_way(store):
    # Magento checks the signature before it looks the product up: a 404 "doesn't exist" proves
    # the signature was accepted.
    recorder, learned = Recorder(), []
    client, auth = connect(store, recorder, learned)

    with pytest.raises(NotFoundError, match="doesn't exist"):
        client.products.get("no/such", search_fallback=False)

    assert learned == [store.oauth_path_signing]
    assert auth.path_signing == store.oauth_path_signing


@pytest.mark.parametrize(
    ("mode", "sent_as_is", "decoded_first"), [("decoded", 401, 200), ("rfc5849", 200, 401)]
)
def test_the_sandbox_checks_the_path_the_chosen_way(
    sandbox_factory, mode, sent_as_is, decoded_first
):
    server = sandbox_factory(oauth_path_signing=mode)
    server.store.product_save({"sku": "tee/red", "name": "Tee", "price": 10})
    c = server.credentials
    # requests-oauthlib signs the path as sent (RFC 5849).
    signer = OAuth1(
        c.consumer_key,
        c.consumer_secret,
        c.access_token,
        c.access_token_secret,
        signature_method="HMAC-SHA256",
    )
    rfc = requests.get(f"{server.url}/rest/all/V1/products/tee%2Fred", auth=signer)
    assert rfc.status_code == sent_as_is
    decoded_auth = OAuth1Auth(
        c.consumer_key,
        c.consumer_secret,
        c.access_token,
        c.access_token_secret,
        path_signing="decoded",
    )
    decoded = requests.get(
        f"{server.url}/rest/all/V1/products/tee%2Fred",
        headers=decoded_auth.headers_for(
            "GET", f"{server.url}/rest/all/V1/products/tee%2Fred", None
        ),
    )
    assert decoded.status_code == decoded_first
    refused = rfc if rfc.status_code == 401 else decoded
    assert refused.json()["message"] == SIGNATURE_INVALID


def test_the_path_signing_is_a_state_key_of_the_control_endpoint(sandbox_store):
    state_url = f"{sandbox_store.url}/__sandbox__/state"
    assert requests.get(state_url).json()["oauth_path_signing"] == "decoded"  # the default

    changed = requests.post(state_url, json={"oauth_path_signing": "rfc5849"})
    assert changed.status_code == 200
    assert changed.json()["oauth_path_signing"] == "rfc5849"
    assert sandbox_store.store.oauth_path_signing == "rfc5849"

    refused = requests.post(state_url, json={"oauth_path_signing": "raw"})
    assert refused.status_code == 400
    assert "decoded or rfc5849" in refused.json()["message"]
    assert sandbox_store.oauth_path_signing == "rfc5849"

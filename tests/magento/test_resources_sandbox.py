"""The resource helpers end to end: real HTTP to the sandbox store on 127.0.0.1, OAuth-signed."""

import pytest
import requests
from requests_oauthlib import OAuth1

from magento import IntegrationTokenAuth, MagentoClient, NotFoundError, OAuth1Auth
from magento.search import SearchCriteria
from tests.helpers import no_sleep


@pytest.fixture
def client(sandbox_store):
    credentials = sandbox_store.credentials
    auth = OAuth1Auth(
        credentials.consumer_key,
        credentials.consumer_secret,
        credentials.access_token,
        credentials.access_token_secret,
    )
    with MagentoClient(
        sandbox_store.url, auth, allow_private_network=True, max_retries=0, sleep=no_sleep
    ) as magento:
        yield magento


def test_store_calls_verify_the_connection(client):
    assert client.store.configs()[0]["code"]
    assert any(view["code"] == "default" for view in client.store.views())


def test_customer_create_find_and_update_keeps_addresses(client):
    created = client.customers.create(
        {
            "email": "jane.roe@example.com",
            "firstname": "Jane",
            "lastname": "Roe",
            "addresses": [
                {
                    "firstname": "Jane",
                    "lastname": "Roe",
                    "street": ["1 Main St"],
                    "city": "Albany",
                    "country_id": "US",
                    "postcode": "12207",
                    "telephone": "518-555-0100",
                    "region": {"region_code": "NY", "region": "New York", "region_id": 43},
                }
            ],
        },
        password="Sandbox-Passw0rd!",
    )
    found = client.customers.get_by_email("jane.roe@example.com")
    assert found["id"] == created["id"]

    client.customers.update(created["id"], {"lastname": "Smith"})
    stored = client.customers.get(created["id"])
    assert stored["lastname"] == "Smith"
    assert stored["firstname"] == "Jane"
    assert [address["city"] for address in stored["addresses"]] == ["Albany"]

    with pytest.raises(NotFoundError):
        client.customers.get_by_email("nobody@example.com")


@pytest.fixture
def bearer_client(sandbox_store):
    sandbox_store.bearer_enabled = True
    auth = IntegrationTokenAuth(sandbox_store.credentials.access_token)
    with MagentoClient(
        sandbox_store.url, auth, allow_private_network=True, max_retries=0, sleep=no_sleep
    ) as magento:
        yield magento


@pytest.mark.parametrize("auth", ["oauth", "bearer"])
def test_products_with_awkward_skus_round_trip(auth, request):
    # With OAuth this also checks the signed path: the sandbox, like Magento 2.4.6/2.4.7, signs
    # "tee%2Fred" as "tee/red" (magento/magento2#37913); the client learns that on the first
    # refusal (both ways: tests/magento/test_oauth_path_signing.py).
    client = request.getfixturevalue("client" if auth == "oauth" else "bearer_client")
    for sku in ("tee/red", "a+b 100%", "Größe-XL", "x;y@z:1"):
        client.products.create(
            {
                "sku": sku,
                "name": f"Product {sku}",
                "attribute_set_id": 4,
                "price": 10,
                "type_id": "simple",
                "status": 1,
                "visibility": 4,
            }
        )
        client.products.update(sku, {"price": 12.5})
        product = client.products.get(sku)
        assert product["sku"] == sku
        assert product["price"] == 12.5


def test_a_signature_over_the_escaped_slash_is_refused_as_by_magento(sandbox_store):
    # A plain OAuth 1.0a library signs "%2F" as sent; Magento 2.4.6/2.4.7 (the sandbox's
    # default) sign "/" and say the signature is invalid. The sandbox must do the same, or it
    # would hide the client bug it exists to show.
    credentials = sandbox_store.credentials
    signer = OAuth1(
        credentials.consumer_key,
        credentials.consumer_secret,
        credentials.access_token,
        credentials.access_token_secret,
        signature_method="HMAC-SHA256",
    )
    plain = requests.get(f"{sandbox_store.url}/rest/all/V1/products/tee%2Fred", auth=signer)
    assert plain.status_code == 401
    assert plain.json()["message"] == "The signature is invalid. Verify and try again."
    # The same library is accepted on a path with nothing to normalise (404: no such product).
    fine = requests.get(f"{sandbox_store.url}/rest/all/V1/products/tee-red", auth=signer)
    assert fine.status_code == 404


def test_products_whose_skus_sign_alike_everywhere_round_trip_with_oauth(client):
    for sku in ("Größe XL", "tee~red_1.5"):
        client.products.create(
            {"sku": sku, "name": sku, "attribute_set_id": 4, "price": 10, "type_id": "simple"}
        )
        client.products.update(sku, {"price": 12.5})
        assert client.products.get(sku)["price"] == 12.5


def test_orders_walk_by_id_and_by_page_see_each_order_once(client):
    by_id = [order["entity_id"] for order in client.orders.iter_all(page_size=4)]
    by_page = [order["entity_id"] for order in client.orders.iter_pages(page_size=4)]
    assert len(by_id) == 6
    assert by_id == sorted(set(by_id))
    assert by_page == by_id


def test_search_with_more_than_ten_filters_is_signed_correctly(client):
    # Natural-order OAuth signing matters from [10] on (addendum of
    # tests/fixtures/magento/API-FACTS.md).
    statuses = [f"status_{n}" for n in range(11)] + ["complete", "processing", "pending"]
    criteria = SearchCriteria().where_any(*[("status", "eq", status) for status in statuses])
    result = client.orders.search(criteria.with_page_size(50))
    expected = [o["entity_id"] for o in client.orders.iter_all() if o["status"] in statuses]
    assert expected
    assert sorted(order["entity_id"] for order in result.items) == expected
    assert result.total_count == len(expected)


def test_get_by_increment_id_and_ship(client):
    orders = list(client.orders.iter_all())
    shippable = [order for order in orders if order["state"] in ("new", "processing")]
    if not shippable:
        pytest.fail("the seeded sandbox should have an order that can ship")
    order = client.orders.get_by_increment_id(shippable[0]["increment_id"])
    item = next(row for row in order["items"] if not row.get("parent_item_id"))
    shipment_id = client.shipments.create(
        order["entity_id"],
        items=[{"order_item_id": item["item_id"], "qty": item["qty_ordered"]}],
        tracks=[{"carrier_code": "ups", "title": "UPS", "track_number": "1Z999"}],
        comment="Packed",
    )
    shipment = client.shipments.get(shipment_id)
    assert shipment["order_id"] == order["entity_id"]


def test_unknown_order_number_is_not_found(client):
    with pytest.raises(NotFoundError, match="no order number"):
        client.orders.get_by_increment_id("no-such-order")


def test_products_walk_by_entity_id(client):
    skus = [product["sku"] for product in client.products.iter_all(page_size=3)]
    assert len(skus) == 4
    assert len(set(skus)) == 4


def test_trimmed_walk_returns_only_the_asked_fields(client):
    orders = list(client.orders.iter_all(page_size=4, fields="items[entity_id,increment_id]"))
    assert len(orders) == 6
    assert all(set(order) == {"entity_id", "increment_id"} for order in orders)

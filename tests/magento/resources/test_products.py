"""client.products against a strict mock of Magento: SKU encoding, search fallback, writes."""

import re

import pytest

from magento import (
    AmbiguousMatchError,
    NotFoundError,
    RouteNotFoundError,
    UnexpectedResponseError,
    ValidationError,
)
from magento.resources import sku_path
from tests.magento.resources.helpers import ALL, F, body_of, query_of
from tests.magento.schema_check import assert_matches_schema
from tests.shared_data import load_error, load_sample

PRODUCT_NOT_FOUND = {
    "message": "The product that was requested doesn't exist. Verify the product and try again."
}
APACHE_404 = (
    "<!DOCTYPE HTML PUBLIC><html><head><title>404 Not Found</title></head>"
    "<body><h1>Not Found</h1></body></html>"
)


SKU_TABLE = [
    ("Desktop-Computer", "Desktop-Computer"),
    ("a/b", "a%2Fb"),
    ("a+b", "a%2Bb"),
    ("a b", "a%20b"),
    ("a#b", "a%23b"),
    ("a?b", "a%3Fb"),
    ("a&b", "a%26b"),
    ("100%", "100%25"),
    ("Größe-XL", "Gr%C3%B6%C3%9Fe-XL"),
    ("日本", "%E6%97%A5%E6%9C%AC"),
]


@pytest.mark.parametrize(("sku", "encoded"), SKU_TABLE)
def test_sku_is_sent_as_one_percent_encoded_path_segment(client, store_mock, sku, encoded):
    store_mock.get(
        re.compile(r"https://shop\.example\.com/rest/all/V1/products/.+"), json={"sku": sku}
    )
    assert client.products.get(sku) == {"sku": sku}
    assert store_mock.calls[0].request.path_url == f"/rest/all/V1/products/{encoded}"


@pytest.mark.parametrize(("sku", "encoded"), SKU_TABLE)
def test_update_uses_the_same_encoding(client, store_mock, sku, encoded):
    store_mock.put(
        re.compile(r"https://shop\.example\.com/rest/all/V1/products/.+"), json={"sku": sku}
    )
    client.products.update(sku, {"price": 10})
    assert store_mock.calls[0].request.path_url == f"/rest/all/V1/products/{encoded}"
    assert body_of(store_mock.calls[0]) == {"product": {"sku": sku, "price": 10}}


def test_get_returns_the_product_as_magento_sent_it(client, store_mock):
    store_mock.get(f"{ALL}/products/Desktop-Computer", json=load_sample("product"))
    assert client.products.get("Desktop-Computer") == load_sample("product")


def test_unknown_sku_is_not_found_without_a_fallback_search(client, store_mock):
    store_mock.get(f"{ALL}/products/nope", status=404, json=PRODUCT_NOT_FOUND)
    with pytest.raises(NotFoundError, match="requested doesn't exist") as caught:
        client.products.get("nope")
    assert not isinstance(caught.value, RouteNotFoundError)
    assert len(store_mock.calls) == 1


def test_route_miss_for_an_encoded_slash_falls_back_to_a_search(client, store_mock):
    store_mock.get(
        f"{ALL}/products/a%2Fb", status=404, json={"message": "Request does not match any route."}
    )
    found = {"id": 7, "sku": "a/b", "name": "Slash"}
    store_mock.get(
        f"{ALL}/products", json={"items": [found], "search_criteria": {}, "total_count": 1}
    )
    assert client.products.get("a/b") == found
    assert query_of(store_mock.calls[1]) == [
        (f"{F}[0][filters][0][field]", "sku"),
        (f"{F}[0][filters][0][value]", "a/b"),
        (f"{F}[0][filters][0][condition_type]", "eq"),
        ("searchCriteria[pageSize]", "10"),
    ]


def test_web_server_html_404_also_falls_back_to_a_search(client, store_mock):
    store_mock.get(f"{ALL}/products/a%2Fb", status=404, body=APACHE_404, content_type="text/html")
    found = {"id": 7, "sku": "a/b"}
    store_mock.get(
        f"{ALL}/products", json={"items": [found], "search_criteria": {}, "total_count": 1}
    )
    assert client.products.get("a/b") == found


def test_fallback_prefers_the_exact_spelling(client, store_mock):
    store_mock.get(f"{ALL}/products/a%2Fb", status=404, body=APACHE_404, content_type="text/html")
    items = [{"id": 7, "sku": "A/B"}, {"id": 8, "sku": "a/b"}]
    store_mock.get(
        f"{ALL}/products", json={"items": items, "search_criteria": {}, "total_count": 2}
    )
    assert client.products.get("a/b")["id"] == 8


def test_fallback_with_two_case_variants_and_no_exact_one_is_ambiguous(client, store_mock):
    store_mock.get(f"{ALL}/products/a%2Fb", status=404, body=APACHE_404, content_type="text/html")
    items = [{"id": 7, "sku": "A/B"}, {"id": 8, "sku": "A/b"}]
    store_mock.get(
        f"{ALL}/products", json={"items": items, "search_criteria": {}, "total_count": 2}
    )
    with pytest.raises(AmbiguousMatchError, match="'A/B', 'A/b'"):
        client.products.get("a/b")


def test_fallback_that_finds_nothing_is_not_found(client, store_mock):
    store_mock.get(
        f"{ALL}/products/a%2Fb", status=404, json={"message": "Request does not match any route."}
    )
    store_mock.get(f"{ALL}/products", json={"items": [], "search_criteria": {}, "total_count": 0})
    with pytest.raises(NotFoundError, match="no product with SKU 'a/b'"):
        client.products.get("a/b")


def test_fallback_can_be_switched_off(client, store_mock):
    store_mock.get(f"{ALL}/products/a%2Fb", status=404, body=APACHE_404, content_type="text/html")
    with pytest.raises(UnexpectedResponseError, match="HTML page"):
        client.products.get("a/b", search_fallback=False)


def test_other_html_answers_are_not_hidden_by_the_fallback(client, store_mock):
    store_mock.get(
        f"{ALL}/products/a", status=200, body="<html>login</html>", content_type="text/html"
    )
    with pytest.raises(UnexpectedResponseError):
        client.products.get("a")
    assert len(store_mock.calls) == 1


@pytest.mark.parametrize(
    ("sku", "error"), [("", ValueError), ("   ", ValueError), (None, ValueError), (5, ValueError)]
)
def test_empty_or_non_text_sku_is_refused(client, store_mock, sku, error):
    with pytest.raises(error, match="SKU"):
        client.products.get(sku)
    with pytest.raises(error, match="SKU"):
        client.products.update(sku, {"price": 1})
    with pytest.raises(error, match="SKU"):
        sku_path(sku)


def test_search_reads_products(client, store_mock):
    product = load_sample("product")
    store_mock.get(
        f"{ALL}/products", json={"items": [product], "search_criteria": {}, "total_count": 1}
    )
    result = client.products.search()
    assert result.items == [product]
    assert query_of(store_mock.calls[0]) == [("searchCriteria[currentPage]", "1")]


# --- writes ----------------------------------------------------------------------------------

NEW_PRODUCT = {
    "sku": "MS-Champ-S",
    "name": "Champ Tee Small",
    "attribute_set_id": 4,
    "price": 25,
    "status": 1,
    "visibility": 4,
    "type_id": "simple",
    "weight": 0.5,
    "extension_attributes": {"website_ids": [1], "stock_item": {"qty": 100, "is_in_stock": True}},
    "custom_attributes": [{"attribute_code": "tax_class_id", "value": "2"}],
}


def test_create_posts_the_product_to_store_code_all(client, store_mock):
    store_mock.post(f"{ALL}/products", json=load_sample("product-create-response"))
    created = client.products.create(NEW_PRODUCT)
    assert created == load_sample("product-create-response")
    body = body_of(store_mock.calls[0])
    assert body == {"product": NEW_PRODUCT}
    assert_matches_schema(body, ("/V1/products", "post"))


def test_create_for_a_store_view_on_request(client, store_mock):
    store_mock.post("https://shop.example.com/rest/de/V1/products", json=load_sample("product"))
    client.products.create(NEW_PRODUCT, store_code="de")


def test_create_invalid_product_raises_validation_error(client, store_mock):
    status, body = load_error("invalid_product_data")
    store_mock.post(f"{ALL}/products", status=status, json=body)
    with pytest.raises(ValidationError, match="Invalid product data: Invalid attribute set"):
        client.products.create(NEW_PRODUCT)


def test_create_without_sku_is_refused(client, store_mock):
    with pytest.raises(ValueError, match="SKU"):
        client.products.create({"name": "No SKU"})


def test_update_sends_only_the_changes_with_the_sku(client, store_mock):
    store_mock.put(f"{ALL}/products/MS-Champ-S", json=load_sample("product-create-response"))
    client.products.update("MS-Champ-S", {"price": 19.9, "status": 2})
    body = body_of(store_mock.calls[0])
    assert body == {"product": {"sku": "MS-Champ-S", "price": 19.9, "status": 2}}
    assert_matches_schema(body, ("/V1/products/{sku}", "put"))


def test_update_refuses_renaming_and_empty_changes(client, store_mock):
    with pytest.raises(ValueError, match="rename"):
        client.products.update("MS-Champ-S", {"sku": "other"})
    with pytest.raises(ValueError, match="no changes"):
        client.products.update("MS-Champ-S", {})


def test_update_answer_that_is_not_an_object_is_unexpected(client, store_mock):
    store_mock.put(f"{ALL}/products/MS-Champ-S", json=[1, 2])
    with pytest.raises(UnexpectedResponseError, match="instead of an object"):
        client.products.update("MS-Champ-S", {"price": 1})

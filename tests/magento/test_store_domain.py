"""Store Domain parsing: what a shop owner types becomes a REST base URL, or a clear refusal."""

import pytest

from magento.store_domain import InvalidStoreDomain, StoreAddress, encode_query, parse_store_domain


@pytest.mark.parametrize(
    ("typed", "display", "rest_base"),
    [
        ("shop.example.com", "https://shop.example.com", "https://shop.example.com/rest/all/V1"),
        (
            "https://shop.example.com/",
            "https://shop.example.com",
            "https://shop.example.com/rest/all/V1",
        ),
        (
            "  https://shop.example.com  ",
            "https://shop.example.com",
            "https://shop.example.com/rest/all/V1",
        ),
        ("http://127.0.0.1:8081", "http://127.0.0.1:8081", "http://127.0.0.1:8081/rest/all/V1"),
        (
            "https://example.com/shop",
            "https://example.com/shop",
            "https://example.com/shop/rest/all/V1",
        ),
        (
            "https://example.com/shop/",
            "https://example.com/shop",
            "https://example.com/shop/rest/all/V1",
        ),
        (
            "https://example.com/index.php",
            "https://example.com/index.php",
            "https://example.com/index.php/rest/all/V1",
        ),
        (
            "https://example.com/shop/index.php/",
            "https://example.com/shop/index.php",
            "https://example.com/shop/index.php/rest/all/V1",
        ),
        (
            "HTTPS://Shop.Example.COM:443",
            "https://shop.example.com",
            "https://shop.example.com/rest/all/V1",
        ),
        (
            "http://shop.example.com:80/",
            "http://shop.example.com",
            "http://shop.example.com/rest/all/V1",
        ),
        (
            "shop.example.com:8443",
            "https://shop.example.com:8443",
            "https://shop.example.com:8443/rest/all/V1",
        ),
        ("http://[::1]:8080", "http://[::1]:8080", "http://[::1]:8080/rest/all/V1"),
        (
            "bücher.example",
            "https://xn--bcher-kva.example",
            "https://xn--bcher-kva.example/rest/all/V1",
        ),
        ("shop.example.com.", "https://shop.example.com", "https://shop.example.com/rest/all/V1"),
        ("localhost:8000", "https://localhost:8000", "https://localhost:8000/rest/all/V1"),
    ],
)
def test_accepted_store_domains(typed, display, rest_base):
    address = parse_store_domain(typed)
    assert address.display == display
    assert address.rest_base() == rest_base


def test_bare_domain_means_https_and_parts_are_exposed():
    address = parse_store_domain("shop.example.com")
    assert address == StoreAddress(scheme="https", host="shop.example.com", port=None, base_path="")
    assert address.origin == "https://shop.example.com"


def test_sub_folder_and_port_parts():
    address = parse_store_domain("http://127.0.0.1:8081/magento2/")
    assert (address.scheme, address.host, address.port, address.base_path) == (
        "http",
        "127.0.0.1",
        8081,
        "/magento2",
    )
    assert address.origin == "http://127.0.0.1:8081"


@pytest.mark.parametrize(
    ("store_code", "expected"),
    [
        ("all", "https://example.com/shop/rest/all/V1"),
        ("default", "https://example.com/shop/rest/default/V1"),
        ("de_store2", "https://example.com/shop/rest/de_store2/V1"),
        (None, "https://example.com/shop/rest/V1"),
    ],
)
def test_rest_base_store_code_segment(store_code, expected):
    assert parse_store_domain("https://example.com/shop").rest_base(store_code) == expected


@pytest.mark.parametrize("store_code", ["", "1abc", "de-store", "all/../x", "a b", "all?x=1"])
def test_invalid_store_codes_are_refused(store_code):
    with pytest.raises(InvalidStoreDomain, match="store code"):
        parse_store_domain("shop.example.com").rest_base(store_code)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "Enter the store's address"),
        ("   ", "Enter the store's address"),
        ("shop example.com", "spaces"),
        ("https://shop.example.com/my shop", "spaces"),
        ("ftp://shop.example.com", "https:// or http://, not ftp://"),
        ("file:///etc/passwd", "https:// or http://, not file://"),
        ("javascript:alert(1)", "https:// or http://"),
        ("mailto:owner@example.com", "https:// or http://"),
        ("https://admin:secret@shop.example.com", "user name or password"),
        ("https://shop.example.com/?store=default", "query"),
        ("https://shop.example.com/#top", "fragment"),
        ("https://", "no host name"),
        ("https://:8080", "no host name"),
        ("shop.example.com:99999", "out of range"),
        ("shop.example.com:0", "out of range"),
        ("shop.example.com:http", "not a number"),
        ("http://shop.example.com:", "not a number"),
        ("shop_example.com", "not a valid host name"),
        ("-shop.example.com", "not a valid host name"),
        ("shop..example.com", "not a valid host name"),
        ("https://1.2.3", "not a valid host name"),
        ("http://[::1", "not a valid web address"),
        ("http://[fe80::1%eth0]/", "IPv6"),
        ("http://::1:8080", "square brackets"),
        ("https://shop.example.com/rest/V1", "without the /rest/"),
        ("https://shop.example.com/rest/all/V1/", "without the /rest/"),
        ("https://example.com/index.php/shop", "index.php must be the last"),
        ("https://example.com/shop//x", "empty folder"),
        ("https://example.com/../admin", "'.' or '..'"),
        ("https://example.com/sh<op>", "not allowed"),
        ("//shop.example.com", "incomplete"),
        ("https:shop.example.com", "incomplete"),
        ("https:\\\\shop.example.com", "forward slashes"),
        ("shop.example.com\x00", "control characters"),
    ],
)
def test_refused_store_domains_say_what_is_wrong(typed, says):
    with pytest.raises(InvalidStoreDomain) as refused:
        parse_store_domain(typed)
    assert says in str(refused.value)
    assert isinstance(refused.value, ValueError)


def test_credentials_typed_into_the_address_are_not_echoed():
    with pytest.raises(InvalidStoreDomain) as refused:
        parse_store_domain("https://admin:hunter2secret@shop.example.com")
    assert "hunter2secret" not in str(refused.value)


def test_non_text_is_refused():
    with pytest.raises(InvalidStoreDomain):
        parse_store_domain(None)


def test_encode_query_uses_percent_20_never_plus():
    encoded = encode_query([("searchCriteria[filter_groups][0][filters][0][value]", "Jane Doe+1")])
    assert encoded == (
        "searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bvalue%5D=Jane%20Doe%2B1"
    )
    assert "+" not in encoded


def test_encode_query_escapes_reserved_characters_and_keeps_order():
    encoded = encode_query([("b", "a&b=c"), ("a", "100%"), ("c", "é/?#~")])
    assert encoded == "b=a%26b%3Dc&a=100%25&c=%C3%A9%2F%3F%23~"


def test_encode_query_of_nothing_is_empty():
    assert encode_query([]) == ""

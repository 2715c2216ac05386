"""URL handling (store codes, sub-folder, index.php, encoded SKUs) and Magento's error answers."""

import logging
import re
import socket

import pytest
import requests

from tests.magento.sandbox.helpers import assert_shape, bearer, oauth, rest, search_params

NO_ROUTE = {"message": "Request does not match any route."}


@pytest.mark.parametrize("store_code", [None, "default", "all"])
def test_known_store_codes_and_no_store_code_reach_the_same_route(sandbox_store, store_code):
    response = requests.get(
        rest(sandbox_store, "/V1/store/storeViews", store_code), auth=oauth(sandbox_store)
    )

    assert response.status_code == 200
    assert [view["code"] for view in response.json()] == ["admin", "default"]


@pytest.mark.parametrize("store_code", ["german", "admin"])
def test_unknown_store_code_stays_in_the_path_and_matches_no_route(sandbox_store, store_code):
    response = requests.get(
        rest(sandbox_store, "/V1/store/storeViews", store_code), auth=oauth(sandbox_store)
    )

    assert response.status_code == 404
    assert response.json() == NO_ROUTE


def test_sub_folder_install_with_and_without_index_php(sandbox_factory):
    server = sandbox_factory(base_path="/shop", bearer_enabled=True)
    headers = bearer(server.credentials.access_token)
    origin = server.url.removesuffix("/shop")

    plain = requests.get(f"{origin}/shop/rest/V1/customers/1", headers=headers)
    with_index = requests.get(f"{origin}/shop/index.php/rest/all/V1/customers/1", headers=headers)
    outside = requests.get(f"{origin}/rest/V1/customers/1", headers=headers)

    assert server.url.endswith("/shop")
    assert plain.status_code == 200
    assert with_index.status_code == 200
    assert outside.status_code == 404
    assert outside.headers["Content-Type"].startswith("text/html")


def test_store_config_base_url_is_the_store_domain(sandbox_factory):
    server = sandbox_factory(base_path="/shop")

    response = requests.get(rest(server, "/V1/store/storeConfigs"), auth=oauth(server))

    assert response.json()[0]["base_url"] == server.url + "/"


def test_store_configs_can_be_filtered_by_store_code(sandbox_store):
    url = rest(sandbox_store, "/V1/store/storeConfigs")

    default = requests.get(url, params={"storeCodes[0]": "default"}, auth=oauth(sandbox_store))
    other = requests.get(url, params={"storeCodes[0]": "fr"}, auth=oauth(sandbox_store))

    assert [c["code"] for c in default.json()] == ["default"]
    assert other.json() == []


def test_unknown_path_is_no_route_even_without_credentials(sandbox_store):
    response = requests.get(rest(sandbox_store, "/V1/nothing/here"))

    assert response.status_code == 404
    assert response.json() == NO_ROUTE


def test_known_path_with_a_wrong_method_is_no_route(sandbox_store):
    response = requests.delete(rest(sandbox_store, "/V1/customers/1"), auth=oauth(sandbox_store))

    assert response.status_code == 404
    assert response.json() == NO_ROUTE


def test_http_method_magento_does_not_know(sandbox_store):
    response = requests.patch(rest(sandbox_store, "/V1/customers/1"), json={})

    assert response.status_code == 400
    assert response.json() == {"message": "Request method is invalid."}


def test_body_without_content_type_and_broken_json(sandbox_store):
    url = rest(sandbox_store, "/V1/customers")

    no_type = requests.post(url, data=b'{"customer": {}}')
    broken = requests.post(url, data=b'{"customer": ', headers={"Content-Type": "application/json"})

    assert no_type.status_code == 400
    assert no_type.json() == {"message": "Content-Type header is empty."}
    assert broken.status_code == 400
    assert broken.json() == {"message": "Decoding error."}


def test_server_failure_is_the_production_500_with_a_report_id(sandbox_store):
    response = requests.get(
        rest(sandbox_store, "/V1/orders"),
        params=search_params(("no_such_column", "1", "eq"), page_size=5),
        auth=oauth(sandbox_store),
    )

    assert response.status_code == 500
    assert re.fullmatch(
        r"Internal Error\. Details are available in Magento log file\. "
        r"Report ID: webapi-[0-9a-f]{13}",
        response.json()["message"],
    )
    assert set(response.json()) == {"message"}


def test_unexpected_failure_is_logged_under_the_report_id_the_500_names(
    sandbox_store, monkeypatch, caplog
):
    def broken(customer_id):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(sandbox_store.store, "customer_get", broken)

    with caplog.at_level(logging.ERROR, logger="magento.sandbox"):
        response = requests.get(rest(sandbox_store, "/V1/customers/1"), auth=oauth(sandbox_store))

    assert response.status_code == 500
    message = response.json()["message"]
    assert response.json() == {"message": message}
    report = re.fullmatch(
        r"Internal Error\. Details are available in Magento log file\. "
        r"Report ID: (webapi-[0-9a-f]{13})",
        message,
    ).group(1)
    [record] = [r for r in caplog.records if r.name == "magento.sandbox"]
    assert record.levelno == logging.ERROR
    logged = record.getMessage()
    assert logged.startswith(f"sandbox failure on GET /V1/customers/1, report {report}\n")
    assert logged.rstrip().endswith("RuntimeError: disk on fire")


def test_body_of_a_media_type_magento_cannot_read(sandbox_store):
    response = requests.post(
        rest(sandbox_store, "/V1/customers"),
        data=b'{"customer": {}}',
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )

    assert response.status_code == 400
    assert response.json() == {
        "message": "Server cannot understand Content-Type HTTP header media type %1",
        "parameters": ["text/plain"],
    }


@pytest.mark.parametrize("sku", ["24-MB/01", "A&B#1?", "Tee 100%", "C++ Book"])
def test_percent_encoded_skus_are_decoded(sandbox_store, sku):
    # A Bearer token: a plain OAuth library signs "%2F" as sent, which Magento refuses (the
    # signature covers the normalised path; see test_resources_sandbox for the OAuth case).
    sandbox_store.bearer_enabled = True
    sandbox_store.store.product_save({"sku": sku, "name": f"Product {sku}", "price": 5})
    encoded = requests.utils.quote(sku, safe="")

    response = requests.get(
        rest(sandbox_store, f"/V1/products/{encoded}"),
        headers=bearer(sandbox_store.credentials.access_token),
    )

    assert response.status_code == 200, response.text
    assert response.json()["sku"] == sku


def test_plus_in_the_path_means_space_and_a_raw_slash_splits_the_path(sandbox_store):
    sandbox_store.store.product_save({"sku": "Blue Tee", "name": "Blue Tee", "price": 5})
    sandbox_store.store.product_save({"sku": "24-MB/01", "name": "Bag", "price": 5})

    plus = requests.get(rest(sandbox_store, "/V1/products/Blue+Tee"), auth=oauth(sandbox_store))
    slash = requests.get(rest(sandbox_store, "/V1/products/24-MB/01"), auth=oauth(sandbox_store))

    assert plus.status_code == 200
    assert plus.json()["sku"] == "Blue Tee"
    assert slash.status_code == 404
    assert slash.json() == NO_ROUTE


def test_non_numeric_customer_id_is_a_type_error(sandbox_store):
    response = requests.get(rest(sandbox_store, "/V1/customers/abc"), auth=oauth(sandbox_store))

    assert response.status_code == 400
    assert response.json() == {
        "message": 'The "%value" value\'s type is invalid. The "%type" type was expected. '
        "Verify and try again.",
        "parameters": {"value": "abc", "type": "int"},
    }


def test_non_rest_paths_get_an_html_404(sandbox_store):
    response = requests.get(f"{sandbox_store.url}/customer/account/")

    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("sku", "status"),
    [
        # Laminas leaves "%20" and a "%25" it re-escapes alone: signed as sent.
        ("Tee 100%", 200),
        ("Tee~1.5_x", 200),
        # "%2F" and "%26" are decoded before Magento checks the signature, so a library that
        # signs them as sent is refused (magento/magento2#37913).
        ("24-MB/01", 401),
        ("A&B", 401),
        ("a+b", 401),
    ],
)
def test_a_plain_oauth_library_and_encoded_skus(sandbox_store, sku, status):
    sandbox_store.store.product_save({"sku": sku, "name": "Encoded", "price": 5})
    encoded = requests.utils.quote(sku, safe="")

    response = requests.get(
        rest(sandbox_store, f"/V1/products/{encoded}"), auth=oauth(sandbox_store)
    )

    assert response.status_code == status, response.text
    if status == 401:
        assert response.json()["message"] == "The signature is invalid. Verify and try again."


def test_store_configs_and_views_have_the_schema_shape(sandbox_store):
    configs = requests.get(
        rest(sandbox_store, "/V1/store/storeConfigs"), auth=oauth(sandbox_store)
    ).json()
    views = requests.get(rest(sandbox_store, "/V1/store/storeViews"), auth=oauth(sandbox_store))

    for config in configs:
        assert_shape(config, "store-data-store-config-interface")
    for view in views.json():
        assert_shape(view, "store-data-store-interface")
    assert configs[0]["timezone"] and configs[0]["base_currency_code"] == "USD"


def test_stopped_server_also_closes_kept_alive_connections(sandbox_factory):
    server = sandbox_factory()
    with requests.Session() as session:
        assert session.get(rest(server, "/V1/store/storeViews"), auth=oauth(server)).ok

        server.stop()

        with pytest.raises(requests.ConnectionError):
            session.get(rest(server, "/V1/store/storeViews"), auth=oauth(server), timeout=5)


def _logged(capsys) -> list[str]:
    """The sandbox's request log lines without their date and time."""
    return [line.split(" ", 2)[2] for line in capsys.readouterr().err.splitlines()]


def test_request_log_names_the_path_without_its_query(sandbox_store, capsys):
    sandbox_store.log_requests = True

    response = requests.get(
        rest(sandbox_store, "/V1/orders"), params={"access_token": "S3CRET"}, timeout=5
    )

    assert response.status_code == 401
    assert _logged(capsys) == ["GET /rest/all/V1/orders 401"]


def test_unparsable_request_line_is_logged_without_it(sandbox_store, capsys):
    sandbox_store.log_requests = True

    with socket.create_connection((sandbox_store.host, sandbox_store.port), timeout=5) as raw:
        raw.sendall(b"GET /rest/V1/orders?access_token=S3CRET a HTTP/1.1\r\n\r\n")
        answer = raw.recv(65536)

    assert answer.startswith(b"HTTP/1.1 400 ")
    assert _logged(capsys) == ["- - 400"]


def test_json_is_written_like_phps_json_encode(sandbox_store):
    sandbox_store.store.product_save({"sku": "CAFÉ-1", "name": "Café au lait", "price": 5})

    configs = requests.get(rest(sandbox_store, "/V1/store/storeConfigs"), auth=oauth(sandbox_store))
    product = requests.get(
        rest(sandbox_store, "/V1/products/CAF%C3%89-1"), auth=oauth(sandbox_store)
    )

    assert '"base_url":"http:\\/\\/127.0.0.1:' in configs.text
    assert '"name":"Caf\\u00e9 au lait"' in product.text
    assert product.json()["name"] == "Café au lait"


def test_fields_parameter_trims_the_response_like_the_published_example(sandbox_store):
    params = [
        *search_params(sort=[("entity_id", "ASC")], page_size=3),
        ("fields", "items[increment_id,entity_id]"),
    ]

    response = requests.get(
        rest(sandbox_store, "/V1/orders"), params=params, auth=oauth(sandbox_store)
    )

    assert response.json() == {
        "items": [{"increment_id": f"{n:09d}", "entity_id": n} for n in (1, 2, 3)]
    }


def test_fields_parameter_nests_and_keeps_total_count(sandbox_store):
    sku = sandbox_store.store.products.rows[1]["sku"]

    product = requests.get(
        rest(sandbox_store, f"/V1/products/{sku}"),
        params={"fields": "sku,extension_attributes[stock_item[qty,is_in_stock]]"},
        auth=oauth(sandbox_store),
    ).json()
    customers = requests.get(
        rest(sandbox_store, "/V1/customers/search"),
        params=[*search_params(page_size=2), ("fields", "items[id],total_count")],
        auth=oauth(sandbox_store),
    ).json()

    assert set(product) == {"sku", "extension_attributes"}
    assert set(product["extension_attributes"]["stock_item"]) == {"qty", "is_in_stock"}
    assert customers["total_count"] == 3
    assert all(set(item) == {"id"} for item in customers["items"])


def test_aggregated_errors_always_carry_parameters_as_php_writes_them():
    from magento.sandbox.errors import REQUIRED_FIELD, input_errors

    body = input_errors([(REQUIRED_FIELD, {"fieldName": "email"}), ("Plain.", None)]).body()

    assert body == {
        "message": "One or more input exceptions have occurred.",
        "errors": [
            {"message": REQUIRED_FIELD, "parameters": {"fieldName": "email"}},
            {"message": "Plain.", "parameters": []},
        ],
    }


def test_a_client_hanging_up_is_not_reported_but_a_bug_is(capsys):
    # A client that gave up waiting closes its socket while the answer is written: a store
    # shrugs that off, so the sandbox prints no traceback for it (a real bug still gets one).
    from magento.sandbox.server import _Handler, _HTTPServer

    server = _HTTPServer(("127.0.0.1", 0), _Handler)
    try:
        for error in (BrokenPipeError(32, "Broken pipe"), ConnectionResetError(104, "reset")):
            try:
                raise error
            except OSError:
                server.handle_error(None, ("127.0.0.1", 40000))
        assert capsys.readouterr().err == ""
        try:
            raise ValueError("a real bug in the sandbox")
        except ValueError:
            server.handle_error(None, ("127.0.0.1", 40000))
    finally:
        server.server_close()
    assert "a real bug in the sandbox" in capsys.readouterr().err

"""searchCriteria over HTTP: every condition type, OR/AND, sorting, paging and input limits."""

from urllib.parse import quote

import pytest
import requests

from tests.magento.sandbox.helpers import assert_shape, oauth, rest, search_params

PEOPLE = [
    # firstname, lastname, email, group_id, taxvat
    ("Veronica", "Costello", "roni_cost@example.com", 1, "a,b"),
    ("Jane", "Doe", "jdoe@example.com", 2, None),
    ("John", "Doe", "john@example.org", 1, "b,c"),
    ("Ahmed", "Haddad", "ahmed@example.com", 3, "c"),
    ("Mei", "Tanaka", "mei@example.net", 2, None),
]


@pytest.fixture
def people(sandbox_factory):
    server = sandbox_factory(seed={"customers": 0, "products": 0, "orders": 0})
    for first, last, email, group, taxvat in PEOPLE:
        customer = {"firstname": first, "lastname": last, "email": email, "group_id": group}
        if taxvat:
            customer["taxvat"] = taxvat
        server.store.customer_create(customer)
        server.store.clock.advance(60)
    return server


def _search(server, params, path="/V1/customers/search"):
    # Spaces as %20: Magento reads a "+" in a signed query as a literal plus.
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params)
    response = requests.get(f"{rest(server, path)}?{query}", auth=oauth(server))
    assert response.status_code == 200, response.text
    return response.json()


def _ids(server, *filters, **options):
    body = _search(server, search_params(*filters, sort=[("id", "ASC")], **options))
    return [item["id"] for item in body["items"]]


@pytest.mark.parametrize(
    ("condition", "field", "value", "expected"),
    [
        ("eq", "lastname", "doe", [2, 3]),
        ("neq", "lastname", "Doe", [1, 4, 5]),
        ("like", "email", "%@example.com", [1, 2, 4]),
        ("nlike", "email", "%@example.com", [3, 5]),
        ("in", "firstname", "Jane,Mei", [2, 5]),
        ("nin", "firstname", "Jane,Mei", [1, 3, 4]),
        ("gt", "group_id", "1", [2, 4, 5]),
        ("gteq", "group_id", "2", [2, 4, 5]),
        ("moreq", "group_id", "3", [4]),
        ("lt", "group_id", "2", [1, 3]),
        ("lteq", "group_id", "2", [1, 2, 3, 5]),
        ("from", "id", "4", [4, 5]),
        ("to", "id", "2", [1, 2]),
        ("finset", "taxvat", "b", [1, 3]),
        ("nfinset", "taxvat", "b", [4]),
        ("null", "taxvat", None, [2, 5]),
        ("notnull", "taxvat", None, [1, 3, 4]),
    ],
)
def test_condition_types(people, condition, field, value, expected):
    assert _ids(people, (field, value, condition)) == expected


def test_filters_in_one_group_are_ored_and_groups_are_anded(people):
    either = _ids(people, [("firstname", "Jane", "eq"), ("firstname", "Mei", "eq")])
    both = _ids(people, ("lastname", "Doe", "eq"), ("group_id", "1", "eq"))

    assert either == [2, 5]
    assert both == [3]


def test_condition_type_defaults_to_eq(people):
    params = [
        ("searchCriteria[filter_groups][0][filters][0][field]", "firstname"),
        ("searchCriteria[filter_groups][0][filters][0][value]", "John"),
    ]

    body = _search(people, params)

    assert [item["id"] for item in body["items"]] == [3]
    assert body["search_criteria"]["filter_groups"][0]["filters"][0]["condition_type"] == "eq"


def test_camel_case_and_snake_case_keys_are_equivalent(people):
    snake = _search(
        people,
        search_params(("group_id", "2", "eq"), sort=[("id", "DESC")], page_size=1, current_page=2),
    )
    camel = _search(
        people,
        search_params(
            ("group_id", "2", "eq"),
            sort=[("id", "DESC")],
            page_size=1,
            current_page=2,
            style="camel",
        ),
    )

    assert [i["id"] for i in snake["items"]] == [i["id"] for i in camel["items"]] == [2]
    assert snake["total_count"] == camel["total_count"] == 2


def test_sort_orders_and_the_descending_default(people):
    by_name = _search(people, search_params(sort=[("lastname", "ASC"), ("firstname", "DESC")]))
    no_direction = _search(people, [("searchCriteria[sortOrders][0][field]", "id")])

    assert [(i["lastname"], i["firstname"]) for i in by_name["items"]][:3] == [
        ("Costello", "Veronica"),
        ("Doe", "John"),
        ("Doe", "Jane"),
    ]
    assert [i["id"] for i in no_direction["items"]] == [5, 4, 3, 2, 1]


def test_without_sort_orders_rows_are_not_in_id_order_but_stable(people):
    for _ in range(10):
        people.store.add_random_customer()
    params = search_params(page_size=50)

    first = [i["id"] for i in _search(people, params)["items"]]
    second = [i["id"] for i in _search(people, params)["items"]]

    assert first == second
    assert first != sorted(first)
    assert sorted(first) == list(range(1, 16))


def test_envelope_echoes_the_search_criteria(people):
    body = _search(
        people,
        search_params(
            ("firstname", "%ver%", "like"), sort=[("id", "ASC")], page_size=10, current_page=1
        ),
    )

    assert set(body) == {"items", "search_criteria", "total_count"}
    assert body["total_count"] == 1
    assert body["search_criteria"] == {
        "filter_groups": [
            {"filters": [{"field": "firstname", "value": "%ver%", "condition_type": "like"}]}
        ],
        "sort_orders": [{"field": "id", "direction": "ASC"}],
        "page_size": 10,
        "current_page": 1,
    }
    assert_shape(body, "customer-data-customer-search-results-interface")


def test_page_past_the_end_returns_the_last_page_again(people):
    last = _search(people, search_params(sort=[("id", "ASC")], page_size=2, current_page=3))
    beyond = _search(people, search_params(sort=[("id", "ASC")], page_size=2, current_page=9))

    assert [i["id"] for i in last["items"]] == [5]
    assert beyond["items"] == last["items"]
    assert beyond["search_criteria"]["current_page"] == 9


def test_page_size_over_the_limit(people):
    response = requests.get(
        rest(people, "/V1/customers/search"),
        params=search_params(page_size=301),
        auth=oauth(people),
    )

    assert response.status_code == 400
    assert response.json() == {
        "message": "Maximum SearchCriteria pageSize is %max",
        "parameters": {"max": 300},
    }


def test_without_page_size_the_input_limit_default_is_twenty(people):
    for _ in range(25):
        people.store.add_random_customer()

    limited = _search(people, [("searchCriteria", "")])
    people.input_limits_enabled = False
    unlimited = _search(people, [("searchCriteria", "")])
    big_page = _search(people, search_params(page_size=301))

    assert len(limited["items"]) == 20
    assert limited["search_criteria"]["page_size"] == 20
    assert limited["total_count"] == 30
    assert len(unlimited["items"]) == 30
    assert "page_size" not in unlimited["search_criteria"]
    assert len(big_page["items"]) == 30


def test_search_criteria_is_required(people):
    response = requests.get(rest(people, "/V1/customers/search"), auth=oauth(people))

    assert response.status_code == 400
    assert response.json()["parameters"] == {"fieldName": "searchCriteria"}


def test_unknown_search_criteria_key(people):
    response = requests.get(
        rest(people, "/V1/customers/search"),
        params={"searchCriteria[page]": "2"},
        auth=oauth(people),
    )

    assert response.status_code == 400
    assert response.json()["parameters"] == {"fieldName": "Page"}


def test_keyset_paging_over_orders_by_entity_id(sandbox_factory):
    server = sandbox_factory(seed={"customers": 3, "products": 3, "orders": 40})

    body = _search(
        server,
        search_params(("entity_id", "30", "gt"), sort=[("entity_id", "ASC")], page_size=4),
        path="/V1/orders",
    )

    assert [o["entity_id"] for o in body["items"]] == [31, 32, 33, 34]
    assert body["total_count"] == 10
    assert_shape(body, "sales-data-order-search-result-interface")


def test_orders_filtered_by_updated_at_see_changes(sandbox_factory):
    server = sandbox_factory(seed={"customers": 3, "products": 3, "orders": 20})
    server.store.clock.advance(3600)
    since = server.store.now()
    server.store.order_update(7, {"state": "holded"})

    body = _search(
        server,
        search_params(
            ("updated_at", since, "gteq"),
            sort=[("updated_at", "ASC"), ("entity_id", "ASC")],
            page_size=10,
        ),
        path="/V1/orders",
    )

    assert [(o["entity_id"], o["status"]) for o in body["items"]] == [(7, "holded")]


def test_orders_filter_on_status_and_grand_total(sandbox_factory):
    server = sandbox_factory(seed={"customers": 3, "products": 3, "orders": 30})
    everything = _search(server, search_params(page_size=100), path="/V1/orders")["items"]
    expected = sorted(
        o["entity_id"] for o in everything if o["status"] == "pending" and o["grand_total"] >= 50
    )

    body = _search(
        server,
        search_params(
            ("status", "pending", "eq"),
            ("grand_total", "50", "gteq"),
            sort=[("entity_id", "ASC")],
            page_size=100,
        ),
        path="/V1/orders",
    )

    assert [o["entity_id"] for o in body["items"]] == expected


def test_products_search_by_sku_like_and_custom_attribute(sandbox_store):
    store = sandbox_store.store
    store.product_save(
        {
            "sku": "MS-Champ-S",
            "name": "Champ Tee Small",
            "price": 25,
            "custom_attributes": [{"attribute_code": "color", "value": "52"}],
        }
    )

    by_sku = _search(
        sandbox_store, search_params(("sku", "ms-champ%", "like"), page_size=5), path="/V1/products"
    )
    by_color = _search(
        sandbox_store, search_params(("color", "52", "eq"), page_size=5), path="/V1/products"
    )

    assert [p["sku"] for p in by_sku["items"]] == ["MS-Champ-S"]
    assert [p["sku"] for p in by_color["items"]] == ["MS-Champ-S"]
    assert_shape(by_sku, "catalog-data-product-search-results-interface")


def test_customers_and_products_can_be_filtered_and_sorted_on_entity_id(people):
    body = _search(
        people, search_params(("entity_id", "3", "gt"), sort=[("entity_id", "DESC")], page_size=10)
    )

    assert [c["id"] for c in body["items"]] == [5, 4]
    assert body["search_criteria"]["filter_groups"][0]["filters"][0]["field"] == "entity_id"

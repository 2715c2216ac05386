"""client.orders against a strict mock of Magento, including a store that clamps its pages."""

import json
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses

from magento import AmbiguousMatchError, NotFoundError
from magento.search import SearchCriteria
from tests.magento.resources.helpers import ALL, F, query_of
from tests.shared_data import load_sample

ORDERS_SEARCH = re.compile(r"https://shop\.example\.com/rest/all/V1/orders\?.*")


def envelope(items, total=None):
    return {
        "items": items,
        "search_criteria": {},
        "total_count": len(items) if total is None else total,
    }


class ClampingOrderStore:
    """A responses callback answering /V1/orders like a Magento collection: it applies
    `entity_id gt`, `status eq` and the sort orders, and a page past the end is clamped to the
    last page (ISSUE #3787) instead of coming back empty."""

    def __init__(self, orders):
        self.orders = orders
        self.requests = []

    def __call__(self, request):
        query = dict(parse_qsl(urlsplit(request.url).query, keep_blank_values=True))
        self.requests.append(query)
        rows = list(self.orders)
        group = 0
        while f"{F}[{group}][filters][0][field]" in query:
            key = f"{F}[{group}][filters][0]"
            field, value = query[f"{key}[field]"], query.get(f"{key}[value]")
            condition = query[f"{key}[condition_type]"]
            if condition == "gt":
                rows = [row for row in rows if row[field] > int(value)]
            elif condition == "eq":
                rows = [row for row in rows if str(row[field]) == value]
            group += 1
        sort_field = query.get("searchCriteria[sortOrders][0][field]")
        if sort_field:
            descending = query["searchCriteria[sortOrders][0][direction]"] == "DESC"
            rows.sort(key=lambda row: row[sort_field], reverse=descending)
        size = int(query["searchCriteria[pageSize]"])
        last_page = max(1, -(-len(rows) // size))
        page = min(int(query.get("searchCriteria[currentPage]", "1")), last_page)
        chunk = rows[(page - 1) * size : page * size]
        return 200, {"Content-Type": "application/json"}, json.dumps(envelope(chunk, len(rows)))


def make_orders(count, status="pending"):
    return [
        {"entity_id": n, "increment_id": f"{n:09d}", "status": status, "store_id": 1}
        for n in range(1, count + 1)
    ]


# --- get / get_by_increment_id ---------------------------------------------------------------


def test_get_returns_the_published_order(client, store_mock):
    store_mock.get(f"{ALL}/orders/3", json=load_sample("order"))
    order = client.orders.get(3)
    assert order == load_sample("order")
    assert len(order["items"]) == 9


@pytest.mark.parametrize("bad_id", [0, -5])
def test_get_refuses_non_positive_ids(client, store_mock, bad_id):
    with pytest.raises(ValueError, match="order id"):
        client.orders.get(bad_id)


def test_get_missing_order_is_not_found(client, store_mock):
    body = {
        "message": "The entity that was requested doesn't exist. Verify the entity and try again."
    }
    store_mock.get(f"{ALL}/orders/404", status=404, json=body)
    with pytest.raises(NotFoundError, match="doesn't exist"):
        client.orders.get(404)


def test_get_by_increment_id_searches_on_the_order_number(client, store_mock):
    order = load_sample("order")
    store_mock.get(ORDERS_SEARCH, json=envelope([order]))
    assert client.orders.get_by_increment_id(order["increment_id"]) == order
    query = query_of(store_mock.calls[0])
    assert query[:3] == [
        (f"{F}[0][filters][0][field]", "increment_id"),
        (f"{F}[0][filters][0][value]", order["increment_id"]),
        (f"{F}[0][filters][0][condition_type]", "eq"),
    ]
    assert ("searchCriteria[sortOrders][0][field]", "entity_id") in query


def test_get_by_increment_id_without_match_is_not_found(client, store_mock):
    store_mock.get(ORDERS_SEARCH, json=envelope([]))
    with pytest.raises(NotFoundError, match="no order number 000000099"):
        client.orders.get_by_increment_id("000000099")


def test_get_by_increment_id_used_by_two_store_views_is_ambiguous(client, store_mock):
    # The published fields-trimmed answer shape, with a second store reusing a number.
    rows = [
        {"entity_id": 3003, "increment_id": "WA0003003", "store_id": 1},
        {"entity_id": 5001, "increment_id": "WA0003003", "store_id": 2},
    ]
    store_mock.get(ORDERS_SEARCH, json=envelope(rows))
    with pytest.raises(AmbiguousMatchError) as caught:
        client.orders.get_by_increment_id("WA0003003")
    assert "order 3003 in store 1" in str(caught.value)
    assert "order 5001 in store 2" in str(caught.value)


@pytest.mark.parametrize(
    ("number", "error"), [("", ValueError), ("  ", ValueError), (42, ValueError)]
)
def test_get_by_increment_id_refuses_bad_numbers(client, store_mock, number, error):
    with pytest.raises(error):
        client.orders.get_by_increment_id(number)


# --- iteration over a store that repeats its last page ---------------------------------------


def test_keyset_iteration_over_a_clamping_store_yields_each_order_once(client, store_mock):
    store = ClampingOrderStore(make_orders(7))
    store_mock.add_callback(responses.GET, ORDERS_SEARCH, callback=store)
    orders = list(client.orders.iter_all(page_size=3))
    assert [o["entity_id"] for o in orders] == [1, 2, 3, 4, 5, 6, 7]
    # Never asked for a page number other than 1, so clamping could never hand back old rows.
    assert [q["searchCriteria[currentPage]"] for q in store.requests] == ["1", "1", "1"]
    assert [q[f"{F}[0][filters][0][value]"] for q in store.requests] == ["0", "3", "6"]


def test_keyset_iteration_with_extra_filters_and_a_start_id(client, store_mock):
    orders = make_orders(6) + [
        {"entity_id": n, "increment_id": f"{n:09d}", "status": "complete", "store_id": 1}
        for n in (7, 8)
    ]
    store = ClampingOrderStore(orders)
    store_mock.add_callback(responses.GET, ORDERS_SEARCH, callback=store)
    pending = SearchCriteria().where("status", "eq", "pending")
    got = list(client.orders.iter_all(pending, after_id=2, page_size=2))
    assert [o["entity_id"] for o in got] == [3, 4, 5, 6]
    assert store.requests[0][f"{F}[0][filters][0][field]"] == "status"
    assert store.requests[0][f"{F}[1][filters][0][value]"] == "2"


def test_page_iteration_stops_on_total_count(client, store_mock):
    store = ClampingOrderStore(make_orders(6))
    store_mock.add_callback(responses.GET, ORDERS_SEARCH, callback=store)
    got = list(client.orders.iter_pages(page_size=3))
    assert [o["entity_id"] for o in got] == [1, 2, 3, 4, 5, 6]
    assert [q["searchCriteria[currentPage]"] for q in store.requests] == ["1", "2"]
    assert store.requests[0]["searchCriteria[sortOrders][0][field]"] == "entity_id"


def test_page_iteration_stops_on_a_repeated_page_without_duplicates(client, store_mock):
    store = ClampingOrderStore(make_orders(6))

    def overcounting(request):
        status, headers, body = store(request)
        answer = json.loads(body)
        answer["total_count"] = 50  # a store whose count disagrees with its pages
        return status, headers, json.dumps(answer)

    store_mock.add_callback(responses.GET, ORDERS_SEARCH, callback=overcounting)
    got = list(client.orders.iter_pages(page_size=3))
    assert [o["entity_id"] for o in got] == [1, 2, 3, 4, 5, 6]
    assert [q["searchCriteria[currentPage]"] for q in store.requests] == ["1", "2", "3"]


def test_page_iteration_keeps_a_caller_sort(client, store_mock):
    store = ClampingOrderStore(make_orders(4))
    store_mock.add_callback(responses.GET, ORDERS_SEARCH, callback=store)
    newest_first = SearchCriteria().sort_by("entity_id", "DESC")
    got = list(client.orders.iter_pages(newest_first, page_size=3))
    assert [o["entity_id"] for o in got] == [4, 3, 2, 1]
    assert store.requests[0]["searchCriteria[sortOrders][0][direction]"] == "DESC"


# --- partial responses (?fields=) -------------------------------------------------------------


def test_search_with_fields_reads_the_published_trimmed_answer(client, store_mock):
    store_mock.get(ORDERS_SEARCH, json=load_sample("orders-search"))
    pending = SearchCriteria().where("status", "eq", "pending")
    result = client.orders.search(pending, fields="items[increment_id,entity_id]")
    assert [order["increment_id"] for order in result.items] == [
        "WA0003003",
        "WA0003140",
        "WA0009435",
    ]
    assert result.total_count is None
    assert query_of(store_mock.calls[0]) == [
        *pending.to_query(),
        ("fields", "items[increment_id,entity_id]"),
    ]


def test_keyset_iteration_with_fields_sends_them_on_every_page(client, store_mock):
    store_mock.get(ORDERS_SEARCH, json=envelope([{"entity_id": 1}, {"entity_id": 2}]))
    store_mock.get(ORDERS_SEARCH, json=envelope([{"entity_id": 3}]))
    got = list(client.orders.iter_all(page_size=2, fields="items[entity_id]"))
    assert [o["entity_id"] for o in got] == [1, 2, 3]
    assert [dict(query_of(call))["fields"] for call in store_mock.calls] == ["items[entity_id]"] * 2


def test_fields_without_the_id_key_is_reported_as_the_stores_answer(client, store_mock):
    from magento import UnexpectedResponseError

    store_mock.get(ORDERS_SEARCH, json=envelope([{"increment_id": "000000001"}]))
    with pytest.raises(UnexpectedResponseError, match="no integer 'entity_id'"):
        list(client.orders.iter_all(fields="items[increment_id]"))


@pytest.mark.parametrize("fields", ["", "  ", "items[sku, name]", "a&b=c", 5])
def test_bad_fields_selection_is_refused(client, store_mock, fields):
    with pytest.raises(ValueError, match="fields"):
        client.orders.search(fields=fields)


@pytest.mark.parametrize("walk", ["iter_all", "iter_pages"])
def test_bad_fields_selection_is_refused_before_any_page_is_asked_for(client, store_mock, walk):
    with pytest.raises(ValueError, match="fields"):
        next(getattr(client.orders, walk)(fields="items[sku, name]"))
    assert len(store_mock.calls) == 0

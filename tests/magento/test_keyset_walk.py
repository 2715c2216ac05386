"""The keyset walk (magento.search.iter_keyset): its query, its timestamps, and real walks over
HTTP against the sandbox store, where rows share one second, arrive mid-walk, show up late or
come back from a store that repeats itself."""

from __future__ import annotations

import datetime as dt

import pytest

from magento import MagentoClient, OAuth1Auth
from magento.errors import UnexpectedResponseError
from magento.search import (
    KeysetPosition,
    SearchCriteria,
    SearchResult,
    iter_keyset,
    keyset_criteria,
    parse_magento_time,
)

SECOND = "2024-05-01 10:00:00"
T = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)


def test_magento_timestamps_are_read_as_utc():
    assert parse_magento_time("2024-05-01 10:00:07") == T + dt.timedelta(seconds=7)
    assert parse_magento_time("2024-02-29 23:59:59").tzinfo is dt.UTC
    for bad in (
        "2024-05-01T10:00:00",
        "2024-05-01 10:00",
        "",
        None,
        5,
        "2024-13-01 10:00:00",
        "2023-02-29 10:00:00",
        "2024-05-01 24:00:00",
        "2024-05-01 10:00:00\n",
        "2024-05-01 10:00:00+02:00",
        "\uff12\uff10\uff12\uff14-05-01 10:00:00",  # fullwidth digits
    ):
        with pytest.raises(ValueError):
            parse_magento_time(bad)


def test_after_a_position_is_two_groups_sorted_by_time_then_id():
    criteria = keyset_criteria(
        SearchCriteria().where("status", "in", ["pending"]),
        timestamp_field="created_at",
        id_field="entity_id",
        after=KeysetPosition(T, 41),
        since=None,
        page_size=300,
    )
    sent = dict(criteria.to_query())
    group = "searchCriteria[filter_groups]"
    assert sent[f"{group}[1][filters][0][field]"] == "created_at"
    assert sent[f"{group}[1][filters][0][condition_type]"] == "gteq"
    assert sent[f"{group}[1][filters][0][value]"] == SECOND
    assert sent[f"{group}[2][filters][0][condition_type]"] == "gt"
    assert sent[f"{group}[2][filters][1][field]"] == "entity_id"
    assert sent[f"{group}[2][filters][1][value]"] == "41"
    assert sent["searchCriteria[sortOrders][0][field]"] == "created_at"
    assert sent["searchCriteria[sortOrders][0][direction]"] == "ASC"
    assert sent["searchCriteria[sortOrders][1][field]"] == "entity_id"
    assert sent["searchCriteria[currentPage]"] == "1"
    assert sent["searchCriteria[pageSize]"] == "300"


def test_a_record_without_a_readable_timestamp_is_the_stores_fault():
    def search(criteria):
        return SearchResult(items=[{"id": 1, "created_at": "yesterday"}], total_count=1)

    with pytest.raises(UnexpectedResponseError, match="created_at"):
        list(iter_keyset(search, timestamp_field="created_at"))


def test_sorting_or_paging_is_refused():
    with pytest.raises(ValueError):
        list(iter_keyset(lambda c: None, SearchCriteria().sort_by("id"), timestamp_field="x"))


@pytest.fixture
def sandbox_store(sandbox_factory):
    """An empty store: every row in it is one the test made."""
    server = sandbox_factory(seed={})
    server.store.product_save({"sku": "tee", "name": "Tee", "price": 10})
    return server


@pytest.fixture
def client(sandbox_store):
    c = sandbox_store.credentials
    auth = OAuth1Auth(c.consumer_key, c.consumer_secret, c.access_token, c.access_token_secret)
    with MagentoClient(sandbox_store.url, auth, allow_private_network=True, max_retries=0) as m:
        yield m


def walk(resource, field, **kwargs):
    pages = list(resource.iter_since(field, **kwargs))
    return pages, [item for page in pages for _, item in page.records]


def test_450_customers_in_one_second_come_once_each_in_id_order(sandbox_store, client):
    sandbox_store.store.seed(customers=450, at=SECOND)
    before = len(sandbox_store.requests)
    pages, items = walk(client.customers, "updated_at", since=T, page_size=100)
    ids = [item["id"] for item in items]
    assert len(ids) == 450 and len(set(ids)) == 450
    assert ids == sorted(ids)
    assert {item["updated_at"] for item in items} == {SECOND}
    # 100, 100, 100, 100, 50: the short page ends the walk.
    assert [page.fetched for page in pages] == [100, 100, 100, 100, 50]
    assert len(sandbox_store.requests) - before == 5
    assert pages[0].remaining == 350 and pages[-1].remaining == 0
    assert pages[-1].position == KeysetPosition(T, ids[-1])


def test_rows_created_while_walking_are_read_at_the_end(sandbox_store, client):
    store = sandbox_store.store
    store.seed(customers=250, at=SECOND)
    seen = []
    for number, page in enumerate(
        client.customers.iter_since("created_at", since=T, page_size=100)
    ):
        seen.extend(item["id"] for _, item in page.records)
        if number == 0:
            store.clock.advance(5)
            store.seed(customers=30)
    assert len(seen) == 280 and len(set(seen)) == 280


def test_a_late_row_is_missed_by_the_walk_and_found_behind_the_position(sandbox_store, client):
    store = sandbox_store.store
    store.clock.advance(60)
    late = store.order_create()
    store.hold_row("orders", late["entity_id"], 30)
    store.clock.advance(1)
    after = store.order_create()
    _, items = walk(client.orders, "created_at", since=parse_magento_time(late["created_at"]))
    assert [item["entity_id"] for item in items] == [after["entity_id"]]
    store.clock.advance(30)
    # The late row is behind the position reached: only a walk that looks back finds it.
    _pages, items = walk(
        client.orders,
        "created_at",
        after=KeysetPosition(parse_magento_time(after["created_at"]), after["entity_id"]),
    )
    assert items == []
    _, items = walk(client.orders, "created_at", since=parse_magento_time(late["created_at"]))
    assert [item["entity_id"] for item in items] == [late["entity_id"], after["entity_id"]]


def test_a_store_repeating_its_last_answer_cannot_loop_or_repeat(sandbox_store, client):
    sandbox_store.store.seed(customers=200, at=SECOND)
    before = len(sandbox_store.requests)
    walker = client.customers.iter_since("created_at", since=T, page_size=100)
    pages = [next(walker)]
    sandbox_store.faults.add("repeat_answer", path="/V1/customers/search", times=1)
    pages.extend(walker)
    items = [item for page in pages for _, item in page.records]
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids))
    # The first answer was repeated for page 2: nothing new, so the walk stopped there.
    assert len(ids) == 100 and len(sandbox_store.requests) - before == 2
    assert pages[-1].more is False
    # Walking on from where it stood reads the rest.
    _, rest = walk(client.customers, "created_at", after=pages[-1].position, page_size=100)
    assert len(rest) == 100 and not set(ids) & {item["id"] for item in rest}


def test_products_filter_on_entity_id_and_carry_id(sandbox_store, client):
    store = sandbox_store.store
    store.seed(products=5, at=SECOND)
    _, items = walk(client.products, "created_at", since=T, page_size=2)
    assert items[-1]["sku"] == "tee"  # made by the fixture, on the store's clock
    items = items[:-1]
    ids = [item["id"] for item in items]
    assert len(ids) == 5 and ids == sorted(ids)


def test_orders_walk_by_created_at_with_filters(sandbox_store, client):
    store = sandbox_store.store
    store.clock.advance(60)
    wanted = store.order_create(state="processing")
    store.order_create(state="new")
    since = parse_magento_time(wanted["created_at"])
    criteria = SearchCriteria().where("status", "in", ["processing"])
    _, items = walk(client.orders, "created_at", criteria=criteria, since=since)
    assert [item["entity_id"] for item in items] == [wanted["entity_id"]]

"""Properties (Hypothesis) of the keyset walk (magento.search.iter_keyset).

For any set of records (timestamps shared by many, ids in no relation to time), any page size,
records arriving while the walk runs, late rows showing up behind the walk, and a store that
answers a request with its previous page again, the walk yields every record exactly once, in
(timestamp, id) order. First against a small fake search function with Magento's filter
semantics (groups AND-ed, filters in a group OR-ed, sorted, paged, the last page again past the
end), then against the sandbox store object itself.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from magento import MagentoClient
from magento.sandbox.search import parse_query, read_criteria
from magento.sandbox.store import SandboxStore
from magento.search import (
    KeysetPosition,
    SearchCriteria,
    SearchResult,
    iter_keyset,
    parse_magento_time,
    render_value,
)

PROPERTIES = settings(max_examples=200, deadline=None, derandomize=True, database=None)
T0 = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)


def stamp(second: int) -> str:
    return render_value(T0 + dt.timedelta(seconds=second))


class FakeStore:
    """Customers {"id", "created_at"} searched as Magento does; things happen per request."""

    def __init__(self, records, *, arrivals=(), repeats=()):
        self.visible = list(records)
        self.arrivals = sorted(arrivals, key=lambda pair: pair[0])  # (request number, record)
        self.repeats = set(repeats)  # request numbers answered with the previous answer
        self.requests = 0
        self.previous: SearchResult | None = None

    def search(self, criteria: SearchCriteria) -> SearchResult:
        self.requests += 1
        while self.arrivals and self.arrivals[0][0] <= self.requests:
            self.visible.append(self.arrivals.pop(0)[1])
        if self.requests in self.repeats and self.previous is not None:
            return self.previous
        rows = [
            row
            for row in self.visible
            if all(any(_matches(row, f) for f in group) for group in criteria.filter_groups)
        ]
        for order in reversed(criteria.sort_orders):
            rows.sort(key=lambda row: _value(row, order.field), reverse=order.direction == "DESC")
        size = criteria.page_size
        pages = max(1, math.ceil(len(rows) / size))
        page = min(criteria.current_page or 1, pages)  # Magento: past the end, the last page
        self.previous = SearchResult(
            items=[dict(row) for row in rows[(page - 1) * size : page * size]],
            total_count=len(rows),
        )
        return self.previous


def _value(row, field):
    return row["id"] if field == "entity_id" else row[field]


def _matches(row, condition) -> bool:
    stored = _value(row, condition.field)
    # Ids compare as numbers; 'YYYY-MM-DD HH:MM:SS' texts compare as MySQL compares them.
    given = render_value(condition.value)
    given = int(given) if isinstance(stored, int) else given
    return {
        "eq": stored == given,
        "gt": stored > given,
        "gteq": stored >= given,
        "lt": stored < given,
        "lteq": stored <= given,
    }[condition.condition_type]


def key(record) -> tuple:
    return (record["created_at"], record["id"])


@st.composite
def records(draw, *, min_size=0, max_size=40, seconds=4, ids=None):
    """Customers over a few seconds (so many share one), with unique ids in any order."""
    ids = st.integers(1, 10_000) if ids is None else ids
    chosen = draw(st.lists(ids, min_size=min_size, max_size=max_size, unique=True))
    return [
        {"id": entity_id, "created_at": stamp(draw(st.integers(0, seconds)))}
        for entity_id in chosen
    ]


def walk(store, **kwargs) -> tuple[list[dict], KeysetPosition | None]:
    """One walk: its items in order, and where it stood at the end."""
    items, position = [], kwargs.get("after")
    for page in iter_keyset(store.search, timestamp_field="created_at", **kwargs):
        items += [item for _, item in page.records]
        position = page.position or position
    return items, position


def walk_until_idle(store, page_size, *, rounds=60) -> list[dict]:
    """What a poller does: walk on from where the last walk stood until nothing new comes."""
    seen: list[dict] = []
    position = None
    for _ in range(rounds):
        items, position = walk(store, after=position, page_size=page_size)
        seen += items
        if not items and not store.arrivals and store.requests > max(store.repeats, default=0):
            return seen
    raise AssertionError("the walk never settled")


@PROPERTIES
@given(
    records(),
    st.integers(1, 12),
    st.lists(st.integers(1, 20), max_size=4),
    st.data(),
)
def test_every_record_once_in_order(existing, page_size, repeats, data):
    # Records created mid-walk: after the ones there, ids and timestamps growing as they come
    # (several in one second, as in a busy shop).
    when = sorted(data.draw(st.lists(st.integers(1, 12), max_size=15)))
    later, second = [], 10
    for number in range(len(when)):
        second += data.draw(st.integers(0, 1))
        later.append({"id": 10_001 + number, "created_at": stamp(second)})
    arrivals = list(zip(when, later, strict=True))
    store = FakeStore(existing, arrivals=arrivals, repeats=repeats)
    seen = walk_until_idle(store, page_size)

    ids = [row["id"] for row in seen]
    assert len(ids) == len(set(ids)), "a record came twice"
    assert sorted(ids) == sorted(row["id"] for row in existing + later), "a record was missed"
    assert [key(row) for row in seen] == sorted(key(row) for row in seen), "out of order"


@PROPERTIES
@given(records(min_size=1), st.integers(1, 12), st.data())
def test_late_rows_are_found_behind_the_position_and_nothing_repeats(existing, page_size, data):
    # Late rows: their timestamp and id were taken before rows the walk has already read.
    late = data.draw(records(ids=st.integers(10_001, 20_000), max_size=10))
    arrivals = [(data.draw(st.integers(1, 6)), row) for row in late]
    store = FakeStore(existing, arrivals=arrivals)
    first, _ = walk(store, page_size=page_size)
    while store.arrivals:  # the rest show up before the next poll
        store.search(SearchCriteria().with_page_size(1))
    # The next poll looks back behind its position (here: to the earliest late row).
    look_back = min((parse_magento_time(row["created_at"]) for row in late), default=T0)
    second, _ = walk(store, since=look_back, page_size=page_size)

    for items in (first, second):
        ids = [row["id"] for row in items]
        assert len(ids) == len(set(ids)), "a walk yielded a record twice"
        assert [key(row) for row in items] == sorted(key(row) for row in items)
    assert {row["id"] for row in existing} <= {row["id"] for row in first}
    union = {row["id"] for row in first} | {row["id"] for row in second}
    assert union == {row["id"] for row in existing + late}


def sandbox_search(store: SandboxStore):
    """A search function over the sandbox store object: the query as the client sends it, read
    by the sandbox's parser, searched by the store (no HTTP)."""
    client = MagentoClient("https://shop.example.com", None)

    def search(criteria: SearchCriteria) -> SearchResult:
        url = client.url_for("/V1/customers/search", params=criteria.to_query())
        raw = parse_query(urlsplit(url).query)["searchCriteria"]
        body = store.search_json("customers", read_criteria(raw, input_limits=True))
        return SearchResult.from_response(json.loads(body))

    return search


@settings(PROPERTIES, max_examples=40)
@given(
    st.lists(st.integers(0, 30), min_size=1, max_size=4),
    st.integers(1, 40),
    st.integers(0, 3),
)
def test_the_sandbox_store_walks_every_customer_once_in_order(counts, page_size, ticks):
    now = [T0.timestamp()]
    store = SandboxStore(clock=lambda: now[0], random_seed=1)
    expected = set()
    for second, count in enumerate(counts):
        store.seed(customers=count, at=stamp(second * ticks))
    expected = {row["id"] for row in json.loads(store.search_json("customers", read_criteria(
        {"page_size": 0}, input_limits=False)))["items"]}  # fmt: skip

    class Sandbox:
        search = staticmethod(sandbox_search(store))

    items, _ = walk(Sandbox, page_size=page_size)
    ids = [row["id"] for row in items]
    assert len(ids) == len(set(ids)) and set(ids) == expected
    assert [key(row) for row in items] == sorted(key(row) for row in items)

"""The sandbox's date and id indexes: right after every save, and never a different answer.

The indexed search is compared with a brute-force filter written here, on seeded stores whose
rows were updated at random (with many equal timestamps, as a real store has within a second).
"""

from __future__ import annotations

import json
import random
from urllib.parse import quote

import pytest
import requests

from magento.sandbox import FakeClock, SandboxStore
from magento.sandbox.search import Criteria
from magento.sandbox.store import format_time, stable_hash
from tests.magento.sandbox.helpers import oauth, rest, search_params

RANGE_CONDITIONS = ("gt", "gteq", "moreq", "from", "lt", "lteq", "to", "eq")
OTHER_CONDITIONS = ("neq", "in", "nin", "null", "notnull")
# Fields stored as they are answered, so the brute force can read them straight off the row.
FIELDS = {
    "orders": ("entity_id", "updated_at", "created_at", "status", "grand_total", "customer_id"),
    "customers": ("entity_id", "id", "updated_at", "created_at", "group_id", "lastname"),
    "products": ("entity_id", "id", "updated_at", "created_at", "price", "sku"),
}


# ------------------------------------------------------------------ brute force


def _holds(stored, condition: str, given) -> bool:
    """One condition as MySQL would check it: numbers as numbers, text without case, NULL apart."""
    if condition == "null":
        return stored is None
    if condition == "notnull":
        return stored is not None
    if stored is None:
        return False
    if condition in ("in", "nin"):
        hit = any(_holds(stored, "eq", part.strip()) for part in str(given).split(","))
        return hit if condition == "in" else not hit
    if isinstance(stored, (int, float)):
        try:
            left, right = stored, float(given)
        except ValueError:
            left, right = str(stored).lower(), str(given).lower()
    else:
        left, right = str(stored).lower(), str(given).lower()
    return {
        "eq": left == right,
        "neq": left != right,
        "gt": left > right,
        "lt": left < right,
        "gteq": left >= right,
        "moreq": left >= right,
        "from": left >= right,
        "lteq": left <= right,
        "to": left <= right,
    }[condition]


def _sort_key(value):
    if value is None:
        return (0, 0, "")
    if isinstance(value, (int, float)):
        return (1, value, "")
    return (2, 0, str(value).lower())


def brute_force(store: SandboxStore, kind: str, criteria: Criteria) -> tuple[list[int], int]:
    """Every row in id order, every filter checked, then a stable sort and the clamped page."""
    table = getattr(store, kind)
    id_field = "entity_id" if kind == "orders" else "id"

    def value(row, name):
        return row[id_field] if name == "entity_id" else row.get(name)

    rows = [table.rows[row_id] for row_id in sorted(table.rows)]
    rows = [
        row
        for row in rows
        if all(
            any(_holds(value(row, f["field"]), f["condition"], f["value"]) for f in group)
            for group in criteria.filter_groups
        )
    ]
    if criteria.sort_orders:
        for name, ascending in reversed(criteria.sort_orders):
            rows.sort(key=lambda row, n=name: _sort_key(value(row, n)), reverse=not ascending)
    else:
        rows.sort(key=lambda row: stable_hash(row[id_field]))
    total = len(rows)
    size = criteria.page_size or max(total, 1)
    page = min(criteria.current_page, max(1, -(-total // size)))
    return [row[id_field] for row in rows[(page - 1) * size : page * size]], total


def indexed(store: SandboxStore, kind: str, criteria: Criteria) -> tuple[list[int], int]:
    """The store's own answer, as the server sends it: ids on the page and total_count."""
    body = json.loads(store.search_json(kind, criteria))
    id_field = "entity_id" if kind == "orders" else "id"
    return [item[id_field] for item in body["items"]], body["total_count"]


# ------------------------------------------------------------------ random data


def _busy_store(seed: int) -> SandboxStore:
    """A seeded store, then a burst of saves in which many rows share a timestamp."""
    clock = FakeClock(start=1_780_000_000)
    store = SandboxStore(clock=clock, random_seed=seed)
    store.seed(customers=25, products=12, orders=120, days=3)
    rng = random.Random(seed)
    for _ in range(90):
        clock.advance(rng.choice((0, 0, 0, 1, 7, 3600)))
        what = rng.random()
        if what < 0.5:
            order_id = rng.choice(store.orders.ids)
            store.order_update(order_id, {"status": rng.choice(("pending", "holded", "fraud"))})
        elif what < 0.75:
            customer_id = rng.choice(store.customers.ids)
            customer = store.customer_get(customer_id)
            customer["lastname"] = rng.choice(("Doe", "doe", "Costello", "Tanaka"))
            customer["group_id"] = rng.choice((1, 2, 3))
            store.customer_replace(customer_id, customer)
        elif what < 0.9:
            product = store.products.rows[rng.choice(store.products.ids)]
            store.product_save({"price": rng.choice((5, 10, 42.5))}, sku=product["sku"])
        else:
            store.order_create(customer_id=rng.choice(store.customers.ids))
    return store


def _dates(store: SandboxStore, kind: str, rng: random.Random) -> str:
    table = getattr(store, kind)
    row = table.rows[rng.choice(table.ids)]
    moment = row[rng.choice(("updated_at", "created_at"))]
    choice = rng.random()
    if choice < 0.5:
        return moment  # an exact hit: the boundary rows themselves
    if choice < 0.7:
        return moment[:10]  # a date without a time, as people type it
    if choice < 0.8:
        return moment.replace(" ", "T")  # ISO style sorts differently as text
    shifted = store.clock() + rng.choice((-86_400 * 4, -61, -1, 1, 3600))
    return format_time(shifted)


def _value(store: SandboxStore, kind: str, name: str, rng: random.Random):
    if name in ("updated_at", "created_at"):
        return _dates(store, kind, rng)
    if name in ("entity_id", "id"):
        table = getattr(store, kind)
        # Existing ids twice as often; the rest are edges the search reads as text or NaN.
        odd = ["7.5", "0", "1e1", "nan", "abc", "", str(table.next_id + 3)]
        return rng.choice([str(rng.choice(table.ids)), str(rng.choice(table.ids)), *odd])
    if name in ("grand_total", "price"):
        return rng.choice(("10", "42.5", "60", "150.25"))
    if name in ("group_id", "customer_id"):
        return rng.choice(("1", "2", "3", "5,7", "x"))
    return rng.choice(("pending", "HOLDED", "doe", "Tanaka", "SKU-1", "processing"))


def _random_criteria(store: SandboxStore, kind: str, rng: random.Random) -> Criteria:
    names = FIELDS[kind]
    dated = ("updated_at", "created_at", "entity_id")
    groups = []
    for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
        group = []
        for _ in range(rng.choice((1, 1, 1, 2))):
            name = rng.choice(dated) if rng.random() < 0.7 else rng.choice(names)
            conditions = RANGE_CONDITIONS if rng.random() < 0.8 else OTHER_CONDITIONS
            condition = rng.choice(conditions)
            group.append(
                {"field": name, "value": _value(store, kind, name, rng), "condition": condition}
            )
        groups.append(group)
    sort_orders = [
        (rng.choice(("updated_at", "created_at", "entity_id", *names)), rng.random() < 0.5)
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3)))
    ]
    return Criteria(
        filter_groups=groups,
        sort_orders=sort_orders,
        page_size=rng.choice((None, 1, 5, 20, 300)),
        current_page=rng.choice((1, 1, 2, 3, 50)),
    )


# ------------------------------------------------------------------ properties


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("kind", ["orders", "customers", "products"])
def test_indexed_search_equals_a_full_scan_for_random_criteria(kind, seed):
    store = _busy_store(seed)
    rng = random.Random(seed * 100 + len(kind))

    for _ in range(250):
        criteria = _random_criteria(store, kind, rng)
        expected = brute_force(store, kind, criteria)
        assert indexed(store, kind, criteria) == expected, criteria


@pytest.mark.parametrize("condition", RANGE_CONDITIONS)
@pytest.mark.parametrize("name", ["updated_at", "created_at"])
def test_each_date_condition_selects_the_rows_a_scan_selects(name, condition):
    store = _busy_store(4)
    rng = random.Random(condition)

    for _ in range(40):
        given = _dates(store, "orders", rng)
        criteria = Criteria(
            filter_groups=[[{"field": name, "value": given, "condition": condition}]],
            sort_orders=[("entity_id", True)],
        )
        ids, total = indexed(store, "orders", criteria)
        expected = [
            row_id
            for row_id in sorted(store.orders.rows)
            if _holds(store.orders.rows[row_id][name], condition, given)
        ]
        assert ids == expected, (name, condition, given)
        assert total == len(expected)


def test_from_to_window_in_two_groups_is_the_rows_between_both_dates():
    store = _busy_store(5)
    moments = sorted({row["updated_at"] for row in store.orders.rows.values()})
    rng = random.Random(5)

    for _ in range(30):
        low, high = sorted(rng.sample(moments, 2))
        criteria = Criteria(
            filter_groups=[
                [{"field": "updated_at", "value": low, "condition": "from"}],
                [{"field": "updated_at", "value": high, "condition": "to"}],
            ],
            sort_orders=[("updated_at", True), ("entity_id", True)],
        )
        expected = sorted(
            (row["updated_at"], row_id)
            for row_id, row in store.orders.rows.items()
            if low <= row["updated_at"] <= high
        )
        assert indexed(store, "orders", criteria) == (
            [row_id for _, row_id in expected],
            len(expected),
        )


@pytest.mark.parametrize("seed", [6, 7])
def test_indexes_hold_every_row_once_at_its_current_dates(seed):
    store = _busy_store(seed)

    for kind in ("orders", "customers", "products"):
        table = getattr(store, kind)
        assert table.ids == sorted(table.rows)
        assert table.by_updated == sorted(
            (row["updated_at"], row_id) for row_id, row in table.rows.items()
        )
        assert table.by_created == sorted(
            (row["created_at"], row_id) for row_id, row in table.rows.items()
        )
        assert table.by_hash == sorted(table.rows, key=stable_hash)


def test_a_save_for_a_row_missing_from_the_index_fails_loudly():
    store = SandboxStore(clock=FakeClock(start=1_780_000_000), random_seed=1)
    store.seed(customers=1, products=1, orders=2)
    order = store.orders.rows[1]
    store.orders.by_updated.remove((order["updated_at"], 1))

    with pytest.raises(LookupError):
        store.order_update(1, {"status": "holded"})


# ------------------------------------------------------------------ over HTTP


def _poll(server, path, since, sort, id_field="entity_id"):
    pairs = search_params(("updated_at", since, "gteq"), sort=sort, page_size=300)
    # Spaces as %20: Magento reads a "+" in a signed query as a literal plus.
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
    response = requests.get(f"{rest(server, path)}?{query}", auth=oauth(server), timeout=5)
    assert response.status_code == 200, response.text
    body = response.json()
    return [item[id_field] for item in body["items"]], body["total_count"]


def test_an_updated_order_moves_to_the_end_of_the_updated_at_order(sandbox_factory):
    server = sandbox_factory(seed={"customers": 2, "products": 2, "orders": 12})
    store = server.store
    store.clock.advance(60)
    since = store.now()
    store.order_update(9, {"status": "holded"})
    store.clock.advance(5)
    store.order_update(2, {"status": "holded"})
    store.order_update(5, {"status": "fraud"})  # same second as order 2

    by_date = [("updated_at", "ASC"), ("entity_id", "ASC")]
    assert _poll(server, "/V1/orders", since, by_date) == ([9, 2, 5], 3)
    assert _poll(server, "/V1/orders", since, [("entity_id", "ASC")]) == ([2, 5, 9], 3)
    assert _poll(server, "/V1/orders", since, [("updated_at", "DESC")]) == ([2, 5, 9], 3)
    everything = _poll(server, "/V1/orders", "2000-01-01 00:00:00", by_date)[0]
    assert everything[-3:] == [9, 2, 5]
    assert sorted(everything) == list(range(1, 13))


def test_an_updated_customer_is_found_by_the_next_poll_and_only_once(sandbox_factory):
    server = sandbox_factory(seed={"customers": 6, "products": 0, "orders": 0})
    store = server.store
    store.clock.advance(60)
    since = store.now()
    customer = store.customer_get(4)
    customer["lastname"] = "Changed"
    store.customer_replace(4, customer)
    sort = [("updated_at", "ASC"), ("entity_id", "ASC")]

    assert _poll(server, "/V1/customers/search", since, sort, "id") == ([4], 1)
    store.clock.advance(1)
    assert _poll(server, "/V1/customers/search", store.now(), sort, "id") == ([], 0)

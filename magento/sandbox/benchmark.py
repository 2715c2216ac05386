"""Measure the sandbox: seeding time and pages of orders served for the portal's polling queries.

Usage: python -m magento.sandbox.benchmark [--orders 100000] [--rounds 15] [--page-size 300]

Shared machines are noisy, so next to each absolute figure it prints ratios against a baseline
measured in the same run, with the requests of each round interleaved so that a slow spell hits
both sides of a ratio alike: a page over HTTP against a trivial GET /V1/store/storeConfigs round
trip, an updated_at polling page against a keyset page by entity_id, and each figure as a share
of the issue's budget. It asserts nothing and stops by itself (about 15 s with the defaults).
`main` returns the summary's figures (the portal's `make bench` adds them to its JSON line).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from .clock import FakeClock
from .search import Criteria, make_predicate, page_of, parse_query, read_criteria, sort_rows
from .server import SandboxServer
from .store import SandboxStore
from .table import stable_hash

SEED_BUDGET_SECONDS = 30.0  # seeding 100,000 orders
PAGE_BUDGET_MS = 50.0  # one page of 300 orders over HTTP ("well under" this)
BY_ID = [("entity_id", "ASC")]
BY_DATE = [("updated_at", "ASC"), ("entity_id", "ASC")]
EVERYTHING = "2000-01-01 00:00:00"


@dataclass
class Row:
    """One line of the summary table."""

    measure: str
    median: str
    ratio: str = ""
    budget: str = ""


def _query(field: str, value: object, condition: str, sort, page_size: int) -> dict[str, str]:
    query = {
        "searchCriteria[filterGroups][0][filters][0][field]": field,
        "searchCriteria[filterGroups][0][filters][0][value]": str(value),
        "searchCriteria[filterGroups][0][filters][0][conditionType]": condition,
        "searchCriteria[pageSize]": str(page_size),
    }
    for position, (name, direction) in enumerate(sort):
        query[f"searchCriteria[sortOrders][{position}][field]"] = name
        query[f"searchCriteria[sortOrders][{position}][direction]"] = direction
    return query


def _criteria(query: dict[str, str]) -> Criteria:
    text = "&".join(f"{key}={value}" for key, value in query.items())
    return read_criteria(parse_query(text)["searchCriteria"], input_limits=True)


def _ms(seconds: float) -> float:
    return seconds * 1000


def _median(samples: list[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


def _full_scan(store: SandboxStore, criteria: Criteria) -> list[int]:
    """The same search without any index: every order filtered and sorted (for comparison)."""
    table = store.orders
    rows = [table.rows[row_id] for row_id in table.ids]
    predicate = make_predicate(criteria.filter_groups, store._order_value)
    if predicate is not None:
        rows = [row for row in rows if predicate(row)]
    if criteria.sort_orders:
        sort_rows(rows, criteria.sort_orders, store._order_value)
    else:
        rows.sort(key=lambda row: stable_hash(row["entity_id"]))
    return [row["entity_id"] for row in page_of(rows, criteria)]


def _timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Seed, make some orders change, then time keyset and updated_at polling pages.

    Returns the summary's figures: seconds to seed, milliseconds per page over HTTP, the worst
    updated_at page against the keyset page, and what the index saves over a full scan.
    """
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--changed", type=int, default=2_000, help="orders updated after seeding")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--page-size", type=int, default=300)
    options = parser.parse_args(argv)
    size = options.page_size
    summary: list[Row] = []

    clock = FakeClock()
    store = SandboxStore(clock=clock, random_seed=7, bearer_enabled=True)
    seeded = _timed(
        lambda: store.seed(
            customers=options.customers, products=options.products, orders=options.orders
        )
    )
    print(
        f"seeded {options.orders} orders, {options.customers} customers, "
        f"{options.products} products in {seeded:.2f} s "
        f"({seeded / SEED_BUDGET_SECONDS:.0%} of the {SEED_BUDGET_SECONDS:.0f} s budget)"
    )
    summary.append(
        Row(
            f"seed {options.orders:,} orders",
            f"{seeded:.2f} s",
            budget=f"{seeded / SEED_BUDGET_SECONDS:.0%} of {SEED_BUDGET_SECONDS:.0f} s",
        )
    )

    # Orders changed after seeding, a few seconds apart, so updated_at order is not id order.
    rng = random.Random(7)
    for _ in range(options.changed):
        clock.advance(rng.choice((1, 2, 3)))
        store.order_update(rng.randrange(1, options.orders + 1), {"status": "holded"})
    by_updated = store.orders.by_updated
    changed_since = by_updated[max(0, len(by_updated) - size)][0]
    half_since = by_updated[len(by_updated) // 2][0]
    polls = {
        "poll: the last ~page of changes, by updated_at": _query(
            "updated_at", changed_since, "gteq", BY_DATE, size
        ),
        "poll: half the orders changed, by entity_id": _query(
            "updated_at", half_since, "gteq", BY_ID, size
        ),
        "poll: first poll (every order), by entity_id": _query(
            "updated_at", EVERYTHING, "gteq", BY_ID, size
        ),
    }

    def keyset(round_number: int) -> dict[str, str]:
        span = max(options.orders - size, 1)
        last_id = (round_number * 7919 * size) % span
        return _query("entity_id", last_id, "gt", BY_ID, size)

    # Store side: search + render + JSON, every order never served before (cache emptied).
    store_side: dict[str, list[float]] = {"keyset": [], **{name: [] for name in polls}}
    for round_number in range(options.rounds):
        for name, query in [("keyset", keyset(round_number)), *polls.items()]:
            criteria = _criteria(query)
            store._order_cache.clear()
            store_side[name].append(_ms(_timed(lambda c=criteria: store.search_json("orders", c))))
    keyset_store = _median(store_side["keyset"])
    print(
        f"\nstore side, page of {size} never-served orders (search + render + JSON), "
        f"median of {options.rounds}:"
    )
    print(f"  keyset page (entity_id gt X, by id)                {keyset_store:7.1f} ms")
    for name in polls:
        figure = _median(store_side[name])
        print(f"  {name:50s} {figure:7.1f} ms = {figure / keyset_store:.2f} x keyset page")

    # The same first poll without an index, to show what the index saves.
    first_poll = _criteria(polls["poll: first poll (every order), by entity_id"])
    scans = [_ms(_timed(lambda: _full_scan(store, first_poll))) for _ in range(3)]
    indexed = [_ms(_timed(lambda: store._search_page("orders", first_poll))) for _ in range(3)]
    scan_ratio = _median(scans) / _median(indexed)
    print(
        f"  first poll, search only: indexed {_median(indexed):.1f} ms, "
        f"full scan {_median(scans):.1f} ms = {scan_ratio:.0f} x the indexed search"
    )

    with SandboxServer(store) as server, requests.Session() as session:
        inside: list[float] = []
        answer = server.handle

        def timed_handle(*args):
            began = time.perf_counter()
            result = answer(*args)
            inside.append(_ms(time.perf_counter() - began))
            return result

        server.handle = timed_handle
        session.headers["Authorization"] = f"Bearer {server.credentials.access_token}"
        base = f"{server.url}/rest/all/V1"
        session.get(f"{base}/store/storeConfigs").raise_for_status()  # opens the connection
        over_http: dict[str, list[float]] = {
            "storeConfigs": [],
            "keyset": [],
            **{name: [] for name in polls},
        }
        in_server: dict[str, list[float]] = {name: [] for name in over_http}
        page_bytes = 0
        for round_number in range(options.rounds):
            requests_this_round = [
                ("storeConfigs", f"{base}/store/storeConfigs", None),
                ("keyset", f"{base}/orders", keyset(round_number + options.rounds)),
                *((name, f"{base}/orders", query) for name, query in polls.items()),
            ]
            for name, url, params in requests_this_round:
                store._order_cache.clear()
                began = time.perf_counter()
                response = session.get(url, params=params)
                over_http[name].append(_ms(time.perf_counter() - began))
                in_server[name].append(inside[-1])
                response.raise_for_status()
                if name == "keyset":
                    page_bytes = len(response.content)
    trivial = _median(over_http["storeConfigs"])
    keyset_http = _median(over_http["keyset"])
    print(
        f"\nover HTTP with requests, median of {options.rounds} interleaved rounds "
        f"(a page of {size} orders is {page_bytes / 1024:.0f} KiB):"
    )
    print(
        f"  GET /V1/store/storeConfigs (baseline)              {trivial:7.1f} ms "
        f"(inside the server {_median(in_server['storeConfigs']):.1f} ms)"
    )
    print(
        f"  keyset page (entity_id gt X, by id)                {keyset_http:7.1f} ms "
        f"= {keyset_http / trivial:.1f} x storeConfigs "
        f"(inside the server {_median(in_server['keyset']):.1f} ms), "
        f"{keyset_http / PAGE_BUDGET_MS:.0%} of the {PAGE_BUDGET_MS:.0f} ms budget"
    )
    summary.append(Row("GET /V1/store/storeConfigs over HTTP", f"{trivial:.1f} ms", "baseline"))
    summary.append(
        Row(
            f"keyset page of {size} orders over HTTP",
            f"{keyset_http:.1f} ms",
            f"{keyset_http / trivial:.1f} x storeConfigs",
            f"{keyset_http / PAGE_BUDGET_MS:.0%} of {PAGE_BUDGET_MS:.0f} ms",
        )
    )
    worst_ratio = 0.0
    for name in polls:
        figure = _median(over_http[name])
        ratio = figure / keyset_http
        worst_ratio = max(worst_ratio, ratio)
        print(
            f"  {name:50s} {figure:7.1f} ms = {ratio:.2f} x keyset page "
            f"= {figure / trivial:.1f} x storeConfigs, "
            f"{figure / PAGE_BUDGET_MS:.0%} of the budget"
        )
        summary.append(
            Row(
                name + " over HTTP",
                f"{figure:.1f} ms",
                f"{ratio:.2f} x keyset page",
                f"{figure / PAGE_BUDGET_MS:.0%} of {PAGE_BUDGET_MS:.0f} ms",
            )
        )
    summary.append(
        Row(
            "first poll, search step only, indexed",
            f"{_median(indexed):.1f} ms",
            f"full scan = {scan_ratio:.0f} x this",
        )
    )
    _print_summary(summary, worst_ratio)
    return {
        "sandbox_seed_s": round(seeded, 3),
        "sandbox_store_configs_ms": round(trivial, 2),
        "sandbox_keyset_page_ms": round(keyset_http, 2),
        "sandbox_poll_page_ratio": round(worst_ratio, 3),
        "sandbox_index_speedup": round(scan_ratio, 1),
    }


def _print_summary(summary: list[Row], worst_ratio: float) -> None:
    headers = Row("measure", "median", "ratio (same run)", "budget")
    widths = [
        max(len(getattr(row, column)) for row in [headers, *summary])
        for column in ("measure", "median", "ratio", "budget")
    ]
    print("\nsummary")
    for row in [headers, *summary]:
        cells = (row.measure, row.median, row.ratio, row.budget)
        line = "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        print("  " + line.rstrip())
    print(f"  updated_at polling page / keyset page = {worst_ratio:.2f} (worst poll above)")


if __name__ == "__main__":
    main()

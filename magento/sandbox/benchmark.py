"""Measure the sandbox: seeding time and how fast a page of orders is served over HTTP.

Usage: python -m magento.sandbox.benchmark [--orders 100000] [--rounds 20]
Prints figures; it asserts nothing (timings depend on the machine).
"""

from __future__ import annotations

import argparse
import statistics
import time

import requests

from .search import parse_query, read_criteria
from .server import SandboxServer
from .store import SandboxStore


def _page_query(last_id: int, page_size: int) -> dict[str, str | int]:
    return {
        "searchCriteria[filterGroups][0][filters][0][field]": "entity_id",
        "searchCriteria[filterGroups][0][filters][0][value]": last_id,
        "searchCriteria[filterGroups][0][filters][0][conditionType]": "gt",
        "searchCriteria[sortOrders][0][field]": "entity_id",
        "searchCriteria[sortOrders][0][direction]": "ASC",
        "searchCriteria[pageSize]": page_size,
    }


def main(argv: list[str] | None = None) -> None:
    """Seed, then time keyset pages of orders and an updated_at polling query."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--page-size", type=int, default=300)
    options = parser.parse_args(argv)

    store = SandboxStore(random_seed=7, bearer_enabled=True)
    started = time.perf_counter()
    store.seed(customers=options.customers, products=options.products, orders=options.orders)
    seeded = time.perf_counter() - started
    print(
        f"seeded {options.orders} orders, {options.customers} customers, "
        f"{options.products} products in {seeded:.2f} s"
    )

    in_store = []
    for round_number in range(options.rounds):
        last_id = options.orders // 2 + round_number * options.page_size * 3
        query = "&".join(f"{k}={v}" for k, v in _page_query(last_id, options.page_size).items())
        criteria = read_criteria(parse_query(query)["searchCriteria"], input_limits=True)
        began = time.perf_counter()
        store.search_json("orders", criteria)
        in_store.append((time.perf_counter() - began) * 1000)
    print(
        f"store side, page of {options.page_size} never-served orders (search + render + JSON): "
        f"median {statistics.median(in_store):.1f} ms, max {max(in_store):.1f} ms"
    )

    with SandboxServer(store) as server, requests.Session() as session:
        handled: list[float] = []
        answer = server.handle

        def timed_handle(*args):
            began = time.perf_counter()
            result = answer(*args)
            handled.append((time.perf_counter() - began) * 1000)
            return result

        server.handle = timed_handle
        session.headers["Authorization"] = f"Bearer {server.credentials.access_token}"
        url = f"{server.url}/rest/all/V1/orders"
        step = max(1, options.orders // options.rounds)
        timings = []
        for round_number in range(options.rounds + 1):
            last_id = (round_number * step) % max(options.orders - options.page_size, 1)
            began = time.perf_counter()
            response = session.get(url, params=_page_query(last_id, options.page_size))
            elapsed = time.perf_counter() - began
            response.raise_for_status()
            if round_number:  # the first request also opens the connection
                timings.append(elapsed * 1000)
        print(
            f"over HTTP with requests, page of {options.page_size} orders "
            f"(entity_id gt X, sorted by id), "
            f"{len(timings)} requests: median {statistics.median(timings):.1f} ms, "
            f"max {max(timings):.1f} ms, "
            f"{len(response.content) / 1024:.0f} KiB per page"
        )
        print(
            f"  of which inside the server (route, auth, search, render, JSON): "
            f"median {statistics.median(handled[1:]):.1f} ms, max {max(handled[1:]):.1f} ms"
        )
        handled.clear()
        for _round in range(5):
            session.get(url, params=_page_query(options.orders // 2, options.page_size))
        print(
            f"same page again (JSON cache warm), inside the server: "
            f"median {statistics.median(handled[1:]):.1f} ms"
        )
        poll = {
            "searchCriteria[filterGroups][0][filters][0][field]": "updated_at",
            "searchCriteria[filterGroups][0][filters][0][value]": store.orders.by_updated[-500][0],
            "searchCriteria[filterGroups][0][filters][0][conditionType]": "gteq",
            "searchCriteria[sortOrders][0][field]": "updated_at",
            "searchCriteria[sortOrders][0][direction]": "ASC",
            "searchCriteria[sortOrders][1][field]": "entity_id",
            "searchCriteria[sortOrders][1][direction]": "ASC",
            "searchCriteria[pageSize]": options.page_size,
        }
        began = time.perf_counter()
        session.get(url, params=poll).raise_for_status()
        print(f"updated_at polling page: {(time.perf_counter() - began) * 1000:.1f} ms")


if __name__ == "__main__":
    main()

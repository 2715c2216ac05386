"""`make bench`: the sandbox store's figures, then polling, runs and history, each figure beside a
baseline measured in the same run, a summary table, and one JSON object as the last line.

Usage: python -m benchmarks [--orders 100000] [--small-orders 10000] [--new-orders 1000]
       [--runs 2000] [--history-rows 1000000] [--history-small 1000] [--only ingest]

The database is a fresh SQLite file in a temporary folder, or, when DATABASE_URL points at
PostgreSQL, fresh databases created on that server and dropped at the end. It asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.database import Databases, child_environment, django_start
from magento.sandbox import FakeClock, SandboxServer, SandboxStore
from magento.sandbox import benchmark as sandbox_benchmark
from magento.sandbox.store import format_time

PROJECT = Path(__file__).resolve().parent.parent

TARGET_INGEST_RATIO = 1.5
TARGET_RSS_RATIO = 1.2
TARGET_IDLE_REQUESTS = 1
TARGET_RUN_RATIO = 2.0
TARGET_HISTORY_RATIO = 2.0
TARGET_HISTORY_QUERY_DELTA = 0


@dataclass
class Row:
    """One line of the summary: a figure, its baseline, their ratio and the target."""

    measure: str
    figure: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--orders", type=int, default=100_000, help="backlog polled (ingest)")
    parser.add_argument("--small-orders", type=int, default=10_000, help="smaller backlog (RSS)")
    parser.add_argument("--new-orders", type=int, default=1_000, help="new records in one poll")
    parser.add_argument("--runs", type=int, default=2_000, help="get_product_by_sku runs")
    parser.add_argument("--history-rows", type=int, default=1_000_000)
    parser.add_argument("--history-small", type=int, default=1_000)
    parser.add_argument("--history-repeats", type=int, default=3, help="requests per view")
    parser.add_argument("--sandbox-orders", type=int, default=100_000)
    parser.add_argument("--sandbox-changed", type=int, default=2_000)
    parser.add_argument("--sandbox-rounds", type=int, default=15)
    parser.add_argument(
        "--only",
        choices=["ingest"],
        help="measure only this part (ingest: parts 1 and 2, without the sandbox's figures)",
    )
    options = parser.parse_args(argv)
    if not 0 < options.small_orders < options.orders:
        parser.error("--small-orders must be above 0 and below --orders")
    if not 0 < options.history_small < options.history_rows:
        parser.error("--history-small must be above 0 and below --history-rows")
    return options


def _child(job: str, arguments: dict[str, Any], environment: dict[str, str]) -> dict[str, Any]:
    """Run one measured process (benchmarks/child.py) and read its JSON line."""
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.child", job, json.dumps(arguments)],
        cwd=PROJECT,
        env=environment,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"benchmark: the {job} process failed (exit {completed.returncode})")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _say(text: str) -> None:
    print(text, flush=True)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    options = _options(argv)
    began = time.monotonic()
    figures: dict[str, Any] = {}
    if not options.only:
        _say("== The sandbox store (magento/sandbox/benchmark.py)")
        figures = sandbox_benchmark.main(
            [
                f"--orders={options.sandbox_orders}",
                f"--changed={options.sandbox_changed}",
                f"--rounds={options.sandbox_rounds}",
            ]
        )
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as name:
        folder = Path(name)
        with Databases(folder) as databases:
            database_url = databases.create("portal")
            _say(f"\n== The portal, on {databases.vendor} (a new database for this run)")
            django_start(database_url, folder, migrate=True)
            environment = child_environment(database_url, folder)
            store = SandboxStore(clock=FakeClock(), random_seed=13, bearer_enabled=True)
            seeding = time.perf_counter()
            store.seed(customers=500, products=options.runs, orders=options.orders)
            _say(
                f"sandbox seeded with {options.orders:,} orders and {options.runs:,} products "
                f"in {time.perf_counter() - seeding:.1f} s"
            )
            with SandboxServer(store) as server:
                connection = _connection(server)
                figures.update(_ingest(server, connection, environment, options, rows))
                if not options.only:
                    figures.update(_requests(server, options, rows))
                    figures.update(_runs(store, connection, options, rows))
            if not options.only:
                history_url = databases.create("history")
                figures.update(_history(history_url, folder, options, rows))
    figures["database"] = databases.vendor
    figures["seconds"] = round(time.monotonic() - began, 1)
    _summary(rows, figures)
    _say(json.dumps(figures))
    return figures


def _connection(server: SandboxServer):
    from connections.models import AuthMethod, Connection, ConnectionStatus

    # An integration token sent as a bearer token, exactly as the bare HTTP loop sends it.
    return Connection.objects.create(
        name="Benchmark store",
        store_domain=server.url,
        auth_method=AuthMethod.INTEGRATION_TOKEN,
        access_token=server.credentials.access_token,
        status=ConnectionStatus.VERIFIED,
    )


# -- 1 and 2: ingest and memory -------------------------------------------------------------------


def _ingest(server, connection, environment, options, rows: list[Row]) -> dict[str, Any]:
    from automations.polling import PAGE_SIZE
    from automations.services import automation_create

    store = server.store
    everything = automation_create(
        name="Every order",
        connection=connection,
        trigger_id="order_created",
        options={"start": "all"},
    )
    # The smaller backlog: the newest `small_orders` orders (seeded one per created_at second).
    ids = sorted(store.orders.rows)
    first_recent = store.orders.rows[ids[len(ids) - options.small_orders]]["created_at"]
    recent = automation_create(
        name="Recent orders",
        connection=connection,
        trigger_id="order_created",
        options={"start": first_recent},
    )
    raw_arguments = {
        "url": f"{server.url}/rest/all/V1/orders",
        "token": server.credentials.access_token,
        "page_size": PAGE_SIZE,
    }
    poll_arguments = {"database_url": environment["BENCH_DATABASE_URL"]}
    poll_arguments["data_dir"] = environment["BENCH_DATA_DIR"]

    def measured(job: str, arguments: dict[str, Any]) -> dict[str, Any]:
        store._order_cache.clear()  # every walk renders its orders afresh
        figures = _child(job, arguments, environment)
        _say(f"  {job}: {json.dumps(figures)}")
        return figures

    _say(f"\n1. Ingest: {options.orders:,} orders, pages of {PAGE_SIZE}; raw, poll, raw again")
    raw_before = measured("raw", raw_arguments)
    poll_large = measured("poll", {**poll_arguments, "subscription_id": everything.trigger.pk})
    raw_after = measured("raw", raw_arguments)
    _say(f"2. Memory: the newest {options.small_orders:,} orders as a backlog of their own")
    poll_small = measured("poll", {**poll_arguments, "subscription_id": recent.trigger.pk})

    raw_seconds = statistics.mean([raw_before["seconds"], raw_after["seconds"]])
    raw_rate = raw_before["records"] / raw_seconds
    ingest_rate = poll_large["events"] / poll_large["seconds"]
    ingest_ratio = raw_rate / ingest_rate
    rss_ratio = poll_large["peak_rss_kib"] / poll_small["peak_rss_kib"]
    if poll_large["events"] != options.orders or poll_small["events"] != options.small_orders:
        _say(
            f"  WARNING: expected {options.orders} and {options.small_orders} events, got "
            f"{poll_large['events']} and {poll_small['events']}"
        )
    rows.append(
        Row(
            f"ingest {options.orders:,} orders: poll service -> events",
            f"{ingest_rate:,.0f} events/s",
            f"bare requests loop {raw_rate:,.0f} records/s "
            f"({raw_before['seconds']:.1f} s, {raw_after['seconds']:.1f} s)",
            f"{ingest_ratio:.2f}",
            f"<= {TARGET_INGEST_RATIO}",
        )
    )
    rows.append(
        Row(
            f"peak RSS draining {options.orders:,} orders",
            f"{poll_large['peak_rss_kib'] / 1024:.0f} MiB",
            f"{options.small_orders:,} orders {poll_small['peak_rss_kib'] / 1024:.0f} MiB",
            f"{rss_ratio:.2f}",
            f"<= {TARGET_RSS_RATIO}",
        )
    )
    return {
        "ingest_ratio": round(ingest_ratio, 3),
        "ingest_events_per_s": round(ingest_rate, 1),
        "raw_events_per_s": round(raw_rate, 1),
        "ingest_polls": poll_large["polls"],
        "rss_ratio": round(rss_ratio, 3),
        "rss_large_kib": poll_large["peak_rss_kib"],
        "rss_small_kib": poll_small["peak_rss_kib"],
    }


# -- 3: requests per poll --------------------------------------------------------------------------


def _requests(server, options, rows: list[Row]) -> dict[str, Any]:
    from automations.models import TriggerSubscription
    from automations.polling import PAGE_SIZE, subscription_poll

    store = server.store
    subscription = TriggerSubscription.objects.get(automation__name="Every order")
    _say("\n3. Requests: an idle poll, then a poll after new orders")
    server.requests.clear()
    idle = subscription_poll(subscription_id=subscription.pk)
    idle_requests = len(server.requests)
    store.clock.advance(10)
    store.seed(orders=options.new_orders, at=format_time(store.clock()))
    server.requests.clear()
    fresh = subscription_poll(subscription_id=subscription.pk)
    fresh_requests = len(server.requests)
    limit = math.ceil(options.new_orders / PAGE_SIZE) + 1
    _say(
        f"  idle poll: {idle_requests} request(s), {idle.new_events} new; "
        f"{options.new_orders} new orders: {fresh_requests} request(s), {fresh.new_events} new"
    )
    if not (idle.ok and fresh.ok) or fresh.new_events != options.new_orders:
        _say(f"  WARNING: polls: {idle.error or ''} {fresh.error or ''} {fresh.as_dict()}")
    rows.append(Row("HTTP requests of an idle poll", str(idle_requests), target="= 1"))
    rows.append(
        Row(
            f"HTTP requests for {options.new_orders:,} new orders",
            str(fresh_requests),
            f"{options.new_orders:,} / page of {PAGE_SIZE}",
            target=f"<= {limit}",
        )
    )
    return {"idle_poll_requests": idle_requests, "requests_per_1000_new": fresh_requests}


# -- 4: action runs --------------------------------------------------------------------------------


def _runs(store, connection, options, rows: list[Row]) -> dict[str, Any]:
    from automations.models import ActionRun, AutomationStep, RunStatus, TriggerEvent
    from automations.run_tasks import execute_events_runs
    from automations.runs import event_batches, runs_create_for_events
    from automations.services import automation_create
    from connections.clients import connection_client

    automation = automation_create(
        name="Look up products",
        connection=connection,
        trigger_id="product_created",
        enabled=False,
    )
    AutomationStep.objects.create(
        automation=automation,
        position=1,
        action_id="get_product_by_sku",
        connection=connection,
        inputs={"sku": "{{ trigger.sku }}"},
    )
    skus = [store.products.rows[i]["sku"] for i in sorted(store.products.rows)][: options.runs]
    events = TriggerEvent.objects.bulk_create(
        TriggerEvent(
            subscription=automation.trigger,
            automation=automation,
            automation_name=automation.name,
            connection=connection,
            trigger_id="product_created",
            entity_id=number,
            entity_key=sku,
            dedup_key=str(number),
            record={"id": number, "sku": sku},
            has_runs=True,  # as the poller stores them, knowing the step below
        )
        for number, sku in enumerate(skus, start=1)
    )
    runs_create_for_events(events)
    _say(f"\n4. Action runs: {len(skus):,} get_product_by_sku, worker's path and direct, in turns")
    client = connection_client(connection, max_retries=0)
    worker_seconds = direct_seconds = 0.0
    block = max(1, len(skus) // 10)

    def worker(chunk) -> float:
        began = time.perf_counter()
        # The tasks the poller queues for these events, as the worker runs them.
        for batch in event_batches(event.pk for event in chunk):
            execute_events_runs(batch)
        return time.perf_counter() - began

    def direct(chunk) -> float:
        began = time.perf_counter()
        for sku in chunk:
            client.products.get(sku)
        return time.perf_counter() - began

    with client:
        for turn, start in enumerate(range(0, len(skus), block)):
            event_chunk, sku_chunk = events[start : start + block], skus[start : start + block]
            if turn % 2:
                direct_seconds += direct(sku_chunk)
                worker_seconds += worker(event_chunk)
            else:
                worker_seconds += worker(event_chunk)
                direct_seconds += direct(sku_chunk)
    succeeded = ActionRun.objects.filter(automation=automation, status=RunStatus.SUCCEEDED).count()
    if succeeded != len(skus):
        _say(f"  WARNING: {succeeded} of {len(skus)} runs succeeded")
    runs_rate = len(skus) / worker_seconds
    direct_rate = len(skus) / direct_seconds
    ratio = worker_seconds / direct_seconds
    _say(f"  worker's path {worker_seconds:.2f} s, direct calls {direct_seconds:.2f} s")
    rows.append(
        Row(
            f"{len(skus):,} get_product_by_sku runs (worker's path)",
            f"{runs_rate:,.0f} runs/s",
            f"direct client calls {direct_rate:,.0f} calls/s",
            f"{ratio:.2f}",
            f"<= {TARGET_RUN_RATIO}",
        )
    )
    return {
        "run_ratio": round(ratio, 3),
        "runs_per_s": round(runs_rate, 1),
        "direct_calls_per_s": round(direct_rate, 1),
    }


# -- 5: history ------------------------------------------------------------------------------------


def _history(database_url: str, folder: Path, options, rows: list[Row]) -> dict[str, Any]:
    small, large = options.history_small, options.history_rows
    _say(
        f"\n5. History: the admin lists with {large:,} rows against {small:,} "
        "(a new database, filled by SQL)"
    )
    figures = _child(
        "history",
        {
            "database_url": database_url,
            "data_dir": str(folder),
            "small": small,
            "large": large,
            "sku": f"SKU-{small // 2:07d}",
            "repeats": options.history_repeats,
        },
        child_environment(database_url, folder),
    )
    _say(f"  filled in {figures['fill_s'][str(large)]:.1f} s")
    for name, notes in figures["notes"].items():
        if notes:
            _say(f"  {name}: {'; '.join(notes)}")
    worst_ratio, worst_delta = 0.0, 0
    for view, sizes in figures["views"].items():
        few, many = sizes[str(small)], sizes[str(large)]
        ratio = many["ms"] / few["ms"]
        delta = many["queries"] - few["queries"]
        worst_ratio = max(worst_ratio, ratio)
        worst_delta = max(worst_delta, delta, key=abs)
        _say(
            f"  {view}: {many['ms']:.0f} ms ({many['rows']} rows) vs {few['ms']:.0f} ms "
            f"({few['rows']} rows), {many['queries']} vs {few['queries']} queries; slowest at "
            f"{large:,}: {many['slowest_query_ms']:.0f} ms {many['slowest_query']}"
        )
        rows.append(
            Row(
                f"admin {view}, {large:,} rows",
                f"{many['ms']:.0f} ms, {many['queries']} queries",
                f"{small:,} rows {few['ms']:.0f} ms, {few['queries']} queries",
                f"{ratio:.2f}",
                f"<= {TARGET_HISTORY_RATIO}, delta {TARGET_HISTORY_QUERY_DELTA}",
            )
        )
    measured = bool(figures["views"])
    return {
        "history_time_ratio": round(worst_ratio, 3) if measured else None,
        "history_query_delta": worst_delta if measured else None,
        "history_views": sorted(figures["views"]),
        "history_not_measured": {name: notes for name, notes in figures["notes"].items() if notes},
    }


def _summary(rows: list[Row], figures: dict[str, Any]) -> None:
    headers = Row("measure", "figure", "baseline (same run)", "ratio", "target")
    columns = ("measure", "figure", "baseline", "ratio", "target")
    widths = [max(len(getattr(row, c)) for row in [headers, *rows]) for c in columns]
    _say(f"\nsummary ({figures.get('database')}, {figures.get('seconds')} s in all)")
    for row in [headers, *rows]:
        cells = [getattr(row, c).ljust(w) for c, w in zip(columns, widths, strict=True)]
        _say("  " + "  ".join(cells).rstrip())

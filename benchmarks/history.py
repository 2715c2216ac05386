"""History at scale: the run and event admin lists with many rows against few.

Each list registered in the admin (ActionRun, TriggerEvent) is requested through Django's test
client as a logged-in superuser, in three views: unfiltered, filtered by status (the list's
filter whose title or field says "status", its "Failed" choice when it has one) and searched by
a SKU (`?q=`). Times are medians of repeated requests; the database queries of one request are
counted. A list that is not registered, or has no status filter or search, is reported as such:
the benchmark measures the lists as they are, and picks up whatever the admin offers.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from benchmarks.database import bulk_fill, sql_json_sku, sql_moment, sql_sku, sql_text

# One run in fifty failed, one pending, the rest succeeded (%% is SQL's modulo, escaped).
RUN_STATUS_SQL = (
    "CASE WHEN n %% 50 = 0 THEN 'failed' WHEN n %% 50 = 1 THEN 'pending' ELSE 'succeeded' END"
)


def _fixtures():
    from django.contrib.auth import get_user_model

    from automations.services import automation_create
    from connections.models import AuthMethod, Connection, ConnectionStatus

    user = get_user_model().objects.create_superuser("bench-owner", "owner@example.com", "x")
    connection = Connection.objects.create(
        name="History store",
        store_domain="https://shop.example.com",
        auth_method=AuthMethod.INTEGRATION_TOKEN,
        access_token="history-benchmark-token",
        status=ConnectionStatus.VERIFIED,
    )
    automation = automation_create(
        name="History", connection=connection, trigger_id="product_created", enabled=False
    )
    return user, connection, automation


def _fill(connection_row, automation, *, first: int, count: int) -> None:
    from django.db import connection

    from automations.models import ActionRun, RunStatus, StartedBy, TriggerEvent

    vendor = connection.vendor
    moment = sql_moment(vendor)
    bulk_fill(
        TriggerEvent,
        TriggerEvent(
            subscription=automation.trigger,
            automation=automation,
            automation_name=automation.name,
            connection=connection_row,
            trigger_id="product_created",
            entity_id=0,
            record={},
            has_runs=True,  # each event gets its run below
        ),
        {
            "entity_id": "n",
            "entity_key": sql_sku(vendor),
            "dedup_key": sql_text(vendor),
            "record": sql_json_sku(vendor),
            "record_timestamp": moment,
            "detected_at": moment,
        },
        first=first,
        count=count,
    )
    bulk_fill(
        ActionRun,
        ActionRun(
            automation=automation,
            automation_name=automation.name,
            step_position=1,
            action_id="get_product_by_sku",
            connection=connection_row,
            connection_name=connection_row.name,
            status=RunStatus.SUCCEEDED,
            started_by=StartedBy.TRIGGER,
            attempts=1,
            request_method="GET",
        ),
        {
            # Run n belongs to event n (its first step), so the event list's run status filter
            # finds what the run list's status filter finds.
            "event_id": (
                f"(SELECT id FROM {TriggerEvent._meta.db_table} "  # noqa: S608 (names, an int)
                f"WHERE subscription_id = {int(automation.trigger.pk)} "
                f"AND NOT is_replay AND dedup_key = {sql_text(vendor)})"
            ),
            "status": RUN_STATUS_SQL,
            "subject": sql_sku(vendor),
            "request_path": f"'/V1/products/' || {sql_sku(vendor)}",
            "queued_at": moment,
            "started_at": moment,
            "finished_at": moment,
        },
        first=first,
        count=count,
    )
    if vendor == "postgresql":
        # What autovacuum does soon after a bulk load; SQLite has no statistics unless asked.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {TriggerEvent._meta.db_table}")
            cursor.execute(f"ANALYZE {ActionRun._meta.db_table}")


def _views(model_admin, request, sku: str) -> tuple[dict[str, str], list[str]]:
    """The three views' query strings (and the event list's "No runs"), and notes on views
    the list does not offer."""
    views = {"unfiltered": ""}
    notes: list[str] = []
    changelist = model_admin.get_changelist_instance(request)
    status_query = None
    without: list[dict] = []
    for spec in changelist.filter_specs:
        names = (
            f"{spec.title} {getattr(spec, 'field_path', '')} {getattr(spec, 'parameter_name', '')}"
        )
        if "status" not in names.lower():
            continue
        choices = [c for c in spec.choices(changelist) if not c.get("selected")]
        failed = [c for c in choices if str(c.get("display", "")).lower() == "failed"]
        picked = (failed or choices or [None])[0]
        # The event list's "No runs": every event has runs here, the case that once read
        # them all to prove it.
        without = [c for c in choices if str(c.get("display", "")).lower() == "no runs"]
        if picked is not None:
            status_query = picked["query_string"].lstrip("?")
            break
    if status_query:
        views["status"] = status_query
        if without:
            views["no runs"] = without[0]["query_string"].lstrip("?")
    else:
        notes.append("no status filter")
    if model_admin.search_fields:
        views["sku search"] = f"q={sku}"
    else:
        notes.append("no search")
    return views, notes


def _measure(client, url: str, query: str, repeats: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    target = f"{url}?{query}" if query else url
    client.get(target)  # warm-up: templates and caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(target)
    # Read now: the log is emptied when the next request starts.
    queries = list(captured.captured_queries)
    if response.status_code != 200:
        raise SystemExit(f"benchmark: {target} answered {response.status_code}")
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        client.get(target)
        times.append(time.perf_counter() - began)
    slowest = max(queries, key=lambda q: float(q["time"]), default=None)
    changelist = response.context_data.get("cl") if response.context_data else None
    return {
        "ms": statistics.median(times) * 1000,
        "queries": len(queries),
        "rows": getattr(changelist, "result_count", None),
        "slowest_query_ms": float(slowest["time"]) * 1000 if slowest else 0.0,
        "slowest_query": _short(slowest["sql"]) if slowest else "",
    }


def _short(sql: str) -> str:
    """The query without its column list: what it reads and how it filters."""
    start = sql.find(" FROM ")
    text = sql if start < 0 else "SELECT ..." + sql[start:]
    return text[:240]


def history_measure(*, small: int, large: int, sku: str, repeats: int) -> dict[str, Any]:
    """Fill both tables to `small` rows, measure; to `large` rows, measure again."""
    from django.contrib import admin
    from django.test import Client, RequestFactory
    from django.urls import reverse

    from automations.models import ActionRun, TriggerEvent

    user, connection_row, automation = _fixtures()
    client = Client()
    client.force_login(user)
    factory = RequestFactory()
    lists: dict[str, tuple[str, dict[str, str]]] = {}
    notes: dict[str, list[str]] = {}
    for model in (ActionRun, TriggerEvent):
        name = str(model._meta.verbose_name_plural)
        model_admin = admin.site._registry.get(model)
        if model_admin is None:
            notes[name] = ["not registered in the admin: not measured"]
            continue
        request = factory.get("/")
        request.user = user
        views, notes[name] = _views(model_admin, request, sku)
        info = (model._meta.app_label, model._meta.model_name)
        lists[name] = (reverse("admin:{}_{}_changelist".format(*info)), views)

    figures: dict[str, dict[str, dict[str, Any]]] = {}
    fill_seconds = {}
    for size, first, count in ((small, 1, small), (large, small + 1, large - small)):
        began = time.perf_counter()
        _fill(connection_row, automation, first=first, count=count)
        fill_seconds[size] = time.perf_counter() - began
        for name, (url, views) in lists.items():
            for view, query in views.items():
                key = f"{name}: {view}"
                figures.setdefault(key, {})[str(size)] = _measure(client, url, query, repeats)
    return {
        "small": small,
        "large": large,
        "views": figures,
        "notes": notes,
        "fill_s": fill_seconds,
    }

"""No duplicate events, decided by the unique index itself on each engine (SQLite; PostgreSQL):
a second automation on a store whose first automation's events fill the table, with the
table's statistics taken before the second has any, stores each record once, and reads back
nothing to do so. A poll that walks the whole store again stores nothing new.

Asking the table first which keys it has let PostgreSQL's planner read every event of the
subscription for each key once the statistics said the subscription had none (a second
automation's backlog grew slower with each page: 100 ms a page at 10,000 events)."""

from __future__ import annotations

import json

import pytest

from tests.engines.test_crashes import make_automation

pytestmark = pytest.mark.timeout(300)

EVENTS = "automations_triggerevent"


def drain(portal, subscription_id: int, *, from_start: bool = False) -> dict:
    printed = portal.shell(
        "from tests.engines.scenario import drain_watching_event_reads; "
        f"drain_watching_event_reads({subscription_id}, from_start={from_start})"
    )
    return json.loads(printed.strip().splitlines()[-1])


def test_a_second_automation_stores_each_record_once_by_the_unique_index(portal, sandbox_factory):
    shop = sandbox_factory(seed={"customers": 3, "products": 3, "orders": 450})
    portal.migrate()
    first = make_automation(portal, shop, "Every order")
    assert drain(portal, first["subscription"])["new_events"] == 450
    # Statistics that know only the first subscription, as autovacuum would leave them.
    portal.shell(
        f"from django.db import connection; connection.cursor().execute('ANALYZE {EVENTS}')"
    )

    second = make_automation(portal, shop, "Every order, again")
    drained = drain(portal, second["subscription"])
    assert (drained["new_events"], drained["duplicates"], drained["fetched"]) == (450, 0, 450)
    assert drained["event_reads"] == []

    again = drain(portal, second["subscription"], from_start=True)
    assert (again["new_events"], again["duplicates"], again["fetched"]) == (0, 450, 450)
    assert again["event_reads"] == []
    counts = portal.query(
        f"SELECT subscription_id, COUNT(*), COUNT(DISTINCT dedup_key) FROM {EVENTS} "
        "GROUP BY subscription_id ORDER BY subscription_id"
    )
    assert counts == [(first["subscription"], 450, 450), (second["subscription"], 450, 450)]

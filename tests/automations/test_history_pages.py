"""The dashboard, the history lists and a run's and an event's pages, as editors and auditors."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from automations.models import ActionRun, RunStatus, TriggerEvent
from tests.automations.history_helpers import (
    fill_history,
    history_automation,
    history_event,
    history_run,
)

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("automations_dashboard")
RUNS = reverse("admin:automations_actionrun_changelist")
EVENTS = reverse("admin:automations_triggerevent_changelist")


@pytest.fixture
def store(make_connection):
    return make_connection(name="Main store")


@pytest.fixture
def automation(store):
    return history_automation(store)


def test_the_admin_index_links_to_the_dashboard_first(editor_client):
    page = editor_client.get(reverse("admin:index")).content.decode()
    assert page.index(DASHBOARD) < page.index(reverse("admin:automations_actionrun_changelist"))


def test_the_dashboard_shows_connections_automations_failures_and_the_chart(
    editor_client, store, automation
):
    store.last_verified_at = timezone.now() - dt.timedelta(hours=3)
    store.save()
    event = history_event(automation, entity_id=42, key="000000042")
    failed = history_run(
        event,
        status=RunStatus.FAILED,
        subject="NOPE",
        error="The product that was requested doesn't exist.",
    )
    history_run(history_event(automation, entity_id=43, key="000000043"), subject="TEE")
    subscription = automation.trigger
    subscription.last_poll_at = timezone.now()
    subscription.last_poll_outcome = "ok"
    subscription.save()

    page = editor_client.get(DASHBOARD).content.decode()
    assert "Main store" in page and "Verified" in page and "3\xa0hours ago" in page
    row = re.search(r'<tr class="automation-row".*?</tr>', page, re.S).group(0)
    assert "Ship new orders" in row and "New orders on Main store" in row
    assert ">2</a>" in row  # events and runs in the last day
    assert 'status__exact=failed">1</a>' in row
    assert "doesn&#x27;t exist" in row
    failures = re.search(r'id="recent-failures".*?</div>', page, re.S).group(0)
    assert reverse("admin:automations_actionrun_change", args=[failed.pk]) in failures
    chart = re.search(r"<svg class=\"chart\".*?</svg>", page, re.S).group(0)
    assert chart.count('class="bar-succeeded"') == 1
    assert chart.count('class="bar-failed"') == 1
    assert "1 succeeded, 1 failed" in chart


def test_a_subscription_catching_up_shows_a_progress_bar_with_rate_and_time_left(
    editor_client, automation
):
    subscription = automation.trigger
    subscription.backlog_fetched = 3000
    subscription.backlog_remaining = 1000
    subscription.backlog_started_at = timezone.now() - dt.timedelta(minutes=10)
    subscription.save()
    page = editor_client.get(DASHBOARD).content.decode()
    box = re.search(r'id="catching-up".*?</table>', page, re.S).group(0)
    assert "3000 of 4000 records read (75%)" in box
    assert 'style="width: 75%"' in box
    assert "300 a minute, about 3 min left" in box


def test_the_dashboard_costs_the_same_queries_with_more_history(editor_client, store, automation):
    fill_history(automation, 5, failed_every=2)
    with CaptureQueriesContext(db_connection) as small:
        assert editor_client.get(DASHBOARD).status_code == 200
    other = history_automation(store, name="Second")
    fill_history(other, 300, failed_every=7)
    with CaptureQueriesContext(db_connection) as large:
        assert editor_client.get(DASHBOARD).status_code == 200
    assert len(large) == len(small)


def test_people_without_the_history_permission_do_not_see_the_dashboard(client, make_staff):
    client.force_login(make_staff("nobody"))
    assert client.get(DASHBOARD).status_code == 403


@pytest.mark.parametrize(
    "url, query",
    [
        (RUNS, {}),
        (RUNS, {"status__exact": "failed"}),
        (RUNS, {"q": "SKU-3"}),
        (RUNS, {"p": "2"}),
        (EVENTS, {}),
        (EVENTS, {"q": "100000003"}),
    ],
)
def test_history_lists_cost_the_same_queries_at_any_size_and_never_count_everything(
    editor_client, store, automation, url, query
):
    fill_history(automation, 120, failed_every=3)
    with CaptureQueriesContext(db_connection) as small:
        assert editor_client.get(url, query).status_code == 200
    fill_history(history_automation(store, name="Second"), 600, failed_every=3)
    with CaptureQueriesContext(db_connection) as large:
        response = editor_client.get(url, query)
    assert response.status_code == 200
    assert len(large) == len(small)
    for sql in (q["sql"] for q in large.captured_queries):
        if "COUNT(" in sql.upper():
            assert "LIMIT" in sql.upper(), sql


def test_the_run_list_counts_only_as_far_as_the_next_page(editor_client, automation):
    fill_history(automation, 130)
    page = " ".join(editor_client.get(RUNS).content.decode().split())
    assert 'Page 1 <a href="?p=2">Older &rsaquo;</a> &middot; more than 100 action runs' in page
    assert "Newer" not in page
    assert "Select all matching action runs" in page
    last = " ".join(editor_client.get(RUNS, {"p": "3"}).content.decode().split())
    assert "Newer</a> Page 3 &middot; 130 action runs" in last and "Older" not in last


@pytest.mark.parametrize(
    "term, found",
    [
        ("000000042", {"order"}),  # order increment id (the subject of create_shipment)
        ("Jane@Example.com", {"email"}),  # e-mail, typed in another case
        ("Tee/Red ü", {"sku"}),  # SKU, whole
        ("4242", {"order", "email"}),  # the Magento id of the trigger record
    ],
)
def test_the_run_list_finds_order_numbers_emails_skus_and_magento_ids(
    editor_client, automation, term, found
):
    order = history_event(automation, entity_id=4242, key="000000042")
    runs = {
        "order": history_run(
            order, subject="order 000000042", action_id="create_shipment", position=1
        ),
        "email": history_run(
            order, subject="jane@example.com", action_id="get_customer_by_email", position=2
        ),
        "sku": history_run(history_event(automation, entity_id=7, key="x"), subject="Tee/Red ü"),
    }
    page = editor_client.get(RUNS, {"q": term}).content.decode()
    shown = {name for name, run in runs.items() if f"/actionrun/{run.pk}/change/" in page}
    assert shown == found


def test_the_run_list_filters_by_status_action_automation_connection_trigger_and_date(
    editor_client, store, automation
):
    fill_history(automation, 4, failed_every=2)
    page = editor_client.get(RUNS).content.decode()
    for heading in ("status", "action", "automation", "connection", "trigger", "started by"):
        assert f"By {heading}" in page
    assert "By queued at" in page
    failed = editor_client.get(RUNS, {"status__exact": "failed"}).content.decode()
    assert failed.count("run-status-failed") == 2 and "run-status-succeeded" not in failed
    by_trigger = editor_client.get(RUNS, {"trigger": "customer_created"}).content.decode()
    assert "run-status-" not in by_trigger
    assert 'class="toplinks"' in page  # the date hierarchy


def test_the_event_list_searches_keys_and_ids_and_filters(editor_client, automation):
    history_event(automation, entity_id=77, key="jane@example.com")
    history_event(automation, entity_id=78, key="bob@example.com")
    page = editor_client.get(EVENTS, {"q": "JANE@example.com"}).content.decode()
    assert "jane@example.com" in page and "bob@example.com" not in page
    page = editor_client.get(EVENTS, {"q": "78"}).content.decode()
    assert "bob@example.com" in page and "jane@example.com" not in page
    assert "By trigger" in page and "By is replay" in page


def test_the_event_list_filters_by_its_runs_status(editor_client, automation):
    failed = history_event(automation, entity_id=1, key="failed@example.com")
    history_run(failed, status=RunStatus.SUCCEEDED, position=1)
    history_run(failed, status=RunStatus.FAILED, position=2)
    waiting = history_event(automation, entity_id=2, key="waiting@example.com")
    history_run(waiting, status=RunStatus.PENDING)
    succeeded = history_event(automation, entity_id=3, key="done@example.com")
    history_run(succeeded, status=RunStatus.SUCCEEDED)
    history_event(automation, entity_id=4, key="none@example.com")
    keys = ("failed", "waiting", "done", "none")

    def shown(value):
        page = editor_client.get(EVENTS, {"run_status": value}).content.decode()
        return {key for key in keys if f"{key}@example.com" in page}

    assert "By run status" in editor_client.get(EVENTS).content.decode()
    assert shown("failed") == {"failed"}
    assert shown("waiting") == {"waiting"}
    assert shown("succeeded") == {"done"}
    assert shown("none") == {"none"}


def test_each_run_status_choice_lists_exactly_its_events_newest_first(editor_client, automation):
    start = timezone.now() - dt.timedelta(hours=1)
    statuses = {
        "no runs": [],
        "failed among others": [RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.SKIPPED],
        "failed and waiting": [RunStatus.FAILED, RunStatus.PENDING],
        "pending after a success": [RunStatus.SUCCEEDED, RunStatus.PENDING],
        "running": [RunStatus.RUNNING],
        "all succeeded": [RunStatus.SUCCEEDED, RunStatus.SUCCEEDED],
        "succeeded and skipped": [RunStatus.SUCCEEDED, RunStatus.SKIPPED],
        "only skipped": [RunStatus.SKIPPED],
    }
    events = {}
    for number, (name, runs) in enumerate(statuses.items()):
        event = history_event(
            automation, entity_id=number, key=name, at=start + dt.timedelta(minutes=number)
        )
        for position, status in enumerate(runs, start=1):
            history_run(event, status=status, position=position)
        events[name] = event
    # A run started by hand belongs to no event: it makes no event failed.
    ActionRun.objects.create(action_id="get_product_by_sku", status=RunStatus.FAILED)

    def listed(value):
        response = editor_client.get(EVENTS, {"run_status": value})
        return [event.entity_key for event in response.context["cl"].result_list]

    def newest_first(*names):
        return sorted(names, key=lambda name: events[name].detected_at, reverse=True)

    assert listed("failed") == newest_first("failed among others", "failed and waiting")
    assert listed("waiting") == newest_first(
        "failed and waiting", "pending after a success", "running"
    )
    assert listed("succeeded") == newest_first("all succeeded", "succeeded and skipped")
    assert listed("none") == ["no runs"]
    assert len(listed("")) == len(statuses)


def test_the_run_status_filter_pages_through_its_events(editor_client, automation):
    start = timezone.now() - dt.timedelta(days=1)
    failed = []
    for number in range(120):
        event = history_event(
            automation,
            entity_id=number,
            key=f"event-{number}",
            at=start + dt.timedelta(minutes=number),
        )
        # Every other event failed (its second step), the rest succeeded.
        history_run(event, status=RunStatus.SUCCEEDED, position=1)
        if number % 2:
            history_run(event, status=RunStatus.FAILED, position=2)
            failed.append(event.entity_key)
    failed.reverse()  # newest first

    first = editor_client.get(EVENTS, {"run_status": "failed"}).context["cl"]
    assert [event.entity_key for event in first.result_list] == failed[:50]
    assert first.older_url and not first.count_capped  # 60 counted: all of them
    second = editor_client.get(EVENTS, {"run_status": "failed", "p": 2}).context["cl"]
    assert [event.entity_key for event in second.result_list] == failed[50:]
    assert not second.older_url


def test_a_runs_page_tells_its_story(editor_client, automation):
    event = history_event(automation, entity_id=42, key="000000042")
    run = history_run(
        event,
        status=RunStatus.FAILED,
        subject="NOPE",
        error="The product that was requested doesn't exist. Verify the product and try again.",
        response={"status": 404, "message": "The product that was requested doesn't exist."},
    )
    run.inputs = {"sku": "NOPE"}
    run.input_mapping = {"sku": "{{ trigger.items.0.sku }}"}
    run.save()
    page = editor_client.get(
        reverse("admin:automations_actionrun_change", args=[run.pk])
    ).content.decode()
    assert "Queued" in page and "Attempt 1: failed" in page and "Finished: Failed" in page
    assert "GET /V1/products/NOPE" in page
    assert "&quot;sku&quot;: &quot;NOPE&quot;" in page
    assert "{\n  &quot;status&quot;: 404," in page  # Magento's answer, pretty-printed
    assert "Verify the product and try again." in page
    assert reverse("admin:automations_triggerevent_change", args=[event.pk]) in page
    assert reverse("admin:automations_automation_change", args=[automation.pk]) in page
    assert 'id="retry-run"' in page


def test_an_events_page_shows_the_record_changed_fields_and_runs(editor_client, store):
    automation = history_automation(store, name="Customers", trigger_id="customer_updated")
    event = history_event(
        automation,
        entity_id=5,
        key="jane@example.com",
        record={"id": 5, "email": "jane@example.com", "lastname": "Doe-Smith"},
        changes={"lastname": {"old": "Doe", "new": "Doe-Smith"}},
    )
    run = history_run(event, subject="jane@example.com", action_id="get_customer_by_email")
    page = editor_client.get(
        reverse("admin:automations_triggerevent_change", args=[event.pk])
    ).content.decode()
    changes = re.search(r'id="event-changes".*?</table>', page, re.S).group(0)
    assert "lastname" in changes and "&quot;Doe&quot;" in changes
    assert "&quot;Doe-Smith&quot;" in changes
    assert "&quot;email&quot;: &quot;jane@example.com&quot;" in page
    assert reverse("admin:automations_actionrun_change", args=[run.pk]) in page
    assert 'id="replay-event"' in page


def test_auditors_see_every_page_without_retry_replay_or_run_controls(auditor_client, automation):
    event = history_event(automation, entity_id=42, key="000000042")
    run = history_run(event, status=RunStatus.FAILED, error="Gone.")
    pages = [
        DASHBOARD,
        RUNS,
        EVENTS,
        reverse("admin:automations_actionrun_change", args=[run.pk]),
        reverse("admin:automations_triggerevent_change", args=[event.pk]),
        reverse("admin:admin_logentry_changelist"),
    ]
    for url in pages:
        response = auditor_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        for control in (
            "retry-run",
            "replay-event",
            "retry_runs",
            "replay_events",
            "Run an action",
        ):
            assert control not in html, (url, control)
    assert (
        auditor_client.post(reverse("admin:automations_actionrun_retry", args=[run.pk])).status_code
        == 403
    )
    assert (
        auditor_client.post(
            reverse("admin:automations_triggerevent_replay", args=[event.pk])
        ).status_code
        == 403
    )
    auditor_client.post(RUNS, {"action": "retry_runs", "_selected_action": [run.pk]})
    assert ActionRun.objects.get(pk=run.pk).status == RunStatus.FAILED
    assert TriggerEvent.objects.count() == 1


def test_the_date_hierarchy_drills_down_without_scanning_the_list(editor_client, automation):
    old = timezone.now() - dt.timedelta(days=400)
    fill_history(automation, 2, start=old)
    fill_history(history_automation(automation.trigger.connection, name="New"), 2)
    top = editor_client.get(RUNS).content.decode()
    years = re.search(r'<nav class="toplinks">.*?</nav>', top, re.S).group(0)
    assert f"queued_at__year={old.year}" in years
    assert f"queued_at__year={timezone.now().year}" in years
    month = editor_client.get(
        RUNS, {"queued_at__year": old.year, "queued_at__month": old.month}
    ).content.decode()
    days = re.search(r'<nav class="toplinks">.*?</nav>', month, re.S).group(0)
    assert f"queued_at__day={old.day}" in days
    assert month.count("run-status-succeeded") == 2


@pytest.mark.parametrize("events", [30, 130], ids=["one page", "several pages"])
def test_a_filtered_list_walks_its_rows_once_for_the_count_and_the_page(
    editor_client, automation, events
):
    """The ids of the first matches are read once (bounded); the page is loaded by those ids,
    not by walking the filtered list a second time."""
    start = timezone.now() - dt.timedelta(days=1)
    failed = []
    for number in range(events):
        event = history_event(
            automation, entity_id=number, key=f"e-{number}", at=start + dt.timedelta(minutes=number)
        )
        history_run(event, status=RunStatus.FAILED if number % 2 else RunStatus.SUCCEEDED)
        if number % 2:
            failed.append(event.entity_key)
    failed.reverse()
    with CaptureQueriesContext(db_connection) as captured:
        listing = editor_client.get(EVENTS, {"run_status": "failed"}).context["cl"]
        shown = [event.entity_key for event in listing.result_list]
    assert shown == failed[:50]

    def outer_end(sql: str) -> str:
        return sql.rsplit(")", 1)[-1]  # what follows the last subquery: the outer ORDER BY, LIMIT

    probing = [q["sql"] for q in captured.captured_queries if "automations_actionrun" in q["sql"]]
    loads = [sql for sql in probing if '"id" IN (' in sql]
    # The date hierarchy's first and last match are one row each.
    walks = [sql for sql in probing if sql not in loads and not outer_end(sql).endswith("LIMIT 1")]
    assert len(walks) == 1 and outer_end(walks[0]).endswith("LIMIT 101"), walks
    assert len(loads) == 1 and "LIMIT" not in outer_end(loads[0]), loads

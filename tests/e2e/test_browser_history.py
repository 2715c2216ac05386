"""The run history in a real browser, as its users walk it; the README's screenshots come from
here (docs/*.png), so they show the pages as they are."""

from __future__ import annotations

from pathlib import Path

import pytest

from automations import runs
from automations.models import RunStatus
from tests.automations.history_helpers import fill_history
from tests.automations.runs_helpers import automation, fire, runs_of, sandbox_connection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def history(sandbox_factory, settings):
    """A sandbox store, an automation whose second step failed, and a day of older runs."""
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
    shop = sandbox_factory(seed={"customers": 0, "products": 0, "orders": 0})
    shop.store.product_save({"sku": "TEE-RED", "name": "Red tee", "price": 20})
    connection = sandbox_connection(shop, name="Sandbox shop")
    connection.last_verified_at = connection.created_at
    connection.save()
    made = automation(
        connection,
        ("get_product_by_sku", {"sku": "TEE-RED"}),
        ("get_product_by_sku", {"sku": "{{ trigger.items.0.sku }}"}),
        name="Check ordered products",
    )
    fill_history(made, 70, failed_every=9, minutes_apart=20)
    event = fire(made, {"entity_id": 9001, "increment_id": "000009001", "items": [{"sku": "MUG"}]})
    runs.event_runs_execute(event.pk)
    first, failed = runs_of(event)
    assert (first.status, failed.status) == (RunStatus.SUCCEEDED, RunStatus.FAILED)
    return shop, event, failed


def test_an_editor_opens_the_dashboard_reads_a_failed_run_and_retries_it(
    page, admin_login, live_server, editor, history
):
    shop, _event, failed = history
    page.set_viewport_size({"width": 1280, "height": 900})
    admin_login(editor)
    page.wait_for_url("**/admin/")
    page.click("#dashboard-link a")
    assert "Check ordered products" in page.inner_text("#automations")
    assert page.locator("#runs-chart rect.bar-failed").count() > 0
    page.screenshot(path=str(DOCS / "dashboard.png"), full_page=True)

    page.click(f'#recent-failures a[href$="/actionrun/{failed.pk}/change/"]')
    assert "Failed" in page.inner_text(".history-summary h2")
    answer = page.inner_text("#run-response")
    assert '"status": 404' in answer and "doesn't exist" in answer
    assert "Attempt 1: failed" in page.inner_text("#run-timeline")
    page.screenshot(path=str(DOCS / "run.png"), full_page=True)

    shop.store.product_save({"sku": "MUG", "name": "Mug", "price": 8})
    page.click("#retry-run")
    assert "retried, now succeeded" in page.inner_text(".messagelist")
    assert "Succeeded" in page.inner_text(".history-summary h2")
    assert "Retry asked by eddie-editor" in page.inner_text("#run-timeline")
    assert not page.is_visible("#retry-run")
    page.click("#run-event-link")
    assert page.locator("#event-runs .run-status-succeeded").count() == 2


def test_the_connection_form_screenshot(page, admin_login, live_server, editor):
    page.set_viewport_size({"width": 1280, "height": 900})
    admin_login(editor)
    page.goto(f"{live_server.url}/admin/connections/connection/add/")
    page.fill("#id_name", "Main store")
    page.fill("#id_store_domain", "shop.example.com")
    page.screenshot(path=str(DOCS / "connection-form.png"), full_page=True)


def test_an_auditor_sees_everything_and_no_control_to_change_or_run(
    page, admin_login, live_server, auditor, history
):
    _shop, event, failed = history
    admin_login(auditor)
    page.wait_for_url("**/admin/")
    base = live_server.url
    pages = {
        "/admin/": None,
        "/admin/dashboard/": "#automations",
        "/admin/automations/automation/": "#result_list",
        "/admin/automations/actionrun/": "#result_list",
        f"/admin/automations/actionrun/{failed.pk}/change/": "#run-response",
        "/admin/automations/triggerevent/": "#result_list",
        f"/admin/automations/triggerevent/{event.pk}/change/": "#event-record",
        "/admin/connections/connection/": "#result_list",
        f"/admin/connections/connection/{failed.connection_id}/change/": "#content-main",
        "/admin/admin/logentry/": "#content-main",
    }
    forbidden = (
        "a.addlink",
        "a.deletelink",
        "input[name=_save]",
        "input[name=_continue]",
        "#retry-run",
        "#replay-event",
        "button.connection-test-button",
        "select[name=action] option[value=retry_runs]",
        "select[name=action] option[value=replay_events]",
        "select[name=action] option[value=poll_now]",
        "select[name=action] option[value=test_connections]",
        "select[name=action] option[value=delete_selected]",
    )
    for url, shown in pages.items():
        page.goto(base + url)
        assert "/login/" not in page.url, url
        if shown:
            assert page.locator(shown).count() == 1, url
        for selector in forbidden:
            assert page.locator(selector).count() == 0, (url, selector)
        text = page.inner_text("#content")
        for word in ("Run an action", "Test connection", "Poll now"):
            assert word not in text, (url, word)

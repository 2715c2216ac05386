"""The editor's whole way through the portal in one real browser session, as issue 12 lists it:
log in, add a connection to the sandbox store and see it verified, build an automation with two
steps picking fields from the store's sample record, press Test, poll it, open a run and read
Magento's answer, and retry a run that failed. Everything talks real HTTP to the sandbox."""

from __future__ import annotations

import pytest

from automations.models import ActionRun, Automation, RunStatus

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture(autouse=True)
def private_network_allowed(settings):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True


def test_an_editor_walks_from_a_new_connection_to_a_retried_run(
    page, admin_login, live_server, editor, sandbox_factory
):
    shop = sandbox_factory(seed={"customers": 2, "products": 2, "orders": 0})
    sku = shop.store.products.rows[1]["sku"]
    shippable = shop.store.order_create(lines=[(sku, 1)], state="processing")
    held = shop.store.order_create(lines=[(sku, 2)], state="holded", status="holded")
    credentials = shop.credentials
    url = live_server.url

    # 1-2. Log in and add the store: OAuth 1.0a, verified on save.
    admin_login(editor)
    page.goto(f"{url}/admin/connections/connection/add/")
    page.fill("#id_name", "Sandbox shop")
    page.fill("#id_store_domain", shop.url)
    page.fill("#id_access_token", credentials.access_token)
    page.fill("#id_consumer_key", credentials.consumer_key)
    page.fill("#id_consumer_secret", credentials.consumer_secret)
    page.fill("#id_access_token_secret", credentials.access_token_secret)
    page.click("input[name=_save]")
    assert "Verified: " in page.inner_text(".messagelist")

    # 3. An automation with two steps, fields picked from the newest order's sample.
    page.goto(f"{url}/admin/automations/automation/add/")
    page.fill("#id_name", "Ship new orders")
    page.select_option("#id_connection", label="Sandbox shop")
    page.select_option("#id_trigger_id", "order_created")
    page.select_option("#id_start", "all")  # both orders already in the store fire
    page.wait_for_selector('#automation_form[data-sample="store"]')
    page.select_option("#id_step0-action", "get_product_by_sku")
    page.select_option("#id_step0-connection", label="Sandbox shop")
    page.locator(
        '#step-1 [data-action="get_product_by_sku"] select.reference-picker'
    ).first.select_option("trigger.items.0.sku")
    page.click("#add-step")
    page.select_option("#id_step1-action", "create_shipment")
    page.select_option("#id_step1-connection", label="Sandbox shop")
    page.locator("#step-2 .reference-field").filter(
        has=page.locator("#id_step1-create_shipment__order_increment_id")
    ).locator("select.reference-picker").select_option("trigger.increment_id")
    page.click('input[name="_continue"]')
    page.wait_for_selector(".messagelist .success")
    automation = Automation.objects.get(name="Ship new orders")

    # 4. Test: the read runs, the shipment is only shown.
    page.click("#automation-test-button")
    page.wait_for_selector(".automation-test-report")
    assert page.locator("#test-step-2").get_attribute("data-mode") == "planned"
    assert shop.store.shipments == {}

    # 5. Poll it from the list ("Poll now"); the worker's tasks run the steps.
    page.goto(f"{url}/admin/automations/automation/")
    page.check(f'input[name="_selected_action"][value="{automation.pk}"]')
    page.select_option('select[name="action"]', "poll_now")
    page.click('button[name="index"]')
    assert "2 new" in page.inner_text(".messagelist")
    shipped = [s for s in shop.store.shipments.values() if s["order_id"] == shippable["entity_id"]]
    assert len(shipped) == 1
    failed = ActionRun.objects.get(status=RunStatus.FAILED)
    assert failed.inputs["order_increment_id"] == held["increment_id"]

    # 6. Open a run that succeeded and read Magento's answer.
    done = ActionRun.objects.get(action_id="create_shipment", status=RunStatus.SUCCEEDED)
    page.goto(f"{url}/admin/automations/actionrun/")
    page.click(f'a[href$="/actionrun/{done.pk}/change/"]')
    assert "Succeeded" in page.inner_text(".history-summary h2")
    assert str(shipped[0]["entity_id"]) in page.inner_text("#run-response")

    # 7. The held order is released in the store; Retry ships it, once.
    page.goto(f"{url}/admin/automations/actionrun/{failed.pk}/change/")
    assert "hold" in page.inner_text("#run-error").lower()  # the refusal in words
    shop.store.order_update(held["entity_id"], {"state": "processing", "status": "processing"})
    page.click("#retry-run")
    assert "Succeeded" in page.inner_text(".history-summary h2")
    assert (
        len([s for s in shop.store.shipments.values() if s["order_id"] == held["entity_id"]]) == 1
    )

"""The automation form in a real browser: an editor builds a two-step automation, picking a
field from the sample record's list, saves it and presses Test. The screenshot of the form in
docs/ is made here, so it stays current."""

from __future__ import annotations

import pytest

from automations.models import Automation
from tests.automations.runs_helpers import sandbox_connection
from tests.shared_data import REPO_DIR

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

SCREENSHOT = REPO_DIR / "docs" / "automation-form.png"


@pytest.fixture(autouse=True)
def private_network_allowed(settings):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True


def test_an_editor_builds_a_two_step_automation_and_tests_it(
    admin_login, editor, sandbox_factory, live_server
):
    shop = sandbox_factory(seed={"customers": 2, "products": 3, "orders": 0})
    sku = shop.store.products.rows[2]["sku"]
    order = shop.store.order_create(lines=[(sku, 1)], state="processing")
    connection = sandbox_connection(shop)

    page = admin_login(editor)
    page.goto(f"{live_server.url}/admin/automations/automation/add/")
    page.fill("#id_name", "Ship new orders")
    page.select_option("#id_connection", str(connection.pk))
    page.select_option("#id_trigger_id", "order_created")
    # The chosen trigger's options appear; the sample comes from the store's newest order.
    assert page.locator('[data-trigger="order_created"]').is_visible()
    assert not page.locator('[data-trigger="customer_created"]').is_visible()
    page.wait_for_selector('#automation_form[data-sample="store"]')
    assert order["increment_id"] in page.locator("#sample-note").inner_text()

    page.select_option("#id_step0-action", "get_product_by_sku")
    page.select_option("#id_step0-connection", str(connection.pk))
    step1 = page.locator("#step-1")
    sku_row = step1.locator('[data-action="get_product_by_sku"] .reference-field').first
    assert "SKU" in sku_row.locator("label").inner_text()
    assert sku_row.locator(".required-mark").count() == 1
    # Pick the first item's SKU from the sample's field list.
    picker = sku_row.locator("select.reference-picker")
    assert picker.locator(f'option[value="trigger.items.0.sku"]:has-text("{sku}")').count() == 1
    picker.select_option("trigger.items.0.sku")
    assert page.input_value("#id_step0-get_product_by_sku__sku") == "{{ trigger.items.0.sku }}"

    page.click("#add-step")
    page.select_option("#id_step1-action", "create_shipment")
    page.select_option("#id_step1-connection", str(connection.pk))
    ship = page.locator('#step-2 [data-action="create_shipment"]')
    assert ship.is_visible()
    number = ship.locator(".reference-field").filter(
        has=page.locator("#id_step1-create_shipment__order_increment_id")
    )
    number.locator("select.reference-picker").select_option("trigger.increment_id")
    comment = ship.locator(".reference-field").filter(
        has=page.locator("#id_step1-create_shipment__comment")
    )
    page.fill("#id_step1-create_shipment__comment", "Packed: ")
    page.locator("#id_step1-create_shipment__comment").press("End")
    # Earlier steps' outputs are offered too.
    comment.locator("select.reference-picker").select_option("steps.1.name")
    assert page.input_value("#id_step1-create_shipment__comment") == "Packed: {{ steps.1.name }}"

    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    page.click('input[name="_continue"]')
    page.wait_for_selector(".messagelist .success")
    automation = Automation.objects.get(name="Ship new orders")
    assert [s.inputs for s in automation.steps.order_by("position")] == [
        {"sku": "{{ trigger.items.0.sku }}"},
        {
            "order_increment_id": "{{ trigger.increment_id }}",
            "comment": "Packed: {{ steps.1.name }}",
        },
    ]

    page.click("#automation-test-button")
    page.wait_for_selector(".automation-test-report")
    assert page.locator("#test-step-1").get_attribute("data-mode") == "read"
    assert page.locator("#test-step-2").get_attribute("data-mode") == "planned"
    assert f"POST /V1/order/{order['entity_id']}/ship" in page.locator("#test-step-2").inner_text()
    assert shop.store.shipments == {}

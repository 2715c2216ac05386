"""The automation page's Test: reads run for real, writes show the request they would send
unless "send for real" is ticked; only tests sent for real are recorded (started_by=test)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from automations.models import ActionRun, StartedBy
from automations.services import AutomationSpec, StepSpec, automation_save
from automations.testing import automation_test

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ship_automation(shop_connection):
    return automation_save(
        spec=AutomationSpec(
            name="Ship new orders",
            connection=shop_connection,
            trigger_id="order_created",
            steps=[
                StepSpec(
                    "get_product_by_sku", shop_connection, {"sku": "{{ trigger.items.0.sku }}"}
                ),
                StepSpec(
                    "create_shipment",
                    shop_connection,
                    {
                        "order_increment_id": "{{ trigger.increment_id }}",
                        "comment": "Packed: {{ steps.1.name }}",
                    },
                ),
            ],
        )
    )


@pytest.fixture
def order(shop):
    sku = shop.store.products.rows[1]["sku"]
    return shop.store.order_create(lines=[(sku, 2)], state="processing")


def test_a_test_reads_for_real_and_plans_the_write(ship_automation, order, shop):
    report = automation_test(automation=ship_automation)
    assert report.ok, report
    product, ship = report.steps
    assert (product.mode, ship.mode) == ("read", "planned")
    assert product.inputs == {"sku": order["items"][0]["sku"]}
    assert product.answer["sku"] == order["items"][0]["sku"]
    assert ship.inputs["comment"] == f"Packed: {product.answer['name']}"
    assert (ship.request_method, ship.request_path) == (
        "POST",
        f"/V1/order/{order['entity_id']}/ship",
    )
    assert ship.request_body["comment"]["comment"] == f"Packed: {product.answer['name']}"
    assert shop.store.shipments == {}  # nothing was sent
    assert not ActionRun.objects.exists()  # and nothing recorded


def test_send_for_real_ships_and_records_each_step_as_a_test_run(
    ship_automation, order, shop, editor
):
    report = automation_test(automation=ship_automation, send_for_real=True, user=editor)
    assert report.ok, report
    assert [step.mode for step in report.steps] == ["sent", "sent"]
    assert len(shop.store.shipments) == 1
    runs = list(ActionRun.objects.order_by("step_position"))
    assert [(r.step_position, r.status, r.started_by, r.user) for r in runs] == [
        (1, "succeeded", StartedBy.TEST, editor),
        (2, "succeeded", StartedBy.TEST, editor),
    ]
    assert runs[1].inputs["order_increment_id"] == order["increment_id"]


def test_a_refused_write_is_shown_in_plain_words(ship_automation, shop):
    sku = shop.store.products.rows[1]["sku"]
    shop.store.order_create(lines=[(sku, 1)], state="canceled")
    report = automation_test(automation=ship_automation)
    assert not report.ok
    assert report.steps[1].error.startswith("Order ")
    assert "canceled" in report.steps[1].error


def test_with_no_record_the_test_says_so(ship_automation):
    report = automation_test(automation=ship_automation)
    assert not report.ok and "has no new orders record yet" in report.error
    assert report.steps == []


def test_a_missing_path_stops_the_test_at_that_step(ship_automation, order):
    step = ship_automation.steps.get(position=1)
    step.inputs = {"sku": "{{ trigger.items.5.sku }}"}
    step.save()
    report = automation_test(automation=ship_automation)
    first, second = report.steps
    assert "trigger.items.5.sku does not exist" in first.error
    assert second.error == "Not run: an earlier step failed."


def test_the_test_page(editor_client, ship_automation, order, shop):
    url = reverse("admin:automations_automation_test", args=[ship_automation.pk])
    assert editor_client.get(url).status_code == 405
    page = editor_client.post(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="test-step-1" data-mode="read" data-ok="yes"' in html
    assert 'id="test-step-2" data-mode="planned" data-ok="yes"' in html
    assert f"POST /V1/order/{order['entity_id']}/ship" in html
    assert "Magento&#x27;s answer" in html or "Magento's answer" in html
    page = editor_client.post(url, {"send_for_real": "on"})
    assert 'data-mode="sent"' in page.content.decode()
    assert len(shop.store.shipments) == 1

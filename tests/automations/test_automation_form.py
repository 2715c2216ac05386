"""The automation form in the admin (Django's test client): fields generated from the
catalogs, the sample record's fields, saving through the services, errors naming the step and
the field, and nothing saved half-way."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from automations.models import Automation, AutomationStep, TriggerSubscription

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/automations/automation/add/"


def form_data(store, **overrides):
    """What the browser posts for a two-step "ship new orders" automation."""
    data = {
        "name": "Ship new orders",
        "enabled": "on",
        "description": "",
        "connection": str(store.pk),
        "trigger_id": "order_created",
        "start": "now",
        "start_date": "",
        "poll_interval_minutes": "5",
        "opt__order_created__status": "pending, processing",
        "step_slots": "3",
        "step0-action": "get_product_by_sku",
        "step0-connection": str(store.pk),
        "step0-get_product_by_sku__sku": "{{ trigger.items.0.sku }}",
        "step1-action": "create_shipment",
        "step1-connection": str(store.pk),
        "step1-create_shipment__order_increment_id": "{{ trigger.increment_id }}",
        "step1-create_shipment__comment": "Packed: {{ steps.1.name }}",
        "step2-action": "",
    }
    data.update(overrides)
    return data


def test_the_add_page_offers_every_trigger_option_and_action_input(editor_client, shop_connection):
    page = editor_client.get(ADD_URL)
    assert page.status_code == 200
    html = page.content.decode()
    # The trigger's filters as real fields, and each action's inputs with labels and help.
    assert 'name="opt__order_created__status"' in html
    assert 'name="opt__customer_updated__include_creations"' in html or "customer_updated" in html
    assert 'name="step0-create_shipment__order_increment_id"' in html
    assert "Order number" in html and "The order number customers see" in html
    assert 'name="step0-create_customer__email"' in html
    assert 'class="required-mark"' in html  # create_customer's e-mail is required
    assert "automation_form.js" in html


def test_saving_creates_the_automation_its_trigger_and_ordered_steps(
    editor_client, shop_connection, editor
):
    response = editor_client.post(ADD_URL, form_data(shop_connection))
    assert response.status_code == 302, response.content.decode()[:3000]
    automation = Automation.objects.get(name="Ship new orders")
    assert automation.enabled and automation.created_by == editor
    subscription = automation.trigger
    assert subscription.trigger_id == "order_created"
    assert subscription.options == {"start": "now", "status": ["pending", "processing"]}
    assert subscription.poll_interval_minutes == 5
    steps = list(automation.steps.order_by("position"))
    assert [(s.position, s.action_id) for s in steps] == [
        (1, "get_product_by_sku"),
        (2, "create_shipment"),
    ]
    assert steps[1].inputs == {
        "order_increment_id": "{{ trigger.increment_id }}",
        "comment": "Packed: {{ steps.1.name }}",
    }
    assert response["Location"] == reverse(
        "admin:automations_automation_change", args=[automation.pk]
    )


def test_the_change_page_shows_the_saved_values_and_the_schedule(editor_client, shop_connection):
    editor_client.post(ADD_URL, form_data(shop_connection))
    automation = Automation.objects.get()
    page = editor_client.get(reverse("admin:automations_automation_change", args=[automation.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="Ship new orders"' in html
    assert 'value="pending, processing"' in html
    assert "{{ trigger.items.0.sku }}" in html
    assert 'id="automation-schedule"' in html and "Next poll" in html
    assert 'id="automation-test-button"' in html


def test_changing_interval_enabled_and_steps_keeps_the_cursor(editor_client, shop_connection):
    editor_client.post(ADD_URL, form_data(shop_connection))
    automation = Automation.objects.get()
    TriggerSubscription.objects.filter(automation=automation).update(cursor_entity_id=41)
    step_ids = list(automation.steps.order_by("position").values_list("pk", flat=True))
    url = reverse("admin:automations_automation_change", args=[automation.pk])
    response = editor_client.post(
        url,
        form_data(
            shop_connection,
            enabled="",
            poll_interval_minutes="15",
            **{"step1-remove": "on"},
        ),
    )
    assert response.status_code == 302
    automation.refresh_from_db()
    subscription = TriggerSubscription.objects.get(automation=automation)
    assert not automation.enabled
    assert subscription.poll_interval_minutes == 15
    assert subscription.cursor_entity_id == 41  # same trigger and store: the walk continues
    assert list(automation.steps.values_list("pk", flat=True)) == step_ids[:1]


def test_a_new_trigger_type_starts_a_new_walk(editor_client, shop_connection):
    editor_client.post(ADD_URL, form_data(shop_connection))
    automation = Automation.objects.get()
    old = automation.trigger.pk
    TriggerSubscription.objects.filter(pk=old).update(cursor_entity_id=41)
    url = reverse("admin:automations_automation_change", args=[automation.pk])
    data = form_data(shop_connection, trigger_id="customer_created")
    data.pop("opt__order_created__status")
    response = editor_client.post(url, data)
    assert response.status_code == 302
    subscription = TriggerSubscription.objects.get(automation=automation)
    assert subscription.pk != old and subscription.trigger_id == "customer_created"
    assert subscription.cursor_entity_id is None


def test_errors_name_the_step_and_the_field_and_nothing_is_saved(editor_client, shop_connection):
    data = form_data(
        shop_connection,
        **{
            "step1-create_shipment__order_id": "forty-two",
            "step1-create_shipment__comment": "{{ steps.2.id }}",
            "step0-get_product_by_sku__sku": "",
        },
    )
    response = editor_client.post(ADD_URL, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Step 1 (Find a product by SKU), SKU: this input is required." in html
    assert "Step 2 (Ship an order), Order ID: Expected a whole number" in html
    assert "refers to step 2, which does not run before step 2" in html
    assert Automation.objects.count() == 0 and AutomationStep.objects.count() == 0
    # What was typed is kept.
    assert 'value="forty-two"' in html


def test_an_automation_needs_a_step(editor_client, shop_connection):
    data = form_data(shop_connection, **{"step0-action": "", "step1-action": ""})
    response = editor_client.post(ADD_URL, data)
    assert response.status_code == 200
    assert "add at least one step" in response.content.decode()
    assert not Automation.objects.exists()


def test_the_sample_fields_come_from_the_newest_record_in_the_store(
    editor_client, shop_connection, shop
):
    shop.store.order_create(lines=[(shop.store.products.rows[1]["sku"], 1)])
    newest = shop.store.order_create(lines=[(shop.store.products.rows[2]["sku"], 2)])
    url = reverse("admin:automations_automation_sample_fields")
    answer = editor_client.get(
        url, {"trigger": "order_created", "connection": shop_connection.pk}
    ).json()
    assert answer["source"] == "store"
    fields = dict(answer["fields"])
    assert fields["increment_id"] == newest["increment_id"]
    assert fields["items.0.sku"] == shop.store.products.rows[2]["sku"]
    assert "items" in fields and newest["increment_id"] in answer["note"]


def test_with_no_record_yet_the_sample_fields_are_the_declared_ones(editor_client, shop_connection):
    url = reverse("admin:automations_automation_sample_fields")
    answer = editor_client.get(
        url, {"trigger": "order_created", "connection": shop_connection.pk}
    ).json()
    assert answer["source"] == "declared"
    assert "has no new orders record yet" in answer["note"]
    assert ["increment_id", ""] in answer["fields"]


def test_auditors_see_the_form_but_cannot_save_or_test(editor_client, auditor, shop_connection):
    editor_client.post(ADD_URL, form_data(shop_connection))
    auditor_client = Client()
    auditor_client.force_login(auditor)
    automation = Automation.objects.get()
    url = reverse("admin:automations_automation_change", args=[automation.pk])
    page = auditor_client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="Save"' not in html and "automation-test-button" not in html
    assert " disabled" in html
    assert auditor_client.post(url, form_data(shop_connection, name="Hijacked")).status_code == 403
    assert auditor_client.get(ADD_URL).status_code == 403
    test_url = reverse("admin:automations_automation_test", args=[automation.pk])
    assert auditor_client.post(test_url).status_code == 403
    assert Automation.objects.get().name == "Ship new orders"

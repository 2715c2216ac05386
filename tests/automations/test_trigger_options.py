"""Trigger options over real HTTP: the start point, each filter (sent to the store, never applied
after fetching), and customer_updated's creations and changed fields."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from automations.models import TriggerEvent, TriggerSubscription
from automations.triggers import get_trigger, trigger_choices
from magento.search import parse_magento_time

pytestmark = pytest.mark.django_db


def fired(automation):
    return sorted(
        TriggerEvent.objects.filter(automation=automation).values_list("entity_id", flat=True)
    )


def customer(store, number, **fields):
    return store.customer_create(
        {
            "email": f"c{number}@example.com",
            "firstname": "Ann",
            "lastname": f"Lee{number}",
            **fields,
        }
    )


def test_the_catalog_has_the_four_triggers_with_their_labels():
    assert trigger_choices() == [
        ("customer_created", "New customers"),
        ("customer_updated", "Customers updated"),
        ("order_created", "New orders"),
        ("product_created", "New products"),
    ]
    for trigger_id, _ in trigger_choices():
        trigger = get_trigger(trigger_id)
        assert trigger.description and trigger.sample_fields and trigger.key_field
        assert trigger.search_path.startswith("/V1/")


def test_start_now_fires_only_what_comes_after_enabling_even_before_the_first_poll(
    shop, make_automation, poll
):
    store = shop.store
    store.seed(orders=20)
    automation = make_automation()  # "start": "now" by default
    store.clock.advance(5)
    made = [store.order_create()["entity_id"] for _ in range(2)]
    result = poll(automation)
    assert fired(automation) == made
    assert result.requests == 1


def test_start_all_fires_everything_in_the_store(shop, make_automation, poll):
    shop.store.seed(orders=20)
    automation = make_automation(options={"start": "all"})
    poll(automation)
    assert fired(automation) == sorted(shop.store.orders.rows)


def test_start_at_a_date_backfills_from_then(shop, make_automation, poll):
    store = shop.store
    store.seed(orders=90, days=90)
    since = dt.datetime.fromtimestamp(store.clock(), dt.UTC) - dt.timedelta(days=30)
    automation = make_automation(options={"start": since.isoformat()})
    poll(automation)
    expected = sorted(
        order_id
        for order_id, row in store.orders.rows.items()
        if parse_magento_time(row["created_at"]) >= since.replace(microsecond=0)
    )
    assert 25 <= len(expected) <= 35
    assert fired(automation) == expected


def test_options_are_validated_with_the_field_named(shop_connection, make_automation):
    with pytest.raises(ValidationError) as error:
        make_automation(options={"start": "yesterday"})
    assert "start" in str(error.value)
    with pytest.raises(ValidationError, match="colour"):
        make_automation(options={"colour": "red"})
    with pytest.raises(ValidationError, match="whole number"):
        make_automation(options={"store_id": "one"})
    with pytest.raises(ValidationError, match="not one of"):
        make_automation("product_created", options={"type_id": "spaceship"})
    with pytest.raises(ValidationError, match="trigger"):
        make_automation("order_shipped")
    with pytest.raises(ValidationError, match="1 to 60"):
        make_automation(poll_interval_minutes=61)


def test_order_status_filter_is_sent_to_the_store(shop, make_automation, poll):
    store = shop.store
    automation = make_automation(options={"status": ["processing", "holded"]})
    store.clock.advance(5)
    wanted = [
        store.order_create(state="processing")["entity_id"],
        store.order_create(state="holded", status="holded")["entity_id"],
    ]
    store.order_create(state="new")
    store.order_create(state="complete")
    result = poll(automation)
    assert fired(automation) == wanted
    assert result.fetched == 2  # the store filtered: nothing was fetched and dropped


def test_order_store_and_customer_group_filters(shop, make_automation, poll):
    store = shop.store
    by_store = make_automation(name="Store 2", options={"store_id": 2})
    by_group = make_automation(name="Guests", options={"customer_group_id": [0]})
    store.clock.advance(5)
    member = customer(store, 1, group_id=1)
    second_store = store.order_create(customer_id=member["id"])["entity_id"]
    store.order_update(second_store, {"store_id": 2})
    guest = store.order_create()["entity_id"]
    assert poll(by_store).fetched == 1 and fired(by_store) == [second_store]
    assert poll(by_group).fetched == 1 and fired(by_group) == [guest]


def test_customer_website_store_and_group_filters(shop, make_automation, poll):
    store = shop.store
    website = make_automation("customer_created", name="W2", options={"website_id": 2})
    view = make_automation("customer_created", name="S3", options={"store_id": [3]})
    group = make_automation("customer_created", name="G4", options={"group_id": 4})
    store.clock.advance(5)
    in_website = customer(store, 1, website_id=2)["id"]
    in_view = customer(store, 2, store_id=3)["id"]
    in_group = customer(store, 3, group_id=4)["id"]
    customer(store, 4)
    for automation, expected in ((website, in_website), (view, in_view), (group, in_group)):
        assert poll(automation).fetched == 1
        assert fired(automation) == [expected]
    event = TriggerEvent.objects.get(automation=group)
    assert event.entity_key == "c3@example.com"


def test_product_type_and_attribute_set_filters(shop, make_automation, poll):
    store = shop.store
    virtual = make_automation("product_created", name="V", options={"type_id": "virtual"})
    in_set = make_automation("product_created", name="A", options={"attribute_set_id": [9]})
    store.clock.advance(5)
    made_virtual = store.product_save(
        {"sku": "gift/card 50", "name": "Gift card", "price": 50, "type_id": "virtual"}
    )
    made_in_set = store.product_save(
        {"sku": "tee-9", "name": "Tee", "price": 9, "attribute_set_id": 9}
    )
    store.product_save({"sku": "plain", "name": "Plain", "price": 1})
    assert poll(virtual).fetched == 1 and fired(virtual) == [made_virtual["id"]]
    assert poll(in_set).fetched == 1 and fired(in_set) == [made_in_set["id"]]
    assert TriggerEvent.objects.get(automation=virtual).entity_key == "gift/card 50"


def test_customer_updated_leaves_out_creations_and_reports_changed_fields(
    shop, make_automation, poll
):
    store = shop.store
    automation = make_automation("customer_updated")
    store.clock.advance(5)
    ann = customer(store, 1)
    first = poll(automation)
    assert (first.new_events, first.left_out) == (0, 1)
    store.clock.advance(5)
    store.customer_replace(ann["id"], {**store.customer_get(ann["id"]), "lastname": "Smith"})
    poll(automation)
    event = TriggerEvent.objects.get(automation=automation)
    assert event.changes == {"lastname": {"old": "Lee1", "new": "Smith"}}
    assert event.dedup_key == f"{ann['id']}@{store.customer_get(ann['id'])['updated_at']}"
    store.clock.advance(5)
    store.customer_replace(
        ann["id"], {**store.customer_get(ann["id"]), "firstname": "Anne", "dob": "1990-02-03"}
    )
    poll(automation)
    latest = TriggerEvent.objects.filter(automation=automation).order_by("-id").first()
    assert latest.changes == {
        "dob": {"old": None, "new": "1990-02-03"},
        "firstname": {"old": "Ann", "new": "Anne"},
    }
    assert TriggerEvent.objects.filter(automation=automation).count() == 2


def test_customer_updated_can_include_creations(shop, make_automation, poll):
    store = shop.store
    automation = make_automation("customer_updated", options={"include_created": True})
    store.clock.advance(5)
    ann = customer(store, 1)
    result = poll(automation)
    assert (result.new_events, result.left_out) == (1, 0)
    event = TriggerEvent.objects.get(automation=automation)
    assert event.entity_id == ann["id"] and event.changes is None


def test_each_event_records_what_a_person_needs(shop, make_automation, poll):
    store = shop.store
    automation = make_automation()
    store.clock.advance(5)
    order = store.order_create()
    poll(automation)
    event = TriggerEvent.objects.get(automation=automation)
    subscription = TriggerSubscription.objects.get(automation=automation)
    assert event.subscription == subscription and event.trigger_id == "order_created"
    assert event.entity_id == order["entity_id"] and event.entity_key == order["increment_id"]
    assert event.record["increment_id"] == order["increment_id"] and event.record["items"]
    assert event.record_timestamp == parse_magento_time(order["created_at"])
    assert event.lag_seconds is not None and event.is_replay is False
    assert event.automation_name == automation.name

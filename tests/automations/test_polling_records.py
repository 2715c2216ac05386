"""A polled record is stored as the JSON text the store sent (never encoded again) and reads
back through the ORM equal to what the store sent: escaped slashes, unicode escapes, raw UTF-8,
numbers, nesting and spacing alike."""

from __future__ import annotations

import json

import pytest
import responses
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone

from automations import polling
from automations.models import TriggerEvent
from magento.search import parse_magento_time
from tests.connections.helpers import REST, oauth_fields

pytestmark = pytest.mark.django_db

ORDERS = f"{REST}/all/V1/orders"
# As PHP's json_encode writes them (slashes and non-ASCII escaped), and as a store that sends
# raw UTF-8 with spacing of its own might.
ORDER_1 = (
    '{"entity_id":1,"increment_id":"000000001","created_at":"2024-05-01 10:00:00",'
    '"customer_email":"zo\\u00eb@example.com","customer_firstname":"Zo\\u00eb \\ud83d\\ude00",'
    '"store_name":"Main Website\\nMain Website Store\\nDefault Store View",'
    '"extension_attributes":{"url":"https:\\/\\/shop.example.com\\/a\\/b?x=1&y=\\"2\\""},'
    '"grand_total":10.50,"base_grand_total":1e2,"weight":0.30000000000000004,'
    '"items":[{"sku":"A\\/B","qty_ordered":1,"tax_percent":null}],"is_virtual":0,"flag":true}'
)
ORDER_2 = (
    '{ "entity_id" : 2 , "increment_id" : "000000002" ,\n'
    '  "created_at" : "2024-05-01 10:00:01" , "customer_firstname" : "Ünïcødé — 日本語 😀" ,\n'
    '  "customer_email" : "raw@example.com" , "note" : "tab\\there \\\\ back\\/slash \\u0041" ,\n'
    '  "items" : [ ] , "payment" : { "additional_information" : [ "a" , "b" ] } }'
)


def answer(*items: str) -> str:
    return (
        f'{{"items":[{",".join(items)}],"search_criteria":{{"page_size":100}},'
        f'"total_count":{len(items)}}}'
    )


@pytest.fixture
def connection(make_connection):
    return make_connection(**oauth_fields())


@pytest.fixture
def make_order_automation(connection):
    from automations.services import automation_create

    def make():
        return automation_create(
            name="Every order",
            connection=connection,
            trigger_id="order_created",
            options={"start": "all"},
        )

    return make


def stored_text(event_id: int) -> str:
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT record FROM automations_triggerevent WHERE id = %s", [event_id])
        return cursor.fetchone()[0]


def test_each_record_reads_back_equal_to_what_the_store_sent(store_mock, make_order_automation):
    store_mock.add(responses.GET, ORDERS, body=answer(ORDER_1, ORDER_2))
    automation = make_order_automation()
    result = polling.subscription_poll(subscription_id=automation.trigger.pk)
    assert (result.ok, result.new_events) == (True, 2), result.error
    events = list(TriggerEvent.objects.filter(automation=automation).order_by("entity_id"))
    assert [event.record for event in events] == [json.loads(ORDER_1), json.loads(ORDER_2)]
    first, second = events
    assert first.record["extension_attributes"]["url"] == 'https://shop.example.com/a/b?x=1&y="2"'
    assert first.record["customer_firstname"] == "Zoë 😀"
    assert second.record["customer_firstname"] == "Ünïcødé — 日本語 😀"
    assert second.record["note"] == "tab\there \\ back/slash A"
    # The rest of the row is as the poll always wrote it.
    assert (first.entity_id, first.entity_key, first.dedup_key) == (1, "000000001", "1")
    assert first.record_timestamp == parse_magento_time("2024-05-01 10:00:00")
    assert first.trigger_id == "order_created" and first.is_replay is False
    assert first.subscription_id == automation.trigger.pk
    assert first.connection_id == automation.trigger.connection_id
    assert first.automation_name == "Every order" and first.changes is None
    assert first.lag_seconds > 0 and first.replay_of_id is None
    if db_connection.vendor == "sqlite":
        # Stored as sent: not decoded and encoded again.
        assert [stored_text(event.pk) for event in events] == [ORDER_1, ORDER_2]


def test_a_record_whose_text_was_not_kept_is_encoded_as_the_orm_encodes_it(
    make_order_automation,
):
    automation = make_order_automation()
    subscription = automation.trigger
    now = timezone.now()
    item = json.loads(ORDER_1)
    row = {
        "subscription_id": subscription.pk,
        "automation_id": automation.pk,
        "automation_name": automation.name,
        "connection_id": subscription.connection_id,
        "trigger_id": "order_created",
        "entity_id": 1,
        "entity_key": "000000001",
        "dedup_key": "1",
        "record": item,
        "changes": {"email": {"old": "a/é", "new": "b"}},
        "record_timestamp": now,
        "detected_at": now,
        "lag_seconds": 0.5,
    }
    with transaction.atomic():
        (event,) = polling._events_insert([row], {})
    assert event.pk is not None and event.is_replay is False and event.record is item
    stored = TriggerEvent.objects.get(pk=event.pk)
    assert stored.record == item
    assert stored.changes == {"email": {"old": "a/é", "new": "b"}}
    assert (stored.detected_at, stored.record_timestamp, stored.lag_seconds) == (now, now, 0.5)


def test_orders_with_awkward_text_from_the_sandbox_read_back_as_served(shop, make_automation, poll):
    shop.store.seed(orders=150)
    store = shop.store
    for number, order_id in enumerate(sorted(store.orders.rows)[:3]):
        store.orders.rows[order_id]["customer_firstname"] = f'Zoë/{number} "😀" \\ 日本'
    store._order_cache.clear()
    automation = make_automation(options={"start": "all"})
    result = poll(automation, page_size=100)
    assert (result.ok, result.new_events) == (True, 150), result.error
    from connections.clients import connection_client

    with connection_client(automation.trigger.connection) as client:  # as the poll asks
        sent = client.request("GET", "/V1/orders", params=[("searchCriteria[pageSize]", 200)])
    by_id = {item["entity_id"]: item for item in sent["items"]}
    events = TriggerEvent.objects.filter(automation=automation)
    stored = {event.entity_id: event.record for event in events}
    assert stored == by_id
    assert stored[min(by_id)]["customer_firstname"] == 'Zoë/0 "😀" \\ 日本'


@pytest.mark.parametrize("returning", [True, False], ids=["returning", "sqlite-before-3.35"])
def test_an_insert_returns_only_the_events_whose_keys_are_new(
    make_order_automation, monkeypatch, returning
):
    automation = make_order_automation()
    subscription = automation.trigger
    now = timezone.now()

    def row(number: int) -> dict:
        return {
            "subscription_id": subscription.pk,
            "automation_id": automation.pk,
            "automation_name": automation.name,
            "connection_id": subscription.connection_id,
            "trigger_id": "order_created",
            "entity_id": number,
            "entity_key": f"{number:09d}",
            "dedup_key": str(number),
            "record": {"entity_id": number},
            "changes": None,
            "record_timestamp": now,
            "detected_at": now,
            "lag_seconds": 0.0,
        }

    with transaction.atomic():
        first = polling._events_insert([row(n) for n in (1, 2)], {})
    # A replay of event 2 is a new delivery, with the same key: it does not count as stored.
    TriggerEvent.objects.filter(pk=first[1].pk).update(is_replay=True)
    monkeypatch.setattr(
        type(db_connection.features),
        "can_return_rows_from_bulk_insert",
        property(lambda features: returning),
    )
    with transaction.atomic():
        events = polling._events_insert([row(n) for n in (3, 1, 2, 4)], {})
    assert [event.dedup_key for event in events] == ["3", "2", "4"]
    stored = dict(TriggerEvent.objects.filter(is_replay=False).values_list("dedup_key", "pk"))
    assert {event.dedup_key: event.pk for event in events} == {
        key: stored[key] for key in ("3", "2", "4")
    }
    assert stored["1"] == first[0].pk
    assert TriggerEvent.objects.count() == 5

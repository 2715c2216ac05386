"""The automation admin (list, subscription, Poll now) and the replay service."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from automations.models import ActionRun, AutomationStep, TriggerEvent
from automations.services import events_replay

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:automations_automation_changelist")


def test_the_list_shows_trigger_connection_next_poll_and_last_error(
    editor_client, shop, make_automation, poll
):
    automation = make_automation(name="Ship new orders")
    shop.faults.add("firewall", path="/V1/orders")
    poll(automation)
    page = editor_client.get(LIST_URL).content.decode()
    assert "Ship new orders" in page and "New orders" in page and "Sandbox" in page
    assert "Failed" in page and "HTTP 403" in page
    change = editor_client.get(
        reverse("admin:automations_automation_change", args=[automation.pk])
    ).content.decode()
    assert "Cursor" in change and "not started" in change and "Next poll" in change


def test_poll_now_polls_and_says_what_it_found(editor_client, shop, make_automation):
    automation = make_automation(name="Ship new orders")
    shop.store.clock.advance(5)
    shop.store.order_create()
    response = editor_client.post(
        LIST_URL,
        {"action": "poll_now", "_selected_action": [automation.pk]},
        follow=True,
    )
    text = response.content.decode()
    assert "Ship new orders: 1 new event(s) from 1 record(s) read in 1 request(s)." in text
    assert TriggerEvent.objects.count() == 1


def test_poll_now_reports_a_failure_in_words(editor_client, shop, make_automation):
    automation = make_automation(name="Ship new orders")
    shop.faults.add("malformed_json", path="/V1/orders")
    response = editor_client.post(
        LIST_URL, {"action": "poll_now", "_selected_action": [automation.pk]}, follow=True
    )
    assert "did not expect" in response.content.decode()


def test_auditors_see_the_list_without_poll_now(auditor_client, shop, make_automation):
    make_automation(name="Ship new orders")
    shop.store.clock.advance(5)
    shop.store.order_create()  # a poll would find it
    response = auditor_client.get(LIST_URL)
    assert response.status_code == 200
    assert "Ship new orders" in response.content.decode()
    assert "poll_now" not in response.content.decode()
    auditor_client.post(LIST_URL, {"action": "poll_now", "_selected_action": [1]}, follow=True)
    assert TriggerEvent.objects.count() == 0


def test_replay_re_emits_a_window_as_new_marked_deliveries_with_runs(
    shop, shop_connection, make_automation, poll, editor
):
    automation = make_automation()
    AutomationStep.objects.create(
        automation=automation,
        position=1,
        action_id="get_product_by_sku",
        connection=shop_connection,
        inputs={"sku": "{{ trigger.items.0.sku }}"},
    )
    shop.store.clock.advance(5)
    orders = [shop.store.order_create()["entity_id"] for _ in range(3)]
    poll(automation)
    originals = list(TriggerEvent.objects.order_by("entity_id"))
    assert ActionRun.objects.count() == 3
    now = timezone.now()
    replays = events_replay(
        automation=automation,
        detected_from=now - dt.timedelta(hours=1),
        detected_until=now + dt.timedelta(seconds=1),
        user=editor,
    )
    assert [r.entity_id for r in replays] == orders
    assert all(r.is_replay and r.replayed_by == editor for r in replays)
    assert {r.replay_of_id for r in replays} == {o.pk for o in originals}
    assert ActionRun.objects.count() == 6
    assert ActionRun.objects.filter(event__is_replay=True).count() == 3
    # A later poll does not take the replays for new records or the records for new ones.
    assert poll(automation).new_events == 0
    with pytest.raises(ValidationError):
        events_replay(automation=automation, detected_from=now, detected_until=now)

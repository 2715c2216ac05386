"""subscription_start_over: a new walk with the same settings, for a store that was replaced."""

from __future__ import annotations

import datetime as dt

import pytest

from automations.models import TriggerEvent, TriggerSubscription
from automations.services import subscription_start_over

pytestmark = pytest.mark.django_db


def test_the_walk_starts_again_from_now_with_the_same_settings(make_automation, poll, shop):
    automation = make_automation(options={"start": "all"}, poll_interval_minutes=7)
    shop.store.seed(orders=3)
    assert poll(automation).new_events == 3
    before = TriggerSubscription.objects.get(automation=automation)
    assert before.cursor_entity_id is not None

    later = before.start_from or dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    subscription_start_over(automation=automation, now=later)

    after = TriggerSubscription.objects.get(automation=automation)
    assert after.pk != before.pk
    assert (after.cursor_timestamp, after.cursor_entity_id) == (None, None)
    assert (after.connection_id, after.trigger_id, after.options) == (
        before.connection_id,
        before.trigger_id,
        before.options,
    )
    assert after.poll_interval_minutes == 7 and after.next_poll_at == later
    # "all" fires everything again in the new store; past events stay in the history.
    assert after.start_from is None
    assert TriggerEvent.objects.filter(automation=automation).count() == 3


def test_an_automation_without_a_trigger_is_left_alone(make_automation):
    automation = make_automation()
    TriggerSubscription.objects.filter(automation=automation).delete()
    subscription_start_over(automation=automation)
    assert not TriggerSubscription.objects.exists()

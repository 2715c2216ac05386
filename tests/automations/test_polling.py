"""Polling over real HTTP against the sandbox store: no record missed, none repeated."""

from __future__ import annotations

import datetime as dt

import pytest

from automations import polling
from automations.models import PollOutcome, TriggerEvent, TriggerSubscription
from magento.resources._base import Resource

pytestmark = pytest.mark.django_db

SECOND = "2024-05-01 10:00:00"


def events(automation):
    return list(
        TriggerEvent.objects.filter(automation=automation, is_replay=False).values_list(
            "entity_id", flat=True
        )
    )


def order_ids(shop):
    return sorted(shop.store.orders.rows)


def searches(shop, since):
    return [r for r in list(shop.requests)[since:] if r[0] == "GET"]


def test_1234_orders_with_page_size_100_give_1234_events_and_a_second_poll_none(
    shop, make_automation, poll
):
    shop.store.seed(orders=1234)
    automation = make_automation(options={"start": "all"})
    result = poll(automation, page_size=100, page_budget=50)
    assert (result.ok, result.fetched, result.new_events, result.more) == (True, 1234, 1234, False)
    assert result.requests == 13  # twelve full pages and one of 34
    assert sorted(events(automation)) == order_ids(shop)
    before = len(shop.requests)
    again = poll(automation, page_size=100)
    assert (again.new_events, again.more) == (0, False)
    # An idle poll costs one request: the look-back window behind the cursor.
    assert again.requests == 1 and len(searches(shop, before)) == 1
    assert again.duplicates >= 1
    assert TriggerEvent.objects.count() == 1234


def test_a_backlog_is_read_in_bounded_polls_oldest_first_with_a_follow_up_queued(
    shop, make_automation, poll, monkeypatch, django_capture_on_commit_callbacks
):
    shop.store.seed(orders=1234)
    automation = make_automation(options={"start": "all"})
    queued = []
    monkeypatch.setattr(polling, "enqueue_poll", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        first = poll(automation, page_size=100, page_budget=5)
    assert (first.fetched, first.new_events, first.more) == (500, 500, True)
    subscription = TriggerSubscription.objects.get(automation=automation)
    assert queued == [subscription.pk]
    assert (subscription.backlog_remaining, subscription.backlog_fetched) == (734, 500)
    assert first.cursor["entity_id"] == 500  # oldest first: orders 1..500
    seen = [first]
    while seen[-1].more:
        seen.append(poll(automation, page_size=100, page_budget=5))
    assert [r.new_events for r in seen] == [500, 500, 234]
    assert sorted(events(automation)) == order_ids(shop)
    subscription.refresh_from_db()
    assert subscription.backlog_remaining is None and subscription.backlog_fetched == 0


def test_450_customers_updated_within_one_second_give_450_events_and_none_again(
    shop, make_automation, poll
):
    store = shop.store
    store.seed(customers=450, at=SECOND)
    automation = make_automation("customer_updated", options={"start": "all"})
    # The store's clock stands still: every update is saved in the same second.
    for customer_id in list(store.customers.rows):
        row = store.customer_get(customer_id)
        store.customer_replace(customer_id, {**row, "dob": "1990-01-01"})
    assert {row["updated_at"] for row in store.customers.rows.values()} == {store.now()}
    result = poll(automation, page_size=100)
    assert (result.new_events, result.left_out, result.more) == (450, 0, False)
    assert len(set(events(automation))) == 450
    again = poll(automation, page_size=100)
    assert again.new_events == 0 and again.duplicates == 450
    assert TriggerEvent.objects.count() == 450


def test_records_created_while_paging_are_read_once(shop, make_automation, poll, monkeypatch):
    store = shop.store
    store.seed(orders=300)
    automation = make_automation(options={"start": "all"})
    real_search = Resource.search
    calls = []

    def search_then_sell(self, *args, **kwargs):
        answer = real_search(self, *args, **kwargs)
        calls.append(1)
        if len(calls) == 1:
            store.clock.advance(5)
            for _ in range(40):
                store.order_create()
        return answer

    monkeypatch.setattr(Resource, "search", search_then_sell)
    result = poll(automation, page_size=100)
    assert result.new_events == 340 and not result.more
    assert sorted(events(automation)) == order_ids(shop)


def test_a_row_that_becomes_visible_late_is_caught_by_the_look_back(shop, make_automation, poll):
    store = shop.store
    automation = make_automation()
    store.clock.advance(10)
    late = store.order_create()
    store.hold_row("orders", late["entity_id"], 30)  # its checkout commits 30 s later
    store.clock.advance(2)
    on_time = store.order_create()
    first = poll(automation)
    assert events(automation) == [on_time["entity_id"]]
    assert first.cursor["entity_id"] == on_time["entity_id"]
    store.clock.advance(30)
    second = poll(automation)
    assert (second.new_events, second.duplicates, second.requests) == (1, 1, 1)
    assert sorted(events(automation)) == [late["entity_id"], on_time["entity_id"]]


def test_killed_after_page_3_of_10_the_restart_gives_the_exact_set(
    shop, make_automation, poll, monkeypatch
):
    shop.store.seed(orders=1000)
    automation = make_automation(options={"start": "all"})
    real_write = polling._page_write
    written = []

    def write_then_die(*args, **kwargs):
        cursor = real_write(*args, **kwargs)  # page committed
        written.append(cursor)
        if len(written) == 3:
            raise SystemExit("killed")  # not an Exception: nothing cleans up, like SIGKILL
        return cursor

    monkeypatch.setattr(polling, "_page_write", write_then_die)
    with pytest.raises(SystemExit):
        poll(automation, page_size=100)
    monkeypatch.setattr(polling, "_page_write", real_write)
    assert len(events(automation)) == 300
    # The dead poller still holds the lease: a restart before it expires is turned away ...
    busy = poll(automation, page_size=100)
    assert not busy.ok and "running" in busy.error
    # ... and after it expires continues at the cursor, reading pages 4 to 10 only.
    TriggerSubscription.objects.filter(automation=automation).update(
        lease_expires_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    )
    restarted = poll(automation, page_size=100)
    assert restarted.ok and restarted.fetched == 700 and restarted.new_events == 700
    assert sorted(events(automation)) == order_ids(shop)
    assert TriggerEvent.objects.count() == 1000


def test_a_store_repeating_its_last_page_neither_loops_nor_repeats(shop, make_automation, poll):
    shop.store.seed(orders=250)
    automation = make_automation(options={"start": "all"})
    first = poll(automation, page_size=100, page_budget=1)
    assert first.more and first.new_events == 100
    shop.faults.add("repeat_answer", path="/V1/orders", times=1)
    repeated = poll(automation, page_size=100)
    assert repeated.ok and repeated.new_events == 0 and not repeated.more
    assert repeated.requests == 1
    rest = poll(automation, page_size=100)
    assert rest.new_events == 150
    assert sorted(events(automation)) == order_ids(shop)


def test_a_429_burst_with_retry_after_backs_off_for_as_long_as_asked_then_recovers(
    shop, make_automation, poll, client_sleep
):
    shop.store.seed(orders=5)
    automation = make_automation(options={"start": "all"})
    shop.faults.add("rate_limit", path="/V1/orders", times=2, retry_after=90)
    before = dt.datetime.now(dt.UTC)
    failed = poll(automation)
    assert not failed.ok and "slow down" in failed.error
    subscription = TriggerSubscription.objects.get(automation=automation)
    assert subscription.last_poll_outcome == PollOutcome.FAILED
    assert subscription.consecutive_failures == 1
    assert "slow down" in subscription.last_error and subscription.last_error_at
    # Retry-After (90 s) is longer than the first backoff (60 s), and longer than the client
    # may wait inside one poll: the poll ends and the next one is due in 90 s.
    wait = (subscription.next_poll_at - before).total_seconds()
    assert 90 <= wait < 100
    assert client_sleep.calls == []
    second = poll(automation)
    assert not second.ok
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 2
    assert 120 <= (subscription.next_poll_at - before).total_seconds() < 130
    recovered = poll(automation)
    assert recovered.ok and recovered.new_events == 5
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0
    assert subscription.last_poll_outcome == PollOutcome.OK


def test_a_503_maintenance_page_is_reported_in_words_and_retried_later(
    shop, make_automation, poll, client_sleep
):
    shop.store.seed(orders=3)
    automation = make_automation(options={"start": "all"})
    shop.faults.add("maintenance", path="/V1/orders", times=3)
    failed = poll(automation)
    assert not failed.ok and "maintenance" in failed.error
    assert len(client_sleep.calls) == 2  # the client tried three times, then gave up
    assert events(automation) == []
    assert poll(automation).new_events == 3


def test_malformed_json_fails_the_poll_and_loses_nothing(shop, make_automation, poll):
    shop.store.seed(orders=250)
    automation = make_automation(options={"start": "all"})
    shop.faults.add("malformed_json", path="/V1/orders", times=1)
    failed = poll(automation, page_size=100)
    assert not failed.ok and "expect" in failed.error
    assert poll(automation, page_size=100).new_events == 250
    assert sorted(events(automation)) == order_ids(shop)


def test_backoff_doubles_up_to_an_hour_and_honours_retry_after():
    assert [polling.backoff_seconds(n) for n in (1, 2, 3, 7, 8, 30)] == [
        60,
        120,
        240,
        3600,
        3600,
        3600,
    ]
    assert polling.backoff_seconds(1, retry_after=300) == 300
    assert polling.backoff_seconds(1, retry_after=7200) == 3600


def test_the_time_budget_ends_a_poll_between_pages(shop, make_automation, poll):
    shop.store.seed(orders=500)
    automation = make_automation(options={"start": "all"})
    ticks = iter(range(100))  # an injected clock: each reading is one second later
    result = poll(automation, page_size=100, time_budget=1.5, monotonic=lambda: next(ticks))
    assert (result.requests, result.new_events, result.more) == (2, 200, True)


def test_an_error_that_needs_a_person_is_retried_less_often(shop, make_automation, poll):
    automation = make_automation()
    shop.faults.add("expired_token", path="/V1/orders")  # a refused token: not transient
    before = dt.datetime.now(dt.UTC)
    failed = poll(automation)
    assert not failed.ok and "tries again by itself" in failed.error
    subscription = TriggerSubscription.objects.get(automation=automation)
    assert 480 <= (subscription.next_poll_at - before).total_seconds() < 490
    assert TriggerSubscription.objects.get(automation=automation).consecutive_failures == 1
    assert poll(automation).ok  # and it recovers by itself once the store lets it in

"""Pipelined polling: the next page is requested in a background thread, without the database,
while a page is written; a failed write drops it, and its errors surface as before."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from automations import polling
from automations.models import TriggerEvent, TriggerSubscription
from connections.models import AuthMethod
from magento.resources._base import Resource

pytestmark = pytest.mark.django_db


@pytest.fixture
def searches(monkeypatch):
    """Each search as (thread id, whether that thread had a database connection open)."""
    seen: list[tuple[int, bool]] = []
    real_search = Resource.search

    def search(self, *args, **kwargs):
        seen.append((threading.get_ident(), connection.connection is not None))
        return real_search(self, *args, **kwargs)

    monkeypatch.setattr(Resource, "search", search)
    return seen


def event_ids(automation):
    return sorted(
        TriggerEvent.objects.filter(automation=automation).values_list("entity_id", flat=True)
    )


def test_the_next_page_is_requested_in_a_thread_that_never_touches_the_database(
    shop, make_automation, poll, searches
):
    shop.store.seed(orders=300)
    automation = make_automation(options={"start": "all"})
    result = poll(automation, page_size=100)
    assert (result.ok, result.new_events, result.requests, result.more) == (True, 300, 4, False)
    assert len(searches) == 4  # three full pages and the empty one that ends the walk
    main = threading.get_ident()
    assert searches[0] == (main, True)
    assert all(thread != main and not opened for thread, opened in searches[1:])
    assert event_ids(automation) == sorted(shop.store.orders.rows)


def test_no_page_is_requested_past_the_page_budget(shop, make_automation, poll, searches):
    shop.store.seed(orders=500)
    automation = make_automation(options={"start": "all"})
    result = poll(automation, page_size=100, page_budget=2)
    assert (result.requests, result.new_events, result.more) == (2, 200, True)
    assert len(searches) == 2


def test_a_failed_write_ends_the_walk_and_the_page_requested_meanwhile_is_dropped(
    shop, make_automation, poll, searches, monkeypatch
):
    shop.store.seed(orders=300)
    automation = make_automation(options={"start": "all"})
    subscription_id = TriggerSubscription.objects.get(automation=automation).pk
    real_write = polling._page_write
    writes = []
    counted_search = Resource.search
    third_asked = threading.Event()

    def search(self, *args, **kwargs):
        if len(searches) == 2:
            third_asked.set()
        return counted_search(self, *args, **kwargs)

    monkeypatch.setattr(Resource, "search", search)

    def write_and_lose_the_lease(subscription, *args, **kwargs):
        writes.append(1)
        if len(writes) == 2:
            # Page 3 is asked for before page 2 is written; another poller takes the lease.
            assert third_asked.wait(10)
            TriggerSubscription.objects.filter(pk=subscription_id).update(lease_owner="other")
        return real_write(subscription, *args, **kwargs)

    monkeypatch.setattr(polling, "_page_write", write_and_lose_the_lease)
    result = poll(automation, page_size=100)
    assert not result.ok and "another poll took over" in result.error
    assert (result.requests, len(searches)) == (3, 3)  # page 3 asked for, never written
    assert event_ids(automation) == sorted(shop.store.orders.rows)[:100]
    subscription = TriggerSubscription.objects.get(pk=subscription_id)
    assert subscription.cursor_entity_id == sorted(shop.store.orders.rows)[99]


def test_a_failed_background_request_is_recorded_as_before(
    shop, make_automation, poll, monkeypatch
):
    shop.store.seed(orders=300)
    automation = make_automation(options={"start": "all"})
    real_search = Resource.search
    calls = []

    def search_with_a_broken_second_page(self, *args, **kwargs):
        calls.append(threading.get_ident())
        if len(calls) == 2:
            shop.faults.add("malformed_json", path="/V1/orders", times=1)
        return real_search(self, *args, **kwargs)

    monkeypatch.setattr(Resource, "search", search_with_a_broken_second_page)
    failed = poll(automation, page_size=100)
    assert calls[1] != threading.get_ident()
    assert not failed.ok and "expect" in failed.error and "tries again by itself" in failed.error
    assert (failed.new_events, failed.requests) == (100, 2)
    subscription = TriggerSubscription.objects.get(automation=automation)
    assert subscription.consecutive_failures == 1 and subscription.last_error == failed.error
    assert subscription.cursor_entity_id == sorted(shop.store.orders.rows)[99]


def test_an_admin_session_walk_fetches_in_the_polling_thread(
    shop, make_connection, make_automation, poll, searches
):
    # Its token is read from the connection row on every request: no other thread may do that.
    c = shop.credentials
    session = make_connection(
        name="Sandbox admin",
        store_domain=shop.url,
        auth_method=AuthMethod.SESSION,
        admin_username=c.admin_username,
        admin_password=c.admin_password,
        totp_secret=c.totp_secret,
    )
    shop.store.seed(orders=300)
    automation = make_automation(connection=session, options={"start": "all"})
    result = poll(automation, page_size=100)
    assert (result.ok, result.new_events, result.requests) == (True, 300, 4)
    assert {thread for thread, _ in searches} == {threading.get_ident()}

"""Two workers never poll one subscription at once: the lease in the subscription row."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import OperationalError, connection

from automations import polling
from automations.models import TriggerEvent, TriggerSubscription


@pytest.mark.django_db(transaction=True)
def test_two_workers_polling_at_once_one_polls_the_other_is_turned_away(
    shop, make_automation, client_sleep
):
    shop.store.seed(orders=30)
    automation = make_automation(options={"start": "all"})
    subscription_id = TriggerSubscription.objects.get(automation=automation).pk
    # The first poller to reach the store waits there until the second has tried.
    inside = threading.Event()
    release = threading.Event()
    real_walk = polling._walk

    def walk_slowly(*args, **kwargs):
        inside.set()
        assert release.wait(10), "the second worker never came"
        return real_walk(*args, **kwargs)

    polling._walk = walk_slowly
    results = {}
    start = threading.Barrier(2)

    def worker(name):
        try:
            start.wait(5)
            for _ in range(200):
                try:
                    results[name] = polling.subscription_poll(
                        subscription_id=subscription_id,
                        lease_owner=name,
                        client_overrides={"sleep": client_sleep},
                    )
                    return
                except OperationalError as error:
                    # The suite's in-memory database is shared-cache SQLite, whose table locks
                    # fail at once instead of waiting (here as the lease is taken, before
                    # anything is polled): try again, as a file database would wait.
                    if "locked" not in str(error):
                        raise
                    time.sleep(0.005)
        finally:
            connection.close()

    try:
        threads = [threading.Thread(target=worker, args=(n,)) for n in ("w1", "w2")]
        for thread in threads:
            thread.start()
        assert inside.wait(10)
        # Whoever got the lease is inside; the other one must come back without polling.
        while len(results) < 1 and any(t.is_alive() for t in threads):
            threads[0].join(0.01)
            threads[1].join(0.01)
        release.set()
        for thread in threads:
            thread.join(10)
    finally:
        polling._walk = real_walk
    outcomes = sorted((r.ok, r.new_events) for r in results.values())
    assert outcomes == [(False, 0), (True, 30)]
    turned_away = next(r for r in results.values() if not r.ok)
    assert "running" in turned_away.error and turned_away.requests == 0
    assert TriggerEvent.objects.count() == 30
    subscription = TriggerSubscription.objects.get(pk=subscription_id)
    assert subscription.lease_owner == "" and subscription.lease_expires_at is None


@pytest.mark.django_db(transaction=True)
def test_many_simultaneous_lease_takes_have_one_winner(shop, make_automation):
    automation = make_automation()
    subscription_id = TriggerSubscription.objects.get(automation=automation).pk
    from django.utils import timezone

    now = timezone.now()
    barrier = threading.Barrier(8)
    won, errors = [], []

    def take(name):
        try:
            barrier.wait(5)
            for _ in range(200):
                try:
                    if polling._lease_take(subscription_id, name, now):
                        won.append(name)
                    return
                except OperationalError as error:
                    # The suite's in-memory database is shared-cache SQLite, whose table locks
                    # fail at once instead of waiting: try again, as a file database would wait.
                    if "locked" not in str(error):
                        errors.append(error)
                        return
                    time.sleep(0.005)
            errors.append(TimeoutError(f"{name} never got to try"))
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(f"w{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert len(won) == 1
    assert TriggerSubscription.objects.get(pk=subscription_id).lease_owner == won[0]

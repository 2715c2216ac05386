"""Fixtures for the automations tests: connections come from the connections fixtures, stores
from the sandbox fixtures; `shop` is an empty sandbox store and `poll` polls over real HTTP."""

from __future__ import annotations

import pytest

from automations.polling import subscription_poll
from automations.services import automation_create
from tests.automations.runs_helpers import Clock
from tests.connections.conftest import (  # noqa: F401
    fake_dns,
    loopback_only,
    make_connection,
)


@pytest.fixture
def clock(monkeypatch):
    """The runs' clock, frozen; `clock.advance(seconds)` moves it (nothing sleeps)."""
    fake = Clock()
    monkeypatch.setattr("automations.runs._now", fake)
    return fake


class RecordedSleep:
    """The client's sleep in these tests: remembers the waits, never waits."""

    def __init__(self):
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture(autouse=True)
def private_network_allowed(settings):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True


@pytest.fixture
def shop(sandbox_factory):
    """An empty sandbox store (three products to order), on a FakeClock at the real time."""
    server = sandbox_factory(seed={"products": 3})
    return server


@pytest.fixture
def shop_connection(make_connection, shop):  # noqa: F811
    """An OAuth 1.0a connection to `shop`."""
    c = shop.credentials
    return make_connection(
        name="Sandbox",
        store_domain=shop.url,
        access_token=c.access_token,
        consumer_key=c.consumer_key,
        consumer_secret=c.consumer_secret,
        access_token_secret=c.access_token_secret,
    )


@pytest.fixture
def client_sleep():
    return RecordedSleep()


@pytest.fixture
def make_automation(shop_connection):
    def make(trigger_id="order_created", *, name=None, connection=None, **kwargs):
        return automation_create(
            name=name or f"Watch {trigger_id}",
            connection=connection or shop_connection,
            trigger_id=trigger_id,
            **kwargs,
        )

    return make


@pytest.fixture
def poll(client_sleep):
    """Poll an automation's subscription over real HTTP; keyword arguments go to the service."""

    def run(automation, **kwargs):
        kwargs.setdefault("client_overrides", {"sleep": client_sleep})
        return subscription_poll(subscription_id=automation.trigger.pk, **kwargs)

    return run

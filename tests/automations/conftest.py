"""Fixtures for the automations tests: connections come from the connections fixtures."""

import pytest

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


@pytest.fixture
def private_network_allowed(settings):
    """The sandbox listens on 127.0.0.1."""
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True

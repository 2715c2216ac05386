"""Fixtures for the automations tests: connections come from the connections fixtures."""

from tests.connections.conftest import (  # noqa: F401
    fake_dns,
    loopback_only,
    make_connection,
)

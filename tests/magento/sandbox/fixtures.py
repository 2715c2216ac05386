"""pytest fixtures for the sandbox store (the lead's tests/conftest.py re-exports them).

`sandbox_store` is a started SandboxServer on a free 127.0.0.1 port with a little seeded data,
control endpoints on, a FakeClock (advance it instead of sleeping) and a sleep that only records
(latency faults never really wait). `sandbox_factory(**options)` starts more, configured ones.
"""

from __future__ import annotations

import pytest

from magento.sandbox import FakeClock, SandboxServer, SandboxStore


class RecordedSleep:
    """Stands in for time.sleep in the server: remembers the delays asked for."""

    def __init__(self):
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sandbox_factory():
    """Start sandboxes with chosen options; every one is stopped after the test.

    Options: any SandboxStore keyword (bearer_enabled, two_factor_enabled, input_limits_enabled,
    granted_resources, admin_token_lifetime, credentials), `seed` (dict for store.seed), and
    SandboxServer keywords (base_path, control).
    """
    started: list[SandboxServer] = []

    def start(
        *, seed: dict | None = None, base_path: str = "", control: bool = True, **store_options
    ) -> SandboxServer:
        store_options.setdefault("clock", FakeClock())
        store_options.setdefault("random_seed", 20240501)
        store = SandboxStore(**store_options)
        store.seed(**(seed if seed is not None else {"customers": 3, "products": 4, "orders": 6}))
        server = SandboxServer(store, base_path=base_path, control=control, sleep=RecordedSleep())
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def sandbox_store(sandbox_factory) -> SandboxServer:
    """A fresh sandbox Magento store (SandboxServer) for one test; `.url` is its Store Domain."""
    return sandbox_factory()

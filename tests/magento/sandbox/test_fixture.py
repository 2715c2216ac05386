"""The sandbox_store fixture: a fresh store in a background thread on its own free port."""

from __future__ import annotations

import threading

import requests

from tests.magento.sandbox.helpers import rest


def test_each_store_serves_from_its_own_thread_on_a_free_port(sandbox_store, sandbox_factory):
    other = sandbox_factory(seed={})

    answers = [
        requests.get(rest(server, "/V1/nothing"), timeout=5) for server in (sandbox_store, other)
    ]

    assert sandbox_store.port != other.port and 0 not in (sandbox_store.port, other.port)
    assert sandbox_store.url == f"http://127.0.0.1:{sandbox_store.port}"
    assert [a.status_code for a in answers] == [404, 404]
    assert sandbox_store._thread is not threading.current_thread()
    assert sandbox_store._thread.is_alive() and other._thread.is_alive()
    assert len(sandbox_store.store.orders.rows) > 0 and len(other.store.orders.rows) == 0

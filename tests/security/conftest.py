"""Fixtures for the security tests: users in every role, one row of every model, no store."""

from __future__ import annotations

import pytest
import requests

from automations.roles import AUDITORS, EDITORS
from tests.connections.conftest import fake_dns, loopback_only  # noqa: F401
from tests.security.objects import PortalObjects

# Who the walk is done as; the first four may look at most, never change or run anything.
READ_ONLY_ROLES = ("anonymous", "customer", "staff", "auditor")
ROLES = (*READ_ONLY_ROLES, "editor", "superuser")


@pytest.fixture
def portal_objects(db):
    """One saved row of every model the admin shows (and of the portal's own models)."""
    objects = PortalObjects()
    objects.make_all()
    return objects


@pytest.fixture
def user_in_role(make_staff, django_user_model):
    """The user of a role (None for anonymous): a customer is an active non-staff user, staff
    is a staff user in no group."""

    def make(role: str):
        if role == "anonymous":
            return None
        if role == "customer":
            return make_staff("casey-customer", is_staff=False)
        if role == "staff":
            return make_staff("stan-staff")
        if role == "auditor":
            return make_staff("audrey-auditor", role=AUDITORS)
        if role == "editor":
            return make_staff("eddie-editor", role=EDITORS)
        if role == "superuser":
            return make_staff("sue-superuser", is_superuser=True)
        raise ValueError(role)

    return make


@pytest.fixture
def outbound(monkeypatch):
    """Requests the portal tried to send to a store; none leaves this machine."""
    sent: list[str] = []

    def send(self, request, **kwargs):
        sent.append(f"{request.method} {request.url}")
        raise requests.ConnectionError("the security tests send nothing to a store")

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    return sent


class ListeningStore:
    """An HTTP server on 127.0.0.1 that records every request it receives and answers {}."""

    def __init__(self):
        import http.server
        import threading

        self.requests: list[str] = []
        received = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                received.append(f"{self.command} {self.path}")
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_POST = do_PUT = do_GET

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        # A short poll interval: shutdown() waits for one.
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listening_store():
    store = ListeningStore()
    yield store
    store.close()

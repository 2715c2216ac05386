"""Outbound safety for every Store Domain a user can type: the admin form, the services behind
it and add_connection refuse names that resolve to private addresses, and a name that resolves
to a public address when saved but to 127.0.0.1 later (DNS rebinding) is refused when connecting,
by every door that connects: the client, "Test connection", test_connection, background tasks
and manual action runs.

What is covered elsewhere: the address rules themselves and the client on real sockets
(tests/magento/test_netguard.py); the connection form and the verification for every kind of
private address, redirects to private addresses included (tests/connections/
test_outbound_safety.py). The resolver is the connections tests' stub (FAKE_DNS):
rebind.example.com resolves to 127.0.0.1.
"""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from automations.models import RunStatus
from automations.runs import action_run_manual
from connections import diagnosis as dx
from connections.clients import connection_client, connection_client_for_task
from connections.models import Connection, ConnectionStatus
from connections.services import connection_create, connection_update
from magento import BlockedAddressError
from tests.connections.helpers import ADD_URL, FAKE_DNS, PUBLIC_IP, SECRETS, form_data, token_fields

pytestmark = pytest.mark.django_db

LOOPBACK_NAME = "rebind.example.com"
SETTING = "ALLOW_PRIVATE_NETWORK_TARGETS"


def run_command(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue(), err.getvalue()
    except CommandError as error:
        return error.returncode, out.getvalue(), str(error)
    return 0, out.getvalue(), err.getvalue()


# -- a private name is refused where it is typed --------------------------------------------------


@pytest.mark.parametrize("save_anyway", [False, True], ids=["save", "save-anyway"])
def test_the_admin_form_refuses_a_name_that_resolves_to_loopback(
    editor_client, outbound, save_anyway
):
    data = form_data(store_domain=LOOPBACK_NAME)
    if save_anyway:
        data["save_anyway"] = "on"
    response = editor_client.post(ADD_URL, data)
    assert response.status_code == 200
    assert SETTING in response.content.decode()
    assert "127.0.0.1" in response.content.decode()
    assert not Connection.objects.exists()
    assert outbound == []


def test_the_admin_form_refuses_changing_a_store_domain_to_such_a_name(editor_client, outbound):
    connection = connection_create(**token_fields(store_domain="shop.example.com"), verify=False)
    connection = connection.connection
    url = reverse("admin:connections_connection_change", args=[connection.pk])
    response = editor_client.post(url, form_data(store_domain=LOOPBACK_NAME, save_anyway="on"))
    assert response.status_code == 200
    assert SETTING in response.content.decode()
    connection.refresh_from_db()
    assert connection.store_domain == "https://shop.example.com"
    assert outbound == []


@pytest.mark.parametrize(
    ("verify", "save_unverified"), [(True, False), (True, True), (False, False)]
)
def test_the_services_refuse_such_a_name(verify, save_unverified, outbound):
    with pytest.raises(ValidationError) as refused:
        connection_create(
            **token_fields(store_domain=LOOPBACK_NAME),
            verify=verify,
            save_unverified=save_unverified,
        )
    assert SETTING in " ".join(refused.value.message_dict["store_domain"])
    saved = connection_create(**token_fields(store_domain="shop.example.com"), verify=False)
    with pytest.raises(ValidationError):
        connection_update(
            connection=saved.connection,
            changes={"store_domain": LOOPBACK_NAME},
            verify=verify,
            save_unverified=save_unverified,
        )
    assert Connection.objects.get().store_domain == "https://shop.example.com"
    assert outbound == []


@pytest.mark.parametrize("options", [[], ["--no-verify"], ["--save-anyway"]])
def test_add_connection_refuses_such_a_name(options, outbound):
    code, out, err = run_command(
        "add_connection",
        "--name",
        "Shop",
        "--store-domain",
        LOOPBACK_NAME,
        "--access-token",
        SECRETS["access_token"],
        *options,
    )
    assert code == 2
    assert out == ""
    assert err.startswith("--store-domain: ")
    assert SETTING in err and "127.0.0.1" in err
    assert not Connection.objects.exists()
    assert outbound == []


# -- DNS rebinding: public when saved, 127.0.0.1 when connecting ----------------------------------


def save_while_public(how: str, store_domain: str, editor_client) -> Connection:
    if how == "admin form":
        # The store cannot be reached from the tests: "Save anyway" keeps it as failed.
        data = form_data(store_domain=store_domain, allow_plain_http="on", save_anyway="on")
        assert editor_client.post(ADD_URL, data).status_code == 302
    else:
        code, _, err = run_command(
            "add_connection",
            "--name",
            "Main store",
            "--store-domain",
            store_domain,
            "--access-token",
            SECRETS["access_token"],
            "--allow-plain-http",
            "--no-verify",
        )
        assert code == 0, err
    return Connection.objects.get()


@pytest.mark.parametrize("how", ["admin form", "command line"])
def test_a_name_that_turns_private_after_saving_is_refused_when_connecting(
    how, monkeypatch, listening_store, editor_client
):
    monkeypatch.setitem(FAKE_DNS, "flip.example.com", [PUBLIC_IP])
    connection = save_while_public(
        how, f"http://flip.example.com:{listening_store.port}", editor_client
    )
    assert connection.status in (ConnectionStatus.UNVERIFIED, ConnectionStatus.FAILED)

    monkeypatch.setitem(FAKE_DNS, "flip.example.com", ["127.0.0.1"])

    # The client, as every part of the portal builds it: refused after connecting, before a
    # byte is sent.
    leads_to_loopback = r"flip\.example\.com leads to 127\.0\.0\.1"
    with (
        connection_client(connection, max_retries=0) as client,
        pytest.raises(BlockedAddressError, match=leads_to_loopback),
    ):
        client.request("GET", "/V1/store/storeConfigs")
    with (
        connection_client_for_task(connection.pk, max_retries=0) as client,
        pytest.raises(BlockedAddressError, match=leads_to_loopback),
    ):
        client.request("GET", "/V1/store/storeConfigs")

    # "Test connection" in the admin, and test_connection on the command line.
    test_url = reverse("admin:connections_connection_test", args=[connection.pk])
    assert editor_client.post(test_url).status_code == 302
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.FAILED
    assert connection.last_error_code == dx.PRIVATE_ADDRESS
    code, _, err = run_command("test_connection", connection.name)
    assert code == 1
    assert "private" in err

    # A manual action run (the "Run an action" page and run_action).
    run = action_run_manual(
        action_id="get_product_by_sku", connection=connection, inputs={"sku": "24-MB01"}
    )
    assert run.status == RunStatus.FAILED
    assert "127.0.0.1" in run.error_message

    assert listening_store.requests == []


def test_the_listening_store_does_answer_when_private_networks_are_allowed(
    monkeypatch, listening_store, settings
):
    """The rebinding test's store is reachable: what stopped the requests was the guard."""
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
    monkeypatch.setitem(FAKE_DNS, "flip.example.com", ["127.0.0.1"])
    outcome = connection_create(
        **token_fields(store_domain=f"http://flip.example.com:{listening_store.port}"),
        allow_plain_http=True,
        verify=False,
    )
    with connection_client(outcome.connection, max_retries=0) as client:
        assert client.request("GET", "/V1/store/storeConfigs") == {}
    assert listening_store.requests == ["GET /rest/all/V1/store/storeConfigs"]


# -- no other way out ------------------------------------------------------------------------------

PORTAL_PACKAGES = ("config", "connections", "automations")
# Modules that open network connections; the portal reaches stores only through
# connections.clients.connection_client, whose MagentoClient carries the guard.
NETWORK_MODULES = {"requests", "urllib3", "httpx", "aiohttp", "http.client", "urllib.request"}
NETWORK_MODULES |= {"socket", "ssl", "ftplib", "telnetlib"}
CLIENT_BUILDER = Path("connections/clients.py")


def portal_sources():
    root = Path(__file__).resolve().parents[2]
    for package in PORTAL_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            yield path.relative_to(root), ast.parse(path.read_text(), filename=str(path))


def test_the_portal_reaches_stores_only_through_the_guarded_client():
    problems = []
    for path, tree in portal_sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            else:
                names = []
            for name in names:
                if name in NETWORK_MODULES or name.split(".")[0] in NETWORK_MODULES:
                    problems.append(f"{path}:{node.lineno} imports {name}")
            if path == CLIENT_BUILDER or not isinstance(node, ast.Call):
                continue
            called = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if called == "MagentoClient":
                problems.append(f"{path}:{node.lineno} builds a MagentoClient itself")
            if any(keyword.arg == "allow_private_network" for keyword in node.keywords):
                problems.append(f"{path}:{node.lineno} sets allow_private_network")
    assert not problems, (
        "Outbound requests must go through connections.clients.connection_client (it applies "
        f"{SETTING}):\n" + "\n".join(problems)
    )

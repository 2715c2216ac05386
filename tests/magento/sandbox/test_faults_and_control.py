"""Fault injection (Python API and HTTP control endpoint) and the /__sandbox__/ state endpoints."""

import re

import pytest
import requests

from magento.sandbox import ActivitySimulator
from tests.magento.sandbox.helpers import oauth, rest

VIEWS = "/V1/store/storeViews"


def _views(server):
    return requests.get(rest(server, VIEWS), auth=oauth(server), timeout=5)


def test_latency_waits_then_answers(sandbox_store):
    sandbox_store.faults.add("latency", path=VIEWS, seconds=2.5)

    response = _views(sandbox_store)

    assert response.status_code == 200
    assert sandbox_store.sleep.calls == [2.5]


def test_rate_limit_with_retry_after(sandbox_store):
    sandbox_store.faults.add("rate_limit", method="GET", path="/V1/store/*", retry_after=7)

    response = _views(sandbox_store)

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json() == {"message": "Too Many Requests", "trace": None}


def test_server_error_has_a_report_id(sandbox_store):
    sandbox_store.faults.add("server_error")

    response = _views(sandbox_store)

    assert response.status_code == 500
    assert re.search(r"Report ID: webapi-[0-9a-f]{13}$", response.json()["message"])


def test_maintenance_page_is_html(sandbox_store):
    sandbox_store.faults.add("maintenance")

    response = _views(sandbox_store)

    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<title>Error 503: Service Unavailable</title>" in response.text


def test_dropped_connection(sandbox_store):
    sandbox_store.faults.add("drop_connection")

    with pytest.raises(requests.ConnectionError):
        _views(sandbox_store)
    assert _views(sandbox_store).status_code == 200


def test_malformed_json(sandbox_store):
    sandbox_store.faults.add("malformed_json")

    response = _views(sandbox_store)

    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


def test_redirect_sends_the_same_address_to_https(sandbox_factory):
    server = sandbox_factory(base_path="/shop")
    server.faults.add("redirect", path=VIEWS)
    host = server.url.removeprefix("http://").removesuffix("/shop")

    response = requests.get(
        rest(server, VIEWS) + "?fields=items", auth=oauth(server), allow_redirects=False
    )

    assert response.status_code == 301
    assert response.headers["Location"] == f"https://{host}/shop/rest/all{VIEWS}?fields=items"
    assert response.content == b""


def test_firewall_answers_with_an_access_denied_page(sandbox_store):
    sandbox_store.faults.add("firewall", path=VIEWS)

    response = _views(sandbox_store)

    assert response.status_code == 403
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<title>Access denied</title>" in response.text
    assert "{" not in response.text  # a page, not Magento's JSON error


def test_expired_token_is_the_generic_401_for_the_route(sandbox_store):
    sandbox_store.faults.add("expired_token", path=VIEWS)

    response = _views(sandbox_store)

    assert response.status_code == 401
    assert response.json()["parameters"] == {"resources": "Magento_Backend::store"}


def test_fault_applies_to_the_next_n_matching_requests_only(sandbox_store):
    sandbox_store.faults.add("server_error", method="POST", times=2)
    sandbox_store.faults.add("server_error", path="/V1/orders*", times=1)

    views = _views(sandbox_store)
    statuses = [
        requests.post(rest(sandbox_store, "/V1/customers"), json={}).status_code for _ in range(3)
    ]

    assert views.status_code == 200
    assert statuses == [500, 500, 400]
    assert [f.path for f in sandbox_store.faults.pending()] == ["/V1/orders*"]


def test_store_code_is_not_part_of_the_fault_path(sandbox_store):
    sandbox_store.faults.add("server_error", path=VIEWS)

    response = requests.get(rest(sandbox_store, VIEWS, "default"), auth=oauth(sandbox_store))

    assert response.status_code == 500


def test_unknown_fault_kind_is_refused(sandbox_store):
    with pytest.raises(ValueError, match="unknown fault kind"):
        sandbox_store.faults.add("flood")


def test_faults_over_the_control_endpoint(sandbox_store):
    control = f"{sandbox_store.url}/__sandbox__/faults"

    added = requests.post(
        control, json={"kind": "rate_limit", "path": VIEWS, "times": 1, "retry_after": 3}
    )
    listed = requests.get(control).json()
    limited = _views(sandbox_store)
    requests.post(control, json={"kind": "maintenance"})
    cleared = requests.delete(control)

    assert added.status_code == 201
    assert listed[0]["kind"] == "rate_limit"
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "3"
    assert cleared.json() == []
    assert _views(sandbox_store).status_code == 200


def test_control_endpoints_are_off_unless_enabled(sandbox_factory):
    server = sandbox_factory(control=False)

    response = requests.post(f"{server.url}/__sandbox__/faults", json={"kind": "maintenance"})

    assert response.status_code == 404
    assert _views(server).status_code == 200


def test_state_endpoint_flips_flags(sandbox_store):
    state_url = f"{sandbox_store.url}/__sandbox__/state"
    token = sandbox_store.credentials.access_token
    customer_url = rest(sandbox_store, "/V1/customers/1")

    before = requests.get(customer_url, headers={"Authorization": f"Bearer {token}"})
    state = requests.post(state_url, json={"bearer_enabled": True, "input_limits_enabled": False})
    after = requests.get(customer_url, headers={"Authorization": f"Bearer {token}"})

    assert before.status_code == 401
    assert state.json()["bearer_enabled"] is True
    assert state.json()["input_limits_enabled"] is False
    assert after.status_code == 200
    assert requests.get(state_url).json()["counts"]["customers"] == 3


def test_state_endpoint_revokes_the_integration_and_narrows_grants(sandbox_store):
    state_url = f"{sandbox_store.url}/__sandbox__/state"

    requests.post(state_url, json={"granted_resources": ["Magento_Customer::customer"]})
    narrowed = _views(sandbox_store)
    requests.post(
        state_url,
        json={"granted_resources": ["Magento_Backend::store"], "integration_revoked": True},
    )
    revoked = _views(sandbox_store)

    assert narrowed.status_code == 401
    assert revoked.status_code == 401
    assert revoked.json() == {"message": "Access token has been revoked"}


def test_control_creates_and_changes_entities(sandbox_store):
    base = f"{sandbox_store.url}/__sandbox__"
    sandbox_store.store.clock.advance(10)

    customer = requests.post(
        f"{base}/customers",
        json={"customer": {"email": "e2e@example.com", "firstname": "E", "lastname": "Two"}},
    ).json()
    renamed = requests.post(f"{base}/customers/{customer['id']}", json={"firstname": "Eve"})
    sku = sandbox_store.store.products.rows[1]["sku"]
    order = requests.post(
        f"{base}/orders", json={"customer_id": customer["id"], "lines": [[sku, 2]]}
    ).json()
    held = requests.post(f"{base}/orders/{order['entity_id']}", json={"state": "holded"})
    bad = requests.post(f"{base}/orders", json={"lines": [["NO-SUCH-SKU", 1]]})

    assert renamed.json()["firstname"] == "Eve"
    assert order["customer_email"] == "e2e@example.com"
    assert order["items"][0]["qty_ordered"] == 2
    assert held.json()["status"] == "holded"
    assert bad.status_code == 400


def test_activity_rotation_creates_and_updates(sandbox_store):
    store = sandbox_store.store
    seen = []
    simulator = ActivitySimulator(store, 60, on_event=lambda event, _: seen.append(event))
    counts = (len(store.customers.rows), len(store.products.rows), len(store.orders.rows))
    before = store.customer_get(1)
    store.clock.advance(5)

    events = [simulator.step()[0] for _ in range(8)]

    assert (
        events
        == seen
        == ["customer_created", "product_created", "order_created", "customer_updated"] * 2
    )
    assert len(store.customers.rows) == counts[0] + 2
    assert len(store.products.rows) == counts[1] + 2
    assert len(store.orders.rows) == counts[2] + 2
    updated = [c for c in store.customers.rows.values() if c["updated_at"] > before["updated_at"]]
    assert updated


def test_activity_thread_makes_one_event_per_interval_until_stopped(sandbox_store):
    import threading

    asked = []
    third_wait = threading.Event()
    events = []

    def wait(seconds):
        # Stands in for the real pause: two events happen, then the test stops the thread.
        asked.append(seconds)
        if len(asked) < 3:
            return False
        third_wait.set()
        simulator._stop.wait()
        return True

    simulator = ActivitySimulator(
        sandbox_store.store, 7.5, on_event=lambda event, _: events.append(event), wait=wait
    )

    simulator.start()
    assert third_wait.wait(timeout=10)
    simulator.stop()

    assert asked == [7.5, 7.5, 7.5]
    assert events == ["customer_created", "product_created"]
    assert not simulator._thread.is_alive()


def test_state_accepts_the_short_flag_names(sandbox_store):
    state = requests.post(
        f"{sandbox_store.url}/__sandbox__/state", json={"two_factor": False, "input_limits": False}
    ).json()

    assert state["two_factor_enabled"] is False
    assert state["input_limits_enabled"] is False


def test_state_endpoint_says_whether_the_admin_has_set_up_2fa(sandbox_store):
    state_url = f"{sandbox_store.url}/__sandbox__/state"

    before = requests.get(state_url).json()
    after = requests.post(state_url, json={"two_factor_configured": False}).json()

    assert before["two_factor_configured"] is True
    assert after["two_factor_configured"] is False
    assert sandbox_store.store.two_factor_configured is False


def test_concurrent_creates_get_distinct_ids(sandbox_store):
    from concurrent.futures import ThreadPoolExecutor

    def create(number):
        return requests.post(
            rest(sandbox_store, "/V1/customers"),
            json={
                "customer": {
                    "email": f"c{number}@example.com",
                    "firstname": "C",
                    "lastname": str(number),
                }
            },
            timeout=10,
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(create, range(24)))

    assert all(r.status_code == 200 for r in responses)
    assert len({r.json()["id"] for r in responses}) == 24


def test_control_body_that_is_not_json(sandbox_store):
    response = requests.post(f"{sandbox_store.url}/__sandbox__/state", data=b"two_factor=off")

    assert response.status_code == 400
    assert response.json() == {"message": "body is not JSON"}


def test_control_request_missing_what_it_needs_and_unknown_control_endpoint(sandbox_store):
    control = f"{sandbox_store.url}/__sandbox__"

    missing = requests.post(f"{control}/customers", json={"password": "Passw0rd!"})
    unknown = requests.get(f"{control}/customers")

    assert missing.status_code == 400
    assert missing.json() == {"message": "bad control request: 'customer'"}
    assert unknown.status_code == 404
    assert unknown.json() == {"message": "unknown control endpoint"}


def test_seed_endpoint_adds_generated_entities(sandbox_store):
    control = f"{sandbox_store.url}/__sandbox__"
    before = requests.get(f"{control}/state").json()["counts"]

    response = requests.post(f"{control}/seed", json={"customers": 2, "products": 1, "orders": 3})

    assert response.status_code == 200
    assert response.json()["counts"] == {
        "customers": before["customers"] + 2,
        "products": before["products"] + 1,
        "orders": before["orders"] + 3,
        "shipments": before["shipments"],
    }

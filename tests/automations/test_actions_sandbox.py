"""Each action run by hand against the sandbox over HTTP, OAuth 1.0a-signed, with odd SKUs."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from automations.actions import ActionInputError
from automations.models import ActionRun, RunStatus, StartedBy
from automations.runs import action_run_manual
from tests.automations.runs_helpers import record_text, sandbox_connection

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("private_network_allowed"),
]

SKU = "Tee/Red + Blue & Co ü"


@pytest.fixture
def shop(sandbox_factory):
    return sandbox_factory(seed={"customers": 0, "products": 0, "orders": 0})


@pytest.fixture
def connection(shop):
    return sandbox_connection(shop)


def run(connection, action_id, **inputs):
    return action_run_manual(action_id=action_id, connection=connection, inputs=inputs)


def test_products_create_find_and_update_with_an_awkward_sku(shop, connection):
    shop.store.attribute_sets[0]["attribute_set_id"] = 14  # not 4: it is looked up
    created = run(connection, "create_product", sku=SKU, name="Tee", price="19.90", qty="5")
    found = run(connection, "get_product_by_sku", sku=SKU)
    updated = run(connection, "update_product", sku=SKU, price=24, store_code="all")

    assert created.status == RunStatus.SUCCEEDED, created.error_message
    assert created.output["attribute_set_id"] == 14
    assert created.output["extension_attributes"]["stock_item"]["qty"] == 5
    assert created.started_by == StartedBy.USER and created.event_id is None
    assert found.output["sku"] == SKU and found.subject == SKU
    assert updated.output["price"] == 24 and updated.output["name"] == "Tee"
    assert updated.request_method == "PUT"


def test_update_product_for_one_store_view(shop, connection):
    shop.store.product_save({"sku": "MUG-1", "name": "Mug", "price": 8})
    updated = run(connection, "update_product", sku="MUG-1", name="Tasse", store_code="default")
    assert updated.status == RunStatus.SUCCEEDED
    assert updated.output["name"] == "Tasse"


def test_customers_create_find_and_update_keep_the_address(shop, connection):
    created = run(
        connection,
        "create_customer",
        email="ana@example.com",
        firstname="Ana",
        lastname="Lima",
        password="Sup3r-Secret-pw",
        street="1 Main St\nFlat 2",
        city="Austin",
        region="Texas",
        postcode="73301",
        country_id="US",
        telephone="512-555-0100",
        website_id="1",
    )
    found = run(connection, "get_customer_by_email", email="ana@example.com")
    renamed = run(connection, "update_customer", email="ana@example.com", lastname="Souza")

    assert created.status == RunStatus.SUCCEEDED, created.error_message
    assert created.output["addresses"][0]["street"] == ["1 Main St", "Flat 2"]
    assert "Sup3r-Secret-pw" not in record_text(created)
    assert created.input_mapping["password"] == "[hidden]"
    assert found.output["id"] == created.output["id"]
    assert renamed.status == RunStatus.SUCCEEDED, renamed.error_message
    assert renamed.output["lastname"] == "Souza"
    assert renamed.output["addresses"] == created.output["addresses"]


def test_update_customer_changes_only_the_given_address_fields(shop, connection):
    customer = shop.store.add_random_customer()
    updated = run(connection, "update_customer", customer_id=customer["id"], city="Lyon")
    address = updated.output["addresses"][0]
    assert address["city"] == "Lyon"
    assert address["street"] == customer["addresses"][0]["street"]
    assert updated.output["email"] == customer["email"]


def test_get_customer_by_email_when_none_matches(shop, connection):
    failed = run(connection, "get_customer_by_email", email="nobody@example.com")
    empty = run(connection, "get_customer_by_email", email="nobody@example.com", if_none="empty")
    assert failed.status == RunStatus.FAILED and failed.error_class == "NotFoundError"
    assert "nobody@example.com" in failed.error_message
    assert empty.status == RunStatus.SUCCEEDED and empty.output == {}


@pytest.mark.parametrize(
    ("state", "inputs", "words"),
    [
        ("holded", {}, "is on hold"),
        ("canceled", {}, "is canceled"),
        ("processing", {"items": [{"sku": "MUG-1", "qty": 3}]}, "only 1 left to ship"),
        ("processing", {"items": [{"sku": "NOPE", "qty": 1}]}, "has no item with SKU 'NOPE'"),
    ],
)
def test_create_shipment_refuses_in_plain_words(shop, connection, state, inputs, words):
    shop.store.product_save({"sku": "MUG-1", "name": "Mug", "price": 8})
    order = shop.store.order_create(lines=[("MUG-1", 1)], state=state)
    refused = run(connection, "create_shipment", order_increment_id=order["increment_id"], **inputs)
    assert refused.status == RunStatus.FAILED
    assert refused.error_class == "ActionRefused"
    assert words in refused.error_message
    assert shop.store.shipments == {}


def test_create_shipment_of_chosen_items_then_nothing_left(shop, connection):
    shop.store.product_save({"sku": SKU, "name": "Tee", "price": 20})
    shop.store.product_save({"sku": "MUG-1", "name": "Mug", "price": 8})
    order = shop.store.order_create(lines=[(SKU, 2), ("MUG-1", 1)], state="processing")

    part = run(
        connection,
        "create_shipment",
        order_id=order["entity_id"],
        items=json.dumps([{"sku": SKU, "qty": 1}]),
        notify="yes",
    )
    rest = run(connection, "create_shipment", order_id=order["entity_id"])
    again = run(connection, "create_shipment", order_id=order["entity_id"])

    assert part.output["items"] == [
        {"order_item_id": order["items"][0]["item_id"], "sku": SKU, "qty": 1}
    ]
    assert sorted(i["sku"] for i in rest.output["items"]) == sorted([SKU, "MUG-1"])
    assert again.status == RunStatus.FAILED
    assert "Nothing is left to ship" in again.error_message
    assert len(shop.store.shipments) == 2


def test_bad_inputs_are_refused_before_any_run(connection):
    with pytest.raises(ActionInputError) as refused:
        run(connection, "create_product", sku="X", price="cheap")
    assert set(refused.value.errors) == {"name", "price"}
    assert ActionRun.objects.count() == 0


# -- the command line --------------------------------------------------------------------------


def command(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("run_action", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as stop:
        code = stop.code
    return code, out.getvalue(), err.getvalue()


def test_command_prints_the_output_json(shop, connection):
    shop.store.product_save({"sku": SKU, "name": "Tee", "price": 20})
    code, out, err = command(
        "get_product_by_sku", "--connection", "Sandbox", "--input", f"sku={SKU}"
    )
    assert (code, err) == (0, "")
    assert json.loads(out)["sku"] == SKU
    assert ActionRun.objects.get().started_by == StartedBy.COMMAND


def test_command_takes_json_inputs(shop, connection):
    code, out, _err = command(
        "create_customer",
        "--connection",
        "Sandbox",
        "--input-json",
        '{"email": "cli@example.com", "firstname": "C", "lastname": "L"}',
    )
    assert code == 0 and json.loads(out)["email"] == "cli@example.com"


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["get_product_by_sku", "--connection", "Sandbox", "--input", "sku=NOPE"], 1, "NOPE"),
        (["get_product_by_sku", "--connection", "Sandbox"], 2, "sku: This input is required"),
        (["get_product_by_sku", "--connection", "Nope", "--input", "sku=x"], 2, "No connection"),
        (["no_such_action", "--connection", "Sandbox"], 2, "no_such_action"),
        (["get_product_by_sku", "--connection", "Sandbox", "--input", "sku"], 2, "key=value"),
        (["get_product_by_sku", "--connection", "Sandbox", "--input-json", "[1]"], 2, "object"),
    ],
)
def test_command_failures(shop, connection, args, code, words):
    got, out, err = command(*args)
    assert got == code
    assert out == ""
    assert words in err

"""Actions and runs against a strict `responses` mock: bodies checked against Magento's schema,
Magento's real error bodies, and what is retried and what is not."""

from __future__ import annotations

import json

import pytest
import requests
import responses

from automations import runs
from automations.actions import get_action
from automations.models import RunStatus
from tests.automations.runs_helpers import automation, fire, record_text, runs_of
from tests.connections.helpers import REST, SECRETS, assert_no_secret, oauth_fields
from tests.magento.schema_check import assert_matches_schema
from tests.shared_data import load_error, load_sample

pytestmark = pytest.mark.django_db

ALL = f"{REST}/all"
SEARCH_RESULT = {"items": [], "search_criteria": {"filter_groups": []}, "total_count": 0}


@pytest.fixture
def connection(make_connection):
    return make_connection(**oauth_fields())


def sent(call) -> dict:
    return json.loads(call.request.body)


def one_step(connection, action_id, inputs):
    event = fire(automation(connection, (action_id, inputs)), {"entity_id": 1, "sku": "a/b"})
    runs.event_runs_execute(event.pk)
    return runs_of(event)[0]


def test_create_customer_sends_a_schema_valid_body(store_mock, connection, clock):
    answer = load_sample("customer-create-response")
    store_mock.add(responses.POST, f"{REST}/V1/customers", json=answer)
    run = one_step(
        connection,
        "create_customer",
        {
            "email": "jdoe@example.com",
            "firstname": "Jane",
            "lastname": "Doe",
            "website_id": "1",
            "gender": "2",
            "dob": "1980-05-17",
            "street": "123 Oak Ave",
            "city": "Purchase",
            "region": "43",
            "postcode": "10755",
            "country_id": "US",
            "telephone": "512-555-1111",
            "custom_attributes": '{"loyalty_tier": "gold"}',
            "password": "Password1-long",
        },
    )
    body = sent(store_mock.calls[0])
    assert_matches_schema(body, ("/V1/customers", "post"))
    assert body["customer"]["addresses"][0]["region_id"] == 43
    assert body["customer"]["gender"] == 2 and body["password"] == "Password1-long"
    assert run.status == RunStatus.SUCCEEDED and run.output == answer
    assert "Password1-long" not in record_text(run)


def test_create_product_looks_up_the_default_set_and_writes_to_all(store_mock, connection, clock):
    store_mock.add(
        responses.GET,
        f"{ALL}/V1/products/attribute-sets/sets/list",
        json={**SEARCH_RESULT, "items": [{"attribute_set_id": 9, "attribute_set_name": "Default"}]},
    )
    store_mock.add(
        responses.POST, f"{ALL}/V1/products", json=load_sample("product-create-response")
    )
    run = one_step(
        connection,
        "create_product",
        {
            "sku": "{{ trigger.sku }}",
            "name": "Tee",
            "price": "25",
            "qty": 10,
            "description": "<p>Hi</p>",
        },
    )
    body = sent(store_mock.calls[1])
    assert_matches_schema(body, ("/V1/products", "post"))
    product = body["product"]
    assert product["attribute_set_id"] == 9 and product["sku"] == "a/b"
    assert product["extension_attributes"]["stock_item"] == {"qty": 10, "is_in_stock": True}
    assert product["custom_attributes"] == [{"attribute_code": "description", "value": "<p>Hi</p>"}]
    assert run.status == RunStatus.SUCCEEDED


def test_update_product_encodes_the_sku_and_sends_only_the_changes(store_mock, connection, clock):
    store_mock.add(
        responses.PUT, f"{REST}/fr/V1/products/a%2Fb%20%2B%20c", json=load_sample("product")
    )
    run = one_step(
        connection,
        "update_product",
        {"sku": "a/b + c", "name": "T-shirt", "store_code": "fr"},
    )
    body = sent(store_mock.calls[0])
    assert_matches_schema(body, ("/V1/products/{sku}", "put"))
    assert body == {"product": {"sku": "a/b + c", "name": "T-shirt"}}
    assert run.status == RunStatus.SUCCEEDED


def order(state="processing", shipped=0):
    sample = load_sample("order")
    sample["state"] = sample["status"] = state
    for item in sample["items"]:
        item["qty_shipped"] = shipped or 0
    return sample


def add_order(store_mock, body):
    store_mock.add(
        responses.GET,
        f"{ALL}/V1/orders",
        json={**SEARCH_RESULT, "items": [body], "total_count": 1},
    )


def test_create_shipment_body_and_magentos_refusal_in_plain_words(store_mock, connection, clock):
    body = order()
    add_order(store_mock, body)
    store_mock.add(responses.GET, f"{ALL}/V1/shipments", json=SEARCH_RESULT)
    status, error = load_error("shipment_validation")
    store_mock.add(
        responses.POST, f"{ALL}/V1/order/{body['entity_id']}/ship", json=error, status=status
    )
    run = one_step(
        connection,
        "create_shipment",
        {
            "order_increment_id": body["increment_id"],
            "track_number": "1Y-9876543210",
            "carrier_code": "ups",
            "notify": True,
            "comment": "Shipped",
        },
    )
    sent_body = sent(store_mock.calls[2])
    assert_matches_schema(sent_body, ("/V1/order/{orderId}/ship", "post"))
    assert sent_body["tracks"] == [
        {"track_number": "1Y-9876543210", "title": "United Parcel Service", "carrier_code": "ups"}
    ]
    assert run.status == RunStatus.FAILED and run.error_class == "ActionRefused"
    assert run.error_message == (
        f"Magento refused to ship order {body['increment_id']}: nothing is left to ship, or the "
        "order's state does not allow it."
    )


def test_get_customer_by_email_reports_several_websites(store_mock, connection, clock):
    customer = load_sample("customer")
    other = {**customer, "id": customer["id"] + 1, "website_id": 2}
    store_mock.add(
        responses.GET,
        f"{REST}/all/V1/customers/search",
        json={**SEARCH_RESULT, "items": [customer, other], "total_count": 2},
    )
    run = one_step(connection, "get_customer_by_email", {"email": customer["email"]})
    assert run.status == RunStatus.FAILED and run.error_class == "AmbiguousMatchError"
    assert "website 1" in run.error_message and "website 2" in run.error_message
    assert "Set website_id" in run.error_message


@pytest.mark.parametrize(
    ("answer", "error_class", "retried"),
    [
        (load_error("too_many_requests"), "RateLimitedError", True),
        (load_error("internal_error"), "StoreUnavailableError", True),
        (requests.exceptions.ReadTimeout("read timed out"), "RequestTimeoutError", True),
        (requests.exceptions.ConnectTimeout("connect timed out"), "RequestTimeoutError", True),
        (load_error("unauthorized_consumer"), "AuthenticationError", False),
        (load_error("invalid_product_data"), "ValidationError", False),
        (
            (
                404,
                {
                    "message": "The product that was requested doesn't exist. Verify the "
                    "product and try again."
                },
            ),
            "NotFoundError",
            False,
        ),
        ((403, {"message": "Forbidden"}), "PermissionDeniedError", False),
    ],
    ids=["429", "500", "read-timeout", "connect-timeout", "401", "400", "404", "403"],
)
def test_what_is_retried(store_mock, connection, clock, answer, error_class, retried):
    url = f"{ALL}/V1/products/a%2Fb"
    if isinstance(answer, Exception):
        store_mock.add(responses.GET, url, body=answer)
    else:
        status, body = answer
        store_mock.add(responses.GET, url, json=body, status=status)
    run = one_step(connection, "get_product_by_sku", {"sku": "a/b"})
    assert run.error_class == error_class
    assert run.status == (RunStatus.PENDING if retried else RunStatus.FAILED)
    assert (run.next_attempt_at is not None) == retried
    assert run.attempts == 1 and len(store_mock.calls) == 1
    assert_no_secret(record_text(run))
    for value in SECRETS.values():
        assert value not in record_text(run)


def test_every_action_declares_its_inputs_under_magentos_names():
    expected = {
        "create_customer": {
            "email",
            "firstname",
            "lastname",
            "website_id",
            "group_id",
            "store_id",
            "dob",
            "gender",
            "taxvat",
            "prefix",
            "middlename",
            "suffix",
            "password",
            "street",
            "city",
            "region",
            "postcode",
            "country_id",
            "telephone",
            "default_billing",
            "default_shipping",
            "custom_attributes",
        },
        "create_product": {
            "sku",
            "name",
            "price",
            "attribute_set_id",
            "type_id",
            "status",
            "visibility",
            "weight",
            "qty",
            "is_in_stock",
            "description",
            "short_description",
            "custom_attributes",
        },
        "create_shipment": {
            "order_increment_id",
            "order_id",
            "items",
            "track_number",
            "carrier_code",
            "title",
            "notify",
            "comment",
        },
    }
    for action_id, names in expected.items():
        assert {item.name for item in get_action(action_id).inputs} == names
    required = {i.name for i in get_action("create_product").inputs if i.required}
    assert required == {"sku", "name", "price"}

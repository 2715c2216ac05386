"""Customers: read, create and full-replace saves, with Magento's validation answers."""

import re

import pytest
import requests

from tests.magento.sandbox.helpers import assert_shape, oauth, rest
from tests.shared_data import load_error, load_sample

MAGENTO_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def _create(server, customer, **extra):
    return requests.post(rest(server, "/V1/customers"), json={"customer": customer, **extra})


def _put(server, customer_id, customer):
    return requests.put(
        rest(server, f"/V1/customers/{customer_id}"),
        json={"customer": customer},
        auth=oauth(server),
    )


def test_get_customer_has_the_published_shape(sandbox_store):
    sample = load_sample("customer")

    body = requests.get(rest(sandbox_store, "/V1/customers/1"), auth=oauth(sandbox_store)).json()

    assert_shape(body, "customer-data-customer-interface")
    assert set(body) == set(sample)
    assert set(body["addresses"][0]) == set(sample["addresses"][0])
    assert MAGENTO_TIME.match(body["created_at"]) and MAGENTO_TIME.match(body["updated_at"])


def test_missing_customer_is_magentos_404(sandbox_store):
    status, body = load_error("customer_not_found")

    response = requests.get(rest(sandbox_store, "/V1/customers/-1"), auth=oauth(sandbox_store))

    assert (response.status_code, response.json()) == (status, body)


def test_confirmation_status_looks_the_customer_up(sandbox_store):
    """GET /V1/customers/:id/confirm (AccountManagement::getConfirmationStatus) only reads."""
    known = requests.get(rest(sandbox_store, "/V1/customers/1/confirm"), auth=oauth(sandbox_store))
    missing = requests.get(
        rest(sandbox_store, "/V1/customers/0/confirm"), auth=oauth(sandbox_store)
    )

    assert (known.status_code, known.json()) == (200, "account_confirmation_not_required")
    assert missing.status_code == 404
    assert missing.json() == {
        "message": "No such entity with %fieldName = %fieldValue",
        "parameters": {"fieldName": "customerId", "fieldValue": 0},
    }


def test_create_customer_from_the_published_camel_case_request_without_credentials(
    sandbox_store,
):
    request = load_sample("customer-create-request")
    request["customer"]["email"] = "jdoe.new@example.com"

    response = requests.post(rest(sandbox_store, "/V1/customers"), json=request)

    assert response.status_code == 200, response.text
    body = response.json()
    assert_shape(body, "customer-data-customer-interface")
    assert isinstance(body["id"], int)
    address = body["addresses"][0]
    assert address["region"] == {"region_code": "NY", "region": "New York", "region_id": 43}
    assert address["country_id"] == "US"
    assert body["default_billing"] == body["default_shipping"] == str(address["id"])
    assert address["customer_id"] == body["id"]
    assert set(body) <= set(load_sample("customer"))


def test_duplicate_email_in_the_same_website_is_refused(sandbox_store):
    existing = sandbox_store.store.customer_get(1)

    same_site = _create(
        sandbox_store, {"email": existing["email"], "firstname": "A", "lastname": "B"}
    )
    other_site = _create(
        sandbox_store,
        {"email": existing["email"], "firstname": "A", "lastname": "B", "website_id": 2},
    )

    assert same_site.status_code == 400
    assert same_site.json() == {
        "message": "A customer with the same email address already exists in an associated website."
    }
    assert other_site.status_code == 200


def test_missing_firstname_is_the_published_single_required_error(sandbox_store):
    response = _create(sandbox_store, {"email": "no.name@example.com", "lastname": "B"})

    assert (response.status_code, response.json()) == load_error("required_field_single")


def test_several_missing_fields_are_aggregated(sandbox_store):
    response = _create(sandbox_store, {"email": "x@example.com"})

    assert response.status_code == 400
    assert response.json() == {
        "message": "One or more input exceptions have occurred.",
        "errors": [
            {
                "message": '"%fieldName" is required. Enter and try again.',
                "parameters": {"fieldName": "firstname"},
            },
            {
                "message": '"%fieldName" is required. Enter and try again.',
                "parameters": {"fieldName": "lastname"},
            },
        ],
    }


def test_missing_customer_parameter(sandbox_store):
    response = requests.post(rest(sandbox_store, "/V1/customers"), json={"password": "x"})

    assert response.status_code == 400
    assert response.json() == {
        "message": '"%fieldName" is required. Enter and try again.',
        "parameters": {"fieldName": "customer"},
    }


@pytest.mark.parametrize(
    ("key", "named"), [("nickname", "Nickname"), ("favourite_color", "FavouriteColor")]
)
def test_unknown_field_inside_the_customer_is_not_supported(sandbox_store, key, named):
    response = _create(
        sandbox_store,
        {"email": "u@example.com", "firstname": "A", "lastname": "B", key: "x"},
    )

    assert response.status_code == 400
    assert response.json() == {
        "message": '"%fieldName" is not supported. Correct the field name and try again.',
        "parameters": {"fieldName": named},
    }


def test_unknown_top_level_keys_are_ignored_and_numeric_strings_accepted(sandbox_store):
    response = _create(
        sandbox_store,
        {
            "email": "n@example.com",
            "firstname": "A",
            "lastname": "B",
            "group_id": "2",
            "websiteId": "1",
        },
        sendWelcomeEmail=True,
    )

    assert response.status_code == 200, response.text
    assert response.json()["group_id"] == 2
    assert response.json()["website_id"] == 1


def test_array_where_a_string_is_expected(sandbox_store):
    response = _create(
        sandbox_store, {"email": "t@example.com", "firstname": ["A"], "lastname": "B"}
    )

    assert response.status_code == 400
    body = response.json()
    assert body["message"] == 'Error occurred during "%field_name" processing. %details'
    assert body["parameters"]["field_name"] == "firstname"
    assert 'The "string" type was expected' in body["parameters"]["details"]


@pytest.mark.parametrize(
    ("password", "message", "minimum"),
    [
        (
            "short",
            "The password needs at least %1 characters. Create a new password and try again.",
            8,
        ),
        (
            "lowercase123",
            "Minimum of different classes of characters in password is %1. Classes of "
            "characters: Lower Case, Upper Case, Digits, Special Characters.",
            3,
        ),
    ],
)
def test_weak_password_is_refused(sandbox_store, password, message, minimum):
    response = _create(
        sandbox_store,
        {"email": "p@example.com", "firstname": "A", "lastname": "B"},
        password=password,
    )

    assert response.status_code == 400
    assert response.json() == {"message": message, "parameters": [minimum]}


def test_put_replaces_the_customer_but_keeps_omitted_addresses(sandbox_store):
    before = sandbox_store.store.customer_get(1)
    sandbox_store.store.clock.advance(90)
    changed = {
        "email": before["email"],
        "firstname": "Changed",
        "lastname": before["lastname"],
        "middlename": "Q",
    }

    response = _put(sandbox_store, 1, changed)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["firstname"] == "Changed"
    assert body["addresses"] == before["addresses"]
    assert body["default_billing"] == before["default_billing"]
    assert body["created_at"] == before["created_at"]
    assert body["updated_at"] > before["updated_at"]
    assert sandbox_store.store.customer_get(1)["middlename"] == "Q"


def test_put_drops_fields_that_are_not_sent_and_replaces_sent_addresses(sandbox_store):
    before = sandbox_store.store.customer_get(1)
    base = {k: before[k] for k in ("email", "firstname", "lastname")}
    _put(sandbox_store, 1, {**base, "middlename": "Q"})

    emptied = _put(sandbox_store, 1, {**base, "addresses": []}).json()

    assert "middlename" not in emptied
    assert emptied["addresses"] == []
    assert "default_billing" not in emptied


def test_put_keeps_address_ids_sent_back(sandbox_store):
    before = sandbox_store.store.customer_get(1)
    address = dict(before["addresses"][0], city="Springfield")

    body = _put(
        sandbox_store,
        1,
        {**{k: before[k] for k in ("email", "firstname", "lastname")}, "addresses": [address]},
    ).json()

    assert body["addresses"][0]["id"] == address["id"]
    assert body["addresses"][0]["city"] == "Springfield"


def test_put_validates_required_fields_and_unknown_customers(sandbox_store):
    invalid = _put(sandbox_store, 1, {"firstname": "A", "lastname": "B"})
    missing = _put(
        sandbox_store, 999, {"email": "a@example.com", "firstname": "A", "lastname": "B"}
    )

    assert invalid.status_code == 400
    assert invalid.json()["parameters"] == {"fieldName": "email"}
    assert missing.status_code == 404
    assert missing.json()["parameters"] == {"fieldName": "customerId", "fieldValue": 999}


def test_put_uses_the_id_in_the_path(sandbox_store):
    before = sandbox_store.store.customer_get(2)
    body = {**{k: before[k] for k in ("email", "firstname", "lastname")}, "id": 1}

    response = _put(sandbox_store, 2, body)

    assert response.json()["id"] == 2


def test_put_cannot_take_another_customers_email(sandbox_store):
    first = sandbox_store.store.customer_get(1)
    second = sandbox_store.store.customer_get(2)

    response = _put(
        sandbox_store,
        2,
        {"email": first["email"], "firstname": "X", "lastname": second["lastname"]},
    )

    assert response.status_code == 400
    assert "same email address" in response.json()["message"]

"""client.customers against a strict mock of Magento, using Adobe's published bodies."""

import pytest

from magento import (
    AmbiguousMatchError,
    NotFoundError,
    ValidationError,
)
from magento.resources import merge_customer
from magento.search import SearchCriteria, SearchResult
from tests.magento.resources.helpers import ALL, F, body_of, query_of
from tests.magento.schema_check import assert_matches_schema
from tests.shared_data import load_error, load_sample

DEFAULT_VIEW = "https://shop.example.com/rest/V1"


def search_envelope(items):
    return {"items": items, "search_criteria": {}, "total_count": len(items)}


# --- get / search ----------------------------------------------------------------------------


def test_get_returns_the_customer_as_magento_sent_it(client, store_mock):
    store_mock.get(f"{ALL}/customers/2", json=load_sample("customer"))
    customer = client.customers.get(2)
    assert customer == load_sample("customer")
    assert store_mock.calls[0].request.headers["Authorization"] == "Bearer test-token-1234"


def test_get_unknown_customer_raises_not_found_with_magentos_message(client, store_mock):
    status, body = load_error("customer_not_found")
    store_mock.get(f"{ALL}/customers/99", status=status, json=body)
    with pytest.raises(NotFoundError) as caught:
        client.customers.get(99)
    assert caught.value.message == "No such entity with customerId = -1"


@pytest.mark.parametrize(
    ("bad_id", "error"),
    [(0, ValueError), (-1, ValueError), (None, ValueError), (True, ValueError), ("x", ValueError)],
)
def test_get_refuses_bad_ids_before_calling_the_store(client, store_mock, bad_id, error):
    with pytest.raises(error, match="customer id"):
        client.customers.get(bad_id)


def test_get_accepts_a_digit_string_id(client, store_mock):
    store_mock.get(f"{ALL}/customers/2", json=load_sample("customer"))
    assert client.customers.get("2")["id"] == 2


def test_search_sends_the_criteria_and_reads_the_envelope(client, store_mock):
    store_mock.get(f"{ALL}/customers/search", json=load_sample("customers-search"))
    criteria = SearchCriteria().where("firstname", "like", "%ver%").with_page_size(20)
    result = client.customers.search(criteria)
    assert isinstance(result, SearchResult)
    assert result.total_count == 1
    assert result.items[0]["id"] == 1
    assert query_of(store_mock.calls[0]) == criteria.to_query()


def test_search_answer_that_is_not_an_envelope_is_unexpected(client, store_mock):
    from magento import UnexpectedResponseError

    store_mock.get(f"{ALL}/customers/search", json=[{"id": 1}])
    with pytest.raises(UnexpectedResponseError, match="not a Magento search result"):
        client.customers.search()


def test_iter_all_walks_customers_by_entity_id_and_reads_id(client, store_mock):
    first = [{"id": n, "email": f"c{n}@example.com"} for n in (1, 2)]
    store_mock.get(f"{ALL}/customers/search", json=search_envelope(first))
    store_mock.get(f"{ALL}/customers/search", json=search_envelope([{"id": 5}]))
    assert [c["id"] for c in client.customers.iter_all(page_size=2)] == [1, 2, 5]
    second = dict(query_of(store_mock.calls[1]))
    assert second[f"{F}[0][filters][0][field]"] == "entity_id"
    assert second[f"{F}[0][filters][0][condition_type]"] == "gt"
    assert second[f"{F}[0][filters][0][value]"] == "2"
    assert second["searchCriteria[sortOrders][0][field]"] == "entity_id"


# --- find / get by e-mail --------------------------------------------------------------------


def test_find_by_email_filters_on_email_and_returns_every_match(client, store_mock):
    items = load_sample("customers-search")["items"]
    store_mock.get(f"{ALL}/customers/search", json=search_envelope(items))
    found = client.customers.find_by_email(" roni_cost@example.com ")
    assert [c["email"] for c in found] == ["roni_cost@example.com"]
    assert query_of(store_mock.calls[0])[:3] == [
        (f"{F}[0][filters][0][field]", "email"),
        (f"{F}[0][filters][0][value]", "roni_cost@example.com"),
        (f"{F}[0][filters][0][condition_type]", "eq"),
    ]


def test_find_by_email_in_one_website_adds_a_website_filter(client, store_mock):
    store_mock.get(f"{ALL}/customers/search", json=search_envelope([]))
    assert client.customers.find_by_email("jdoe@example.com", website_id=2) == []
    assert query_of(store_mock.calls[0])[3:6] == [
        (f"{F}[1][filters][0][field]", "website_id"),
        (f"{F}[1][filters][0][value]", "2"),
        (f"{F}[1][filters][0][condition_type]", "eq"),
    ]


def test_get_by_email_returns_the_single_match(client, store_mock):
    store_mock.get(f"{ALL}/customers/search", json=load_sample("customers-search"))
    assert client.customers.get_by_email("roni_cost@example.com")["id"] == 1


def test_get_by_email_without_match_is_not_found(client, store_mock):
    store_mock.get(f"{ALL}/customers/search", json=search_envelope([]))
    with pytest.raises(NotFoundError, match=r"no customer with e-mail jdoe@example\.com"):
        client.customers.get_by_email("jdoe@example.com")


def test_get_by_email_with_accounts_in_two_websites_is_ambiguous_and_names_them(client, store_mock):
    one = load_sample("customer")
    other = dict(one, id=7, website_id=2, store_id=3)
    store_mock.get(f"{ALL}/customers/search", json=search_envelope([one, other]))
    with pytest.raises(AmbiguousMatchError) as caught:
        client.customers.get_by_email("jdoe@example.com")
    assert "customer 2 in website 1" in str(caught.value)
    assert "customer 7 in website 2" in str(caught.value)


@pytest.mark.parametrize(
    "email", ["", "   ", "jdoe", "jdoe@", "@example.com", "j doe@example.com", "jdoe@example"]
)
def test_bad_email_is_refused_before_calling_the_store(client, store_mock, email):
    with pytest.raises(ValueError):
        client.customers.find_by_email(email)


def test_bad_website_id_is_refused(client, store_mock):
    with pytest.raises(ValueError, match="website id"):
        client.customers.find_by_email("jdoe@example.com", website_id=-1)


# --- create ----------------------------------------------------------------------------------


NEW_CUSTOMER = {
    "email": "jdoe@example.com",
    "firstname": "Jane",
    "lastname": "Doe",
    "website_id": 1,
    "addresses": [
        {
            "default_shipping": True,
            "default_billing": True,
            "firstname": "Jane",
            "lastname": "Doe",
            "region": {"region_code": "NY", "region": "New York", "region_id": 43},
            "postcode": "10755",
            "street": ["123 Oak Ave"],
            "city": "Purchase",
            "telephone": "512-555-1111",
            "country_id": "US",
        }
    ],
}


def test_create_posts_customer_and_password_to_the_default_store_view(client, store_mock):
    store_mock.post(f"{DEFAULT_VIEW}/customers", json=load_sample("customer-create-response"))
    created = client.customers.create(NEW_CUSTOMER, password="Password1")
    assert created["id"] == 2
    body = body_of(store_mock.calls[0])
    assert body == {"customer": NEW_CUSTOMER, "password": "Password1"}
    assert_matches_schema(body, ("/V1/customers", "post"))


def test_create_without_password_sends_no_password_key(client, store_mock):
    store_mock.post(f"{DEFAULT_VIEW}/customers", json=load_sample("customer-create-response"))
    client.customers.create({"email": "a@example.com", "firstname": "A", "lastname": "B"})
    assert body_of(store_mock.calls[0]) == {
        "customer": {"email": "a@example.com", "firstname": "A", "lastname": "B"}
    }
    assert_matches_schema(body_of(store_mock.calls[0]), ("/V1/customers", "post"))


def test_create_in_a_chosen_store_view(client, store_mock):
    store_mock.post("https://shop.example.com/rest/de/V1/customers", json=load_sample("customer"))
    client.customers.create(NEW_CUSTOMER, store_code="de")


def test_create_duplicate_email_raises_validation_error(client, store_mock):
    message = "A customer with the same email address already exists in an associated website."
    store_mock.post(f"{DEFAULT_VIEW}/customers", status=400, json={"message": message})
    with pytest.raises(ValidationError, match="already exists"):
        client.customers.create(NEW_CUSTOMER)


@pytest.mark.parametrize(
    ("customer", "message"),
    [
        ({"firstname": "A", "lastname": "B"}, "e-mail"),
        ({"email": "nope", "firstname": "A", "lastname": "B"}, "not a valid e-mail"),
        ({"email": "a@example.com", "lastname": "B"}, "firstname"),
        ({"email": "a@example.com", "firstname": "A", "lastname": " "}, "lastname"),
        ({"id": 3, "email": "a@example.com", "firstname": "A", "lastname": "B"}, "'id'"),
    ],
)
def test_create_refuses_incomplete_customers(client, store_mock, customer, message):
    with pytest.raises(ValueError, match=message):
        client.customers.create(customer)


def test_create_refuses_an_empty_password(client, store_mock):
    with pytest.raises(ValueError, match="password"):
        client.customers.create(NEW_CUSTOMER, password="")


def test_create_does_not_change_the_callers_dict(client, store_mock):
    store_mock.post(f"{DEFAULT_VIEW}/customers", json=load_sample("customer"))
    given = {"email": " a@example.com ", "firstname": "A", "lastname": "B"}
    client.customers.create(given)
    assert given["email"] == " a@example.com "
    assert body_of(store_mock.calls[0])["customer"]["email"] == "a@example.com"


# --- update (read-modify-write) --------------------------------------------------------------


def test_update_keeps_untouched_fields_and_leaves_addresses_out(client, store_mock):
    stored = load_sample("customer")
    store_mock.get(f"{ALL}/customers/2", json=stored)
    store_mock.put(f"{DEFAULT_VIEW}/customers/2", json=dict(stored, lastname="Smith"))
    saved = client.customers.update(2, {"lastname": "Smith"})
    assert saved["lastname"] == "Smith"
    body = body_of(store_mock.calls[1])
    expected = {key: value for key, value in stored.items() if key != "addresses"}
    expected["lastname"] = "Smith"
    assert body == {"customer": expected}
    assert "addresses" not in body["customer"]
    assert body["customer"]["default_billing"] == "2"  # the default address stays the default
    assert_matches_schema(body, ("/V1/customers/{customerId}", "put"))


def test_update_with_addresses_sends_the_given_list(client, store_mock):
    stored = load_sample("customer")
    new_addresses = [dict(stored["addresses"][0], city="Albany")]
    store_mock.get(f"{ALL}/customers/2", json=stored)
    store_mock.put(f"{DEFAULT_VIEW}/customers/2", json=stored)
    client.customers.update(2, {"addresses": new_addresses})
    body = body_of(store_mock.calls[1])
    assert body["customer"]["addresses"] == new_addresses
    assert body["customer"]["email"] == "jdoe@example.com"
    assert_matches_schema(body, ("/V1/customers/{customerId}", "put"))


def test_update_merges_extension_and_custom_attributes(client, store_mock):
    stored = load_sample("customer")
    stored["custom_attributes"] = [
        {"attribute_code": "loyalty_tier", "value": "gold"},
        {"attribute_code": "referrer", "value": "newsletter"},
    ]
    stored["extension_attributes"]["assistance_allowed"] = 1
    store_mock.get(f"{ALL}/customers/2", json=stored)
    store_mock.put(f"{DEFAULT_VIEW}/customers/2", json=stored)
    client.customers.update(
        2,
        {
            "extension_attributes": {"is_subscribed": True},
            "custom_attributes": [
                {"attribute_code": "loyalty_tier", "value": "platinum"},
                {"attribute_code": "source", "value": "portal"},
            ],
        },
    )
    customer = body_of(store_mock.calls[1])["customer"]
    assert customer["extension_attributes"] == {"is_subscribed": True, "assistance_allowed": 1}
    assert customer["custom_attributes"] == [
        {"attribute_code": "loyalty_tier", "value": "platinum"},
        {"attribute_code": "referrer", "value": "newsletter"},
        {"attribute_code": "source", "value": "portal"},
    ]
    assert_matches_schema(body_of(store_mock.calls[1]), ("/V1/customers/{customerId}", "put"))


def test_update_of_a_missing_customer_never_puts(client, store_mock):
    status, body = load_error("customer_not_found")
    store_mock.get(f"{ALL}/customers/99", status=status, json=body)
    with pytest.raises(NotFoundError):
        client.customers.update(99, {"lastname": "Smith"})
    assert len(store_mock.calls) == 1


def test_update_rejected_by_the_store_raises_validation_error(client, store_mock):
    status, body = load_error("required_field_single")
    store_mock.get(f"{ALL}/customers/2", json=load_sample("customer"))
    store_mock.put(f"{DEFAULT_VIEW}/customers/2", status=status, json=body)
    with pytest.raises(ValidationError, match='"firstname" is required'):
        client.customers.update(2, {"firstname": ""})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({}, "no changes"),
        ({"id": 3}, "another 'id'"),
        ({"email": "not-an-email"}, "not a valid e-mail"),
        ({"addresses": {"city": "x"}}, "must be a list"),
    ],
)
def test_update_refuses_bad_changes_before_calling_the_store(client, store_mock, changes, message):
    with pytest.raises(ValueError, match=message):
        client.customers.update(2, changes)


def test_merge_customer_does_not_touch_its_inputs():
    stored = load_sample("customer")
    changes = {"extension_attributes": {"is_subscribed": True}}
    merged = merge_customer(stored, changes)
    assert stored == load_sample("customer")
    assert changes == {"extension_attributes": {"is_subscribed": True}}
    assert merged["extension_attributes"] == {"is_subscribed": True}

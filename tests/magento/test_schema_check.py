"""The schema check used on every request body must itself be able to fail."""

import pytest

from tests.magento.schema_check import assert_matches_schema

SHIP = ("/V1/order/{orderId}/ship", "post")


def test_a_body_with_the_schemas_names_and_types_passes():
    assert_matches_schema({"items": [{"order_item_id": 3, "qty": 1}], "notify": True}, SHIP)


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"notify": True, "notify_customer": True}, "notify_customer"),
        ({"items": [{"order_item_id": 3, "quantity": 1}]}, "quantity"),
        ({"notify": "yes"}, "'yes' is not of type 'boolean'"),
        ({"items": [{"order_item_id": "3", "qty": 1}]}, "'3' is not of type 'integer'"),
        ({"tracks": {"track_number": "1Z"}}, "is not of type 'array'"),
    ],
)
def test_an_unknown_name_or_a_wrong_type_fails(body, complaint):
    with pytest.raises(AssertionError, match="does not match the schema") as caught:
        assert_matches_schema(body, SHIP)
    assert complaint in str(caught.value)


def test_required_lists_are_not_enforced_but_nested_definitions_are_checked():
    # The schema lists email, firstname and lastname as required; Magento's PUT does not need them
    # in our read-modify-write, and neither does the check.
    assert_matches_schema({"customer": {"id": 2}}, ("/V1/customers/{customerId}", "put"))
    with pytest.raises(AssertionError, match="group"):
        assert_matches_schema({"customer": {"group": 1}}, ("/V1/customers/{customerId}", "put"))


def test_camel_case_names_pass_only_when_allowed():
    body = {"customer": {"firstname": "Jane", "websiteId": 1}}
    with pytest.raises(AssertionError, match="websiteId"):
        assert_matches_schema(body, ("/V1/customers", "post"))
    assert_matches_schema(body, ("/V1/customers", "post"), camel_case_ok=True)


def test_a_definition_name_can_be_checked_and_unknown_ones_are_refused():
    assert_matches_schema({"sku": "MS-Champ-S", "price": 25}, "catalog-data-product-interface")
    with pytest.raises(AssertionError, match="no definition"):
        assert_matches_schema({}, "no-such-definition")

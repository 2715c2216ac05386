"""create_customer: a new customer account, with one address if given."""

from __future__ import annotations

from typing import Any

from automations.actions._base import (
    REDACTED,
    Action,
    ActionInput,
    ActionResult,
    PlannedRequest,
)
from automations.actions._customer_fields import (
    ADDRESS_INPUTS,
    CUSTOM_ATTRIBUTES,
    CUSTOMER_OUTPUT_FIELDS,
    PROFILE_FIELDS,
    PROFILE_INPUTS,
    WEBSITE_ID,
    address_fields,
    check_address,
    custom_attribute_list,
    has_address,
    profile_fields,
)

PATH = "/V1/customers"


class CreateCustomer(Action):
    id = "create_customer"
    label = "Create a customer"
    description = "Creates a customer account (and one address, if given)."
    output_fields = CUSTOMER_OUTPUT_FIELDS
    writes = True
    creates = True
    inputs = (
        ActionInput("email", "E-mail", "email", required=True),
        ActionInput("firstname", "First name", required=True),
        ActionInput("lastname", "Last name", required=True),
        WEBSITE_ID,
        *PROFILE_INPUTS,
        ActionInput(
            "password",
            "Password",
            secret=True,
            help_text="Leave empty and Magento e-mails the customer a link to choose one. "
            "Never stored in the run history.",
        ),
        *ADDRESS_INPUTS,
        CUSTOM_ATTRIBUTES,
    )

    def clean(self, values: dict[str, Any]) -> None:
        check_address(values, complete=True)
        if "custom_attributes" in values:
            values["custom_attributes"] = custom_attribute_list(values["custom_attributes"])

    def customer_body(self, values: dict[str, Any]) -> dict[str, Any]:
        customer: dict[str, Any] = {"email": values["email"]}
        customer.update(profile_fields(values, PROFILE_FIELDS))
        if has_address(values):
            address = {
                "firstname": values["firstname"],
                "lastname": values["lastname"],
                "default_billing": True,
                "default_shipping": True,
                **address_fields(values),
            }
            customer["addresses"] = [address]
        return customer

    def run(self, client: Any, values: dict[str, Any]) -> ActionResult:
        customer = client.customers.create(self.customer_body(values), values.get("password"))
        return ActionResult(
            output=customer, request_method="POST", request_path=PATH, response=customer
        )

    def plan(self, client: Any, values: dict[str, Any]) -> PlannedRequest:
        body: dict[str, Any] = {"customer": self.customer_body(values)}
        if values.get("password"):
            body["password"] = REDACTED
        return PlannedRequest("POST", PATH, body)

    def find_existing(self, client: Any, values: dict[str, Any]) -> ActionResult | None:
        matches = client.customers.find_by_email(values["email"], values.get("website_id"))
        if len(matches) != 1:
            return None
        return ActionResult(
            output=matches[0],
            request_method="GET",
            request_path="/V1/customers/search",
            response=matches[0],
        )

    def subject(self, values: dict[str, Any]) -> str:
        return values.get("email", "")

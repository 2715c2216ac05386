"""update_customer: change the given fields of a customer; everything else stays as it is."""

from __future__ import annotations

import copy
from typing import Any

from automations.actions._base import (
    Action,
    ActionInput,
    ActionInputError,
    ActionResult,
    PlannedRequest,
)
from automations.actions._customer_fields import (
    ADDRESS_INPUTS,
    CUSTOM_ATTRIBUTES,
    CUSTOMER_OUTPUT_FIELDS,
    PROFILE_INPUTS,
    WEBSITE_ID,
    address_fields,
    custom_attribute_list,
    has_address,
    profile_fields,
)

CHANGEABLE = ("firstname", "lastname", *(item.name for item in PROFILE_INPUTS))


class UpdateCustomer(Action):
    id = "update_customer"
    label = "Update a customer"
    description = (
        "Changes the given fields of a customer found by ID or e-mail. Fields left empty keep "
        "their values; addresses are untouched unless address fields are given."
    )
    output_fields = CUSTOMER_OUTPUT_FIELDS
    writes = True
    inputs = (
        ActionInput(
            "customer_id",
            "Customer ID",
            "integer",
            help_text="The customer to change. Leave empty to find the customer by e-mail.",
        ),
        ActionInput(
            "email",
            "E-mail",
            "email",
            help_text="Without a customer ID: the e-mail to find the customer by. With a "
            "customer ID: the new e-mail address.",
        ),
        ActionInput(
            "website_id",
            WEBSITE_ID.label,
            "integer",
            help_text="With an e-mail: the website whose account to change (needed when "
            "several websites have one).",
        ),
        ActionInput("firstname", "First name"),
        ActionInput("lastname", "Last name"),
        *PROFILE_INPUTS,
        *ADDRESS_INPUTS,
        CUSTOM_ATTRIBUTES,
    )

    def clean(self, values: dict[str, Any]) -> None:
        if "customer_id" not in values and "email" not in values:
            raise ActionInputError({"customer_id": "Give the customer ID or the e-mail."})
        if "customer_id" in values and values["customer_id"] <= 0:
            raise ActionInputError({"customer_id": "Expected a customer ID (1 or more)."})
        if "custom_attributes" in values:
            values["custom_attributes"] = custom_attribute_list(values["custom_attributes"])
        if not self.changes(values) and not has_address(values):
            raise ActionInputError({"customer_id": "Nothing to change: give at least one field."})

    def changes(self, values: dict[str, Any]) -> dict[str, Any]:
        changes = profile_fields(values, CHANGEABLE)
        if "customer_id" in values and "email" in values:
            changes["email"] = values["email"]
        return changes

    def find(self, client: Any, values: dict[str, Any]) -> dict[str, Any]:
        if "customer_id" in values:
            return client.customers.get(values["customer_id"])
        return client.customers.get_by_email(values["email"], values.get("website_id"))

    def addresses(self, customer: dict[str, Any], values: dict[str, Any]) -> list[dict]:
        """Every address kept as it is, with the given fields written into the default billing
        address (or a first address added)."""
        addresses = copy.deepcopy(customer.get("addresses") or [])
        given = address_fields(values)
        default_id = customer.get("default_billing")
        target = next(
            (a for a in addresses if str(a.get("id")) == str(default_id)),
            addresses[0] if addresses else None,
        )
        if target is None:
            addresses.append(
                {
                    "firstname": values.get("firstname", customer.get("firstname")),
                    "lastname": values.get("lastname", customer.get("lastname")),
                    "default_billing": True,
                    "default_shipping": True,
                    **given,
                }
            )
        else:
            if "region" in given and "region_id" not in given:
                target.pop("region_id", None)
            target.update(given)
        return addresses

    def run(self, client: Any, values: dict[str, Any]) -> ActionResult:
        customer = self.find(client, values)
        changes = self.changes(values)
        if has_address(values):
            changes["addresses"] = self.addresses(customer, values)
        updated = client.customers.update(customer["id"], changes)
        path = f"/V1/customers/{customer['id']}"
        return ActionResult(
            output=updated, request_method="PUT", request_path=path, response=updated
        )

    def plan(self, client: Any, values: dict[str, Any]) -> PlannedRequest:
        customer = self.find(client, values)
        changes = self.changes(values)
        if has_address(values):
            changes["addresses"] = self.addresses(customer, values)
        notes = ["Magento replaces the whole customer: the other fields are sent as they are."]
        return PlannedRequest(
            "PUT", f"/V1/customers/{customer['id']}", {"customer": changes}, notes
        )

    def subject(self, values: dict[str, Any]) -> str:
        if "customer_id" in values:
            return f"customer {values['customer_id']}"
        return values.get("email", "")

"""get_customer_by_email: the one customer with an e-mail address, or an empty result."""

from __future__ import annotations

from typing import Any

from automations.actions._base import Action, ActionInput, ActionRefused, ActionResult
from automations.actions._customer_fields import CUSTOMER_OUTPUT_FIELDS, WEBSITE_ID
from magento.errors import AmbiguousMatchError, NotFoundError

PATH = "/V1/customers/search"
FAIL, EMPTY = "fail", "empty"


class GetCustomerByEmail(Action):
    id = "get_customer_by_email"
    label = "Find a customer by e-mail"
    description = "Looks up the customer with an e-mail address."
    output_fields = CUSTOMER_OUTPUT_FIELDS
    inputs = (
        ActionInput("email", "E-mail", "email", required=True),
        ActionInput(
            "website_id",
            WEBSITE_ID.label,
            "integer",
            help_text="Needed when several websites have an account with this e-mail "
            "(the step fails and names them rather than pick one).",
        ),
        ActionInput(
            "if_none",
            "If no customer has this e-mail",
            "choice",
            choices=((FAIL, "Fail the step"), (EMPTY, "Give an empty result and go on")),
            default=FAIL,
        ),
    )

    def run(self, client: Any, values: dict[str, Any]) -> ActionResult:
        email, website_id = values["email"], values.get("website_id")
        matches = client.customers.find_by_email(email, website_id)
        where = f" in website {website_id}" if website_id is not None else ""
        if not matches:
            if values["if_none"] == EMPTY:
                return ActionResult(output={}, request_method="GET", request_path=PATH, response=[])
            raise NotFoundError(
                f"No customer has the e-mail address {email}{where}.", method="GET", path=PATH
            )
        if len(matches) > 1:
            found = "; ".join(
                f"customer {item.get('id')} in website {item.get('website_id')}" for item in matches
            )
            raise AmbiguousMatchError(
                f"{len(matches)} customers have the e-mail address {email}: {found}. Set "
                "website_id to choose one.",
                method="GET",
                path=PATH,
            )
        return ActionResult(
            output=matches[0], request_method="GET", request_path=PATH, response=matches[0]
        )

    def plan(self, client: Any, values: dict[str, Any]):
        raise ActionRefused("A read runs for real; there is nothing to plan.")

    def subject(self, values: dict[str, Any]) -> str:
        return values.get("email", "")

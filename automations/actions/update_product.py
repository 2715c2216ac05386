"""update_product: change the given fields of the product with a SKU."""

from __future__ import annotations

from typing import Any

from automations.actions._base import (
    Action,
    ActionInput,
    ActionInputError,
    ActionResult,
    PlannedRequest,
)
from automations.actions._product_fields import (
    DETAIL_FIELDS,
    DETAIL_INPUTS,
    PRODUCT_OUTPUT_FIELDS,
    SKU,
    product_fields,
)
from magento.resources import sku_path
from magento.store_domain import validate_store_code

ALL_STORE_VIEWS = "all"
# The fields an update may change: what a create sets, but the identity (SKU, set, type).
CHANGEABLE = ("name", "price", *DETAIL_FIELDS)


class UpdateProduct(Action):
    id = "update_product"
    label = "Update a product"
    description = "Changes the given fields of the product with a SKU; the others stay."
    output_fields = PRODUCT_OUTPUT_FIELDS
    writes = True
    inputs = (
        SKU,
        ActionInput("name", "Name"),
        ActionInput("price", "Price", "number"),
        *DETAIL_INPUTS,
        ActionInput(
            "store_code",
            "Scope",
            default=ALL_STORE_VIEWS,
            help_text="'all' (the default) changes the global value every store view shows. "
            "A store view code (e.g. 'default', 'fr') saves a value for that store view only; "
            "it overrides the global value there from then on, also after later global "
            "changes. Use it for translations, not for prices or stock.",
        ),
    )

    def clean(self, values: dict[str, Any]) -> None:
        try:
            values["store_code"] = validate_store_code(values["store_code"].strip())
        except ValueError as problem:
            raise ActionInputError({"store_code": str(problem)}) from None
        if not self.changes(values):
            raise ActionInputError({"sku": "Nothing to change: give at least one field."})

    def changes(self, values: dict[str, Any]) -> dict[str, Any]:
        return product_fields(values, CHANGEABLE)

    def run(self, client: Any, values: dict[str, Any]) -> ActionResult:
        product = client.products.update(
            values["sku"], self.changes(values), store_code=values["store_code"]
        )
        return ActionResult(
            output=product,
            request_method="PUT",
            request_path=sku_path(values["sku"]),
            response=product,
        )

    def plan(self, client: Any, values: dict[str, Any]) -> PlannedRequest:
        body = {"product": {"sku": values["sku"], **self.changes(values)}}
        return PlannedRequest(
            "PUT", sku_path(values["sku"]), body, [f"Sent to store code {values['store_code']!r}."]
        )

    def subject(self, values: dict[str, Any]) -> str:
        return values.get("sku", "")

"""get_product_by_sku: the product with a SKU (any SKU: '/', '+', '&', spaces, accents)."""

from __future__ import annotations

from typing import Any

from automations.actions._base import Action, ActionRefused, ActionResult
from automations.actions._product_fields import PRODUCT_OUTPUT_FIELDS, SKU
from magento.resources import sku_path


class GetProductBySku(Action):
    id = "get_product_by_sku"
    label = "Find a product by SKU"
    description = "Looks up the product with a SKU."
    output_fields = PRODUCT_OUTPUT_FIELDS
    inputs = (SKU,)

    def run(self, client: Any, values: dict[str, Any]) -> ActionResult:
        product = client.products.get(values["sku"])
        return ActionResult(
            output=product,
            request_method="GET",
            request_path=sku_path(values["sku"]),
            response=product,
        )

    def plan(self, client: Any, values: dict[str, Any]):
        raise ActionRefused("A read runs for real; there is nothing to plan.")

    def subject(self, values: dict[str, Any]) -> str:
        return values.get("sku", "")

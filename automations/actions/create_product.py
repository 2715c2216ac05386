"""create_product: a new product, written to all store views (store code "all")."""

from __future__ import annotations

from typing import Any

from automations.actions._base import Action, ActionInput, ActionResult, PlannedRequest
from automations.actions._product_fields import (
    DETAIL_FIELDS,
    DETAIL_INPUTS,
    PRODUCT_OUTPUT_FIELDS,
    SKU,
    product_fields,
)
from magento.errors import NotFoundError
from magento.resources import sku_path

PATH = "/V1/products"
ALL_STORE_VIEWS = "all"
TYPES = (("simple", "Simple product"), ("virtual", "Virtual product"))


class CreateProduct(Action):
    id = "create_product"
    label = "Create a product"
    description = "Creates a product with global values (for all store views)."
    output_fields = PRODUCT_OUTPUT_FIELDS
    writes = True
    creates = True
    inputs = (
        SKU,
        ActionInput("name", "Name", required=True),
        ActionInput("price", "Price", "number", required=True),
        ActionInput(
            "attribute_set_id",
            "Attribute set ID",
            "integer",
            help_text="Leave empty for the store's Default attribute set (looked up by name).",
        ),
        ActionInput("type_id", "Product type", "choice", choices=TYPES, default="simple"),
        *DETAIL_INPUTS,
    )

    def product_body(self, client: Any, values: dict[str, Any]) -> dict[str, Any]:
        product = {"sku": values["sku"], "name": values["name"], "price": values["price"]}
        product["attribute_set_id"] = values.get("attribute_set_id") or self.default_set(client)
        product["type_id"] = values["type_id"]
        product.update(product_fields(values, DETAIL_FIELDS))
        return product

    def default_set(self, client: Any) -> int:
        try:
            return client.products.attribute_set_id("Default")
        except NotFoundError:
            raise NotFoundError(
                "The store has no attribute set named 'Default': give attribute_set_id.",
                method="GET",
                path=client.products.attribute_sets_path,
            ) from None

    def run(self, client: Any, values: dict[str, Any]) -> ActionResult:
        body = self.product_body(client, values)
        product = client.products.create(body, store_code=ALL_STORE_VIEWS)
        return ActionResult(
            output=product, request_method="POST", request_path=PATH, response=product
        )

    def plan(self, client: Any, values: dict[str, Any]) -> PlannedRequest:
        body = {"product": self.product_body(client, values)}
        return PlannedRequest("POST", PATH, body, ["Sent to store code 'all' (global values)."])

    def find_existing(self, client: Any, values: dict[str, Any]) -> ActionResult | None:
        try:
            product = client.products.get(values["sku"])
        except NotFoundError:
            return None
        return ActionResult(
            output=product,
            request_method="GET",
            request_path=sku_path(values["sku"]),
            response=product,
        )

    def subject(self, values: dict[str, Any]) -> str:
        return values.get("sku", "")

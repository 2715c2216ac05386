"""Inputs and body building shared by the product actions (not an action: name starts with _)."""

from __future__ import annotations

from typing import Any

from automations.actions._base import ActionInput
from automations.actions._customer_fields import CUSTOM_ATTRIBUTES, custom_attribute_list

STATUSES = (("1", "Enabled"), ("2", "Disabled"))
VISIBILITIES = (
    ("1", "Not visible individually"),
    ("2", "Catalog"),
    ("3", "Search"),
    ("4", "Catalog, search"),
)
SKU = ActionInput(
    "sku",
    "SKU",
    required=True,
    help_text="Any SKU, including '/', '+', '&', spaces and accents (at most 64 characters).",
    # Magento's limit: SKU_MAX_LENGTH in Magento/Catalog/Model/Product/Attribute/Backend/Sku.php.
    max_length=64,
)

DETAIL_INPUTS = (
    ActionInput("status", "Status", "choice", choices=STATUSES),
    ActionInput("visibility", "Visibility", "choice", choices=VISIBILITIES),
    ActionInput("weight", "Weight", "number"),
    ActionInput("qty", "Quantity in stock", "number"),
    ActionInput(
        "is_in_stock",
        "In stock",
        "boolean",
        help_text="Follows the quantity when left empty (in stock when above 0).",
    ),
    ActionInput("description", "Description", help_text="HTML is allowed.", multiline=True),
    ActionInput("short_description", "Short description", multiline=True),
    CUSTOM_ATTRIBUTES,
)
# Their names, in that order: what create_product sets besides its identity, and what
# update_product may change besides name and price.
DETAIL_FIELDS = tuple(item.name for item in DETAIL_INPUTS)


# Fields of the product itself; stock and descriptions go elsewhere in Magento's body.
TOP_LEVEL = ("name", "price", "status", "visibility", "weight")


def product_fields(values: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The product body from the values given: Magento's fields, stock and attributes."""
    product: dict[str, Any] = {}
    for name in names:
        if name in values and name in TOP_LEVEL:
            product[name] = int(values[name]) if name in ("status", "visibility") else values[name]
    stock: dict[str, Any] = {}
    if "qty" in values:
        stock["qty"] = values["qty"]
        stock["is_in_stock"] = values.get("is_in_stock", values["qty"] > 0)
    elif "is_in_stock" in values:
        stock["is_in_stock"] = values["is_in_stock"]
    if stock:
        product["extension_attributes"] = {"stock_item": stock}
    attributes = []
    for name in ("description", "short_description"):
        if name in values:
            attributes.append({"attribute_code": name, "value": values[name]})
    if "custom_attributes" in values:
        attributes.extend(custom_attribute_list(values["custom_attributes"]))
    if attributes:
        product["custom_attributes"] = attributes
    return product


# What later steps usually take from a product output ({{ steps.N.sku }}).
PRODUCT_OUTPUT_FIELDS = (
    "id",
    "sku",
    "name",
    "price",
    "type_id",
    "status",
    "visibility",
    "weight",
    "attribute_set_id",
)

"""New products: every product added to the catalog, oldest first by created_at."""

from __future__ import annotations

from automations.triggers._base import Trigger, TriggerFilter

PRODUCT_TYPES = (
    ("simple", "Simple"),
    ("configurable", "Configurable"),
    ("virtual", "Virtual"),
    ("bundle", "Bundle"),
    ("grouped", "Grouped"),
    ("downloadable", "Downloadable"),
)


class ProductCreated(Trigger):
    id = "product_created"
    label = "New products"
    description = "Fires once for each new product, oldest first."
    resource = "products"
    search_path = "/V1/products"
    timestamp_field = "created_at"
    # Products are filtered on entity_id but carry their id as "id".
    key_field = "sku"
    filters = (
        TriggerFilter("type_id", "Product type", "type_id", type="choice", choices=PRODUCT_TYPES),
        TriggerFilter(
            "attribute_set_id",
            "Attribute set id",
            "attribute_set_id",
            type="int",
            help_text="Only products of these attribute sets (4 = Default on a standard store).",
        ),
    )
    sample_fields = (
        "id",
        "sku",
        "name",
        "price",
        "status",
        "visibility",
        "type_id",
        "attribute_set_id",
        "created_at",
        "custom_attributes",
        "extension_attributes",
    )

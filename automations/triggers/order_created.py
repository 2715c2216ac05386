"""New orders: every order placed, oldest first by created_at."""

from __future__ import annotations

from automations.triggers._base import Trigger, TriggerFilter

ORDER_STATUSES = (
    ("pending", "Pending"),
    ("processing", "Processing"),
    ("complete", "Complete"),
    ("closed", "Closed"),
    ("canceled", "Canceled"),
    ("holded", "On Hold"),
    ("payment_review", "Payment Review"),
    ("pending_payment", "Pending Payment"),
    ("fraud", "Suspected Fraud"),
)


class OrderCreated(Trigger):
    id = "order_created"
    label = "New orders"
    description = (
        "Fires once for each new order, oldest first. A status filter looks at the order's "
        "status when the portal reads it."
    )
    resource = "orders"
    search_path = "/V1/orders"
    timestamp_field = "created_at"
    id_key = "entity_id"
    key_field = "increment_id"
    filters = (
        TriggerFilter(
            "status",
            "Order status",
            "status",
            help_text="Only orders in these statuses (Magento's status codes; custom "
            "statuses too).",
        ),
        TriggerFilter(
            "store_id", "Store id", "store_id", type="int", help_text="Only these stores."
        ),
        TriggerFilter(
            "customer_group_id",
            "Customer group id",
            "customer_group_id",
            type="int",
            help_text="Only orders by these customer groups (0 = guests).",
        ),
    )
    sample_fields = (
        "entity_id",
        "increment_id",
        "state",
        "status",
        "store_id",
        "customer_id",
        "customer_email",
        "customer_firstname",
        "customer_lastname",
        "customer_group_id",
        "grand_total",
        "subtotal",
        "created_at",
        "items",
        "billing_address",
    )

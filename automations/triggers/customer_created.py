"""New customers: every customer account, oldest first by created_at."""

from __future__ import annotations

from automations.triggers._base import Trigger, TriggerFilter

CUSTOMER_FILTERS = (
    TriggerFilter(
        "website_id", "Website id", "website_id", type="int", help_text="Only these websites."
    ),
    TriggerFilter("store_id", "Store id", "store_id", type="int", help_text="Only these stores."),
    TriggerFilter(
        "group_id",
        "Customer group id",
        "group_id",
        type="int",
        help_text="Only these customer groups (1 = General on a standard store).",
    ),
)
CUSTOMER_FIELDS = (
    "id",
    "email",
    "firstname",
    "lastname",
    "group_id",
    "website_id",
    "store_id",
    "created_at",
    "updated_at",
    "created_in",
    "dob",
    "gender",
    "addresses",
    "custom_attributes",
)


class CustomerCreated(Trigger):
    id = "customer_created"
    label = "New customers"
    description = "Fires once for each new customer account, oldest first."
    resource = "customers"
    search_path = "/V1/customers/search"
    timestamp_field = "created_at"
    key_field = "email"
    filters = CUSTOMER_FILTERS
    sample_fields = CUSTOMER_FIELDS

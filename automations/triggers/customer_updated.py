"""Customers updated: every saved change to a customer, with the fields that changed."""

from __future__ import annotations

from typing import Any

from automations.triggers._base import Trigger, TriggerOption
from automations.triggers.customer_created import CUSTOMER_FIELDS, CUSTOMER_FILTERS

INCLUDE_CREATED = "include_created"
# Fields that change with every save and say nothing about what the person changed.
NOT_A_CHANGE = frozenset({"updated_at"})


class CustomerUpdated(Trigger):
    id = "customer_updated"
    label = "Customers updated"
    description = (
        "Fires once for each saved change to a customer, oldest first, with the fields that "
        "changed (old and new values) when the portal has seen the customer before."
    )
    resource = "customers"
    search_path = "/V1/customers/search"
    timestamp_field = "updated_at"
    key_field = "email"
    filters = CUSTOMER_FILTERS
    options = (
        TriggerOption(
            INCLUDE_CREATED,
            "Also fire for new customers",
            default=False,
            help_text="A new account is saved once (created_at equals updated_at); by default "
            "that first save is left out, since 'New customers' covers it.",
        ),
    )
    sample_fields = CUSTOMER_FIELDS
    keeps_snapshots = True

    def dedup_key(self, record: dict[str, Any]) -> str:
        # One event per version: the same customer fires again when saved again.
        return f"{self.entity_id(record)}@{record.get('updated_at')}"

    def fires_for(self, record: dict[str, Any], options: dict[str, Any]) -> bool:
        if options.get(INCLUDE_CREATED):
            return True
        return record.get("created_at") != record.get("updated_at")


def changed_fields(old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{field: {"old": ..., "new": ...}} for each top-level field that differs."""
    changes = {}
    for name in sorted(set(old) | set(new)):
        if name in NOT_A_CHANGE:
            continue
        if old.get(name) != new.get(name):
            changes[name] = {"old": old.get(name), "new": new.get(name)}
    return changes

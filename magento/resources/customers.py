"""Customers: search, read, find by e-mail, create, and update without wiping fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..search import SearchCriteria, is_int
from ._base import Resource, checked_email, checked_mapping, expect_object, positive_id

# Customer writes go to the default store view: under `all` (the admin store, website 0)
# Magento would file a customer without a website_id under no real website.
CUSTOMER_WRITE_STORE_CODE = None


def _merge_custom_attributes(current: Any, changes: list) -> list:
    """Replace attributes by attribute_code, keep the others, add new ones at the end."""
    if not isinstance(current, list):
        return list(changes)
    merged = [dict(item) for item in current if isinstance(item, Mapping)]
    positions = {item.get("attribute_code"): index for index, item in enumerate(merged)}
    for item in changes:
        code = item.get("attribute_code") if isinstance(item, Mapping) else None
        if code in positions:
            merged[positions[code]] = dict(item)
        else:
            merged.append(dict(item) if isinstance(item, Mapping) else item)
    return merged


def merge_customer(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The customer to PUT: `current` with `changes` applied, addresses only if changed.

    `extension_attributes` is merged key by key and `custom_attributes` by attribute_code, so
    a change to one does not drop the others. `addresses` is sent only when `changes` has it:
    Magento keeps the addresses when the key is absent but deletes every address missing from
    a list that is sent.
    """
    merged = dict(current)
    merged.pop("addresses", None)
    for key, value in changes.items():
        if key == "extension_attributes" and isinstance(value, Mapping):
            existing = current.get(key) if isinstance(current.get(key), Mapping) else {}
            merged[key] = {**existing, **value}
        elif key == "custom_attributes" and isinstance(value, list):
            merged[key] = _merge_custom_attributes(current.get(key), value)
        else:
            merged[key] = value
    return merged


class Customers(Resource):
    """`client.customers`: customer accounts (`/V1/customers...`).

    Customers are filtered and sorted by "entity_id" but their bodies carry the id as "id".
    """

    search_path = "/V1/customers/search"

    def get(self, customer_id: int) -> dict[str, Any]:
        """The customer with this id; NotFoundError if there is none."""
        customer_id = positive_id(customer_id, "customer id")
        path = f"/V1/customers/{customer_id}"
        return expect_object(self.client.request("GET", path), "GET", path, "a customer")

    def find_by_email(self, email: str, website_id: int | None = None) -> list[dict[str, Any]]:
        """Every customer with this e-mail (one per website at most), optionally in one website."""
        email = checked_email(email)
        criteria = SearchCriteria().where("email", "eq", email)
        if website_id is not None:
            if not is_int(website_id) or website_id < 0:
                raise ValueError(f"website id must be a non-negative int, got {website_id!r}")
            criteria = criteria.where("website_id", "eq", website_id)
        return list(self.iter_all(criteria))

    def get_by_email(self, email: str, website_id: int | None = None) -> dict[str, Any]:
        """The one customer with this e-mail.

        Raises NotFoundError when there is none and AmbiguousMatchError (naming the websites)
        when the store shares no account scope and several websites have one; pass
        `website_id` to choose.
        """
        matches = self.find_by_email(email, website_id)
        where = f" in website {website_id}" if website_id is not None else ""
        return self._exactly_one(
            matches,
            f"customer with e-mail {checked_email(email)}{where}",
            lambda items: "; ".join(
                f"customer {item.get('id')} in website {item.get('website_id')}" for item in items
            ),
        )

    def create(
        self,
        customer: Mapping[str, Any],
        password: str | None = None,
        *,
        store_code: str | None = CUSTOMER_WRITE_STORE_CODE,
    ) -> dict[str, Any]:
        """Create a customer account and return it (with its new "id").

        Without `password` Magento e-mails the customer a link to set one. Give `website_id`
        in `customer` on multi-website stores; otherwise the store's default website is used.
        """
        customer = checked_mapping(customer, "customer")
        if "id" in customer:
            # Magento treats a create with an id as "add this existing customer to a store".
            raise ValueError("a new customer must not have an 'id'; use update() to change one")
        customer["email"] = checked_email(customer.get("email"))
        for name in ("firstname", "lastname"):
            value = customer.get(name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"a new customer needs a non-empty {name!r}")
        body: dict[str, Any] = {"customer": customer}
        if password is not None:
            if not isinstance(password, str) or not password:
                raise ValueError("password must be a non-empty string (or None)")
            body["password"] = password
        answer = self.client.request("POST", "/V1/customers", json=body, store_code=store_code)
        return expect_object(answer, "POST", "/V1/customers", "the new customer")

    def update(
        self,
        customer_id: int,
        changes: Mapping[str, Any],
        *,
        store_code: str | None = CUSTOMER_WRITE_STORE_CODE,
    ) -> dict[str, Any]:
        """Change some fields of a customer and return the saved customer.

        Magento's PUT replaces the whole customer, so this reads the customer, merges
        `changes` into it (see `merge_customer`) and sends the result: fields you leave out
        keep their values, and addresses are sent only when `changes` has "addresses".
        """
        customer_id = positive_id(customer_id, "customer id")
        changes = checked_mapping(changes, "changes")
        if not changes:
            raise ValueError("no changes given")
        if "id" in changes and changes["id"] != customer_id:
            raise ValueError("changes must not move the customer to another 'id'")
        if "email" in changes:
            changes["email"] = checked_email(changes["email"])
        if "addresses" in changes and not isinstance(changes["addresses"], list):
            raise ValueError("'addresses' must be a list (it replaces the customer's addresses)")
        merged = merge_customer(self.get(customer_id), changes)
        merged["id"] = customer_id
        path = f"/V1/customers/{customer_id}"
        answer = self.client.request("PUT", path, json={"customer": merged}, store_code=store_code)
        return expect_object(answer, "PUT", path, "the updated customer")

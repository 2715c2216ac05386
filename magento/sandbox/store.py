"""The sandbox store's data: customers, products, orders and shipments, in memory and thread safe.

Entities are kept in the shape Magento answers with (see the published samples). Orders are kept
compact and expanded to the full order body only when served, so seeding 100,000 of them is quick.
Each kind is a Table (table.py) with sorted indexes on id, updated_at and created_at, so the
polling queries (entity_id > last seen, or updated_at >= last poll) never scan every order.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import random
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from . import fake_data
from .auth import ALL_RESOURCES, Credentials, acl_selection
from .errors import (
    DUPLICATE_EMAIL,
    ENTITY_NOT_FOUND,
    ID_NEEDED,
    NO_SUCH_ENTITY_FIELD,
    PRODUCT_NOT_FOUND,
    SHIPMENT_VALIDATION,
    MagentoErrorResponse,
    internal_error,
    required,
)
from .inputs import CUSTOMER, ORDER, PRODUCT, scalar_fields
from .search import Criteria, UnknownField
from .table import Table, stable_hash

ADMIN_TOKEN_LIFETIME = 4 * 3600
# What an integration gets when nothing else is configured: everything the portal uses, as
# ticking Customers, Catalog, Sales and Stores > Settings > All Stores saves it. Tests withhold
# one resource with `DEFAULT_GRANTS - {"Magento_Sales::ship"}`.
DEFAULT_GRANTS = acl_selection(
    "Magento_Customer::customer",
    "Magento_Catalog::catalog",
    "Magento_Sales::sales",
    "Magento_Backend::store",
)
INVALID_FIELD_VALUE = 'Invalid value of "%value" provided for the %fieldName field.'
EMPTY_ATTRIBUTE = 'The "%1" attribute value is empty. Set the attribute and try again.'
PASSWORD_LENGTH = "The password needs at least %1 characters. Create a new password and try again."
PASSWORD_CLASSES = (
    "Minimum of different classes of characters in password is %1. Classes of characters: "
    "Lower Case, Upper Case, Digits, Special Characters."
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ADDRESS_REQUIRED = (
    "firstname",
    "lastname",
    "street",
    "city",
    "country_id",
    "telephone",
    "postcode",
)
ORDER_CACHE_SIZE = 20_000
# States in which Magento's CanShip refuses by status; in any other state the quantities decide.
UNSHIPPABLE_STATES = ("payment_review", "holded", "canceled")


def format_time(timestamp: float) -> str:
    """Magento's UTC 'YYYY-MM-DD HH:MM:SS'."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(timestamp))


class SandboxStore:
    """An in-memory Magento store: entities, flags and credentials, safe to use from threads.

    `clock` returns the current Unix time (inject a fake one in tests); `random_seed` makes the
    generated data repeatable.
    """

    def __init__(
        self,
        *,
        credentials: Credentials | None = None,
        clock: Callable[[], float] = time.time,
        random_seed: int | None = None,
        bearer_enabled: bool = False,
        two_factor_enabled: bool = True,
        two_factor_configured: bool = True,
        input_limits_enabled: bool = True,
        granted_resources: set[str] | frozenset[str] = DEFAULT_GRANTS,
        admin_role_resources: set[str] | frozenset[str] = frozenset({ALL_RESOURCES}),
        admin_token_lifetime: int = ADMIN_TOKEN_LIFETIME,
    ):
        self.lock = threading.RLock()
        self.clock = clock
        self.rng = random.Random(random_seed)
        self.credentials = credentials or Credentials.generate()
        self.bearer_enabled = bearer_enabled
        self.two_factor_enabled = two_factor_enabled
        # False: 2FA is on store-wide but the admin user has not set up Google Authenticator.
        self.two_factor_configured = two_factor_configured
        self.input_limits_enabled = input_limits_enabled
        self.granted_resources = set(granted_resources)
        # The admin user's role (Role Resources); "All" unless a test narrows it.
        self.admin_role_resources = set(admin_role_resources)
        self.admin_token_lifetime = admin_token_lifetime
        self.base_url = "http://127.0.0.1/"
        self.customers = Table()
        self.products = Table()
        self.orders = Table()
        self.shipments: dict[int, dict] = {}
        self._emails: dict[tuple[int, str], int] = {}
        self._skus: dict[str, int] = {}
        self._next_address_id = 1
        self._next_item_id = 1
        self._next_shipment_child_id = 1
        self._customer_fields = scalar_fields(CUSTOMER)
        self._product_fields = scalar_fields(PRODUCT)
        self._order_fields = scalar_fields(ORDER)
        self._order_cache: dict[int, str] = {}

    def grants_of(self, caller_kind: str) -> set[str]:
        """The ACL resources a caller holds: the admin role's, or the integration's."""
        return self.admin_role_resources if caller_kind == "admin" else self.granted_resources

    # ----------------------------------------------------------------- time

    def now(self) -> str:
        """The current time as Magento writes it."""
        return format_time(self.clock())

    # ------------------------------------------------------------ customers

    def customer_get(self, customer_id: int) -> dict:
        """GET /V1/customers/{id}: the customer, or Magento's 404."""
        with self.lock:
            row = self.customers.rows.get(customer_id)
            if row is None:
                raise _customer_not_found(customer_id)
            return copy.deepcopy(row)

    def customer_create(self, customer: dict, password: str | None = None) -> dict:
        """POST /V1/customers: validate and save a new customer (ids and dates assigned)."""
        with self.lock:
            self._validate_customer(customer)
            if password is not None:
                _check_password(password)
            website_id = customer.get("website_id") or 1
            if (website_id, customer["email"].lower()) in self._emails:
                raise MagentoErrorResponse(400, DUPLICATE_EMAIL)
            customer_id = self.customers.next_id
            now = self.now()
            row = self._customer_row(
                customer_id, customer, created_at=now, updated_at=now, previous=None
            )
            self.customers.add(customer_id, row)
            self._emails[(row["website_id"], row["email"].lower())] = customer_id
            return copy.deepcopy(row)

    def customer_replace(self, customer_id: int, customer: dict) -> dict:
        """PUT /V1/customers/{id}: a full save; addresses kept when omitted, replaced when sent."""
        with self.lock:
            previous = self.customers.rows.get(customer_id)
            if previous is None:
                raise _customer_not_found(customer_id)
            self._validate_customer(customer)
            website_id = customer.get("website_id") or previous["website_id"]
            owner = self._emails.get((website_id, customer["email"].lower()))
            if owner is not None and owner != customer_id:
                raise MagentoErrorResponse(400, DUPLICATE_EMAIL)
            row = self._customer_row(
                customer_id,
                customer,
                created_at=previous["created_at"],
                updated_at=self.now(),
                previous=previous,
            )
            del self._emails[(previous["website_id"], previous["email"].lower())]
            self._emails[(row["website_id"], row["email"].lower())] = customer_id
            self.customers.rows[customer_id] = row
            self.customers.touch(customer_id, previous["updated_at"], row["updated_at"])
            return copy.deepcopy(row)

    def _validate_customer(self, customer: dict) -> None:
        missing = [
            name
            for name in ("email", "firstname", "lastname")
            if not str(customer.get(name) or "").strip()
        ]
        if missing:
            raise required(*missing)
        if not _EMAIL.match(customer["email"]):
            raise MagentoErrorResponse(
                400, INVALID_FIELD_VALUE, {"fieldName": "email", "value": customer["email"]}
            )
        problems = []
        for address in customer.get("addresses") or []:
            for name in _ADDRESS_REQUIRED:
                value = address.get(name)
                if value in (None, "", []):
                    problems.append(name)
        if problems:
            raise required(*problems)

    def _customer_row(
        self,
        customer_id: int,
        data: dict,
        *,
        created_at: str,
        updated_at: str,
        previous: dict | None,
    ) -> dict:
        keep = previous or {}
        row: dict[str, Any] = {
            "id": customer_id,
            "group_id": data.get("group_id", keep.get("group_id", 1)),
        }
        addresses = data.get("addresses")
        if addresses is None and previous is not None:
            addresses_out = copy.deepcopy(previous.get("addresses", []))
            default_billing = previous.get("default_billing")
            default_shipping = previous.get("default_shipping")
        else:
            addresses_out, default_billing, default_shipping = self._addresses(
                customer_id, addresses or [], previous
            )
        if default_billing is not None:
            row["default_billing"] = default_billing
        if default_shipping is not None:
            row["default_shipping"] = default_shipping
        row["created_at"] = created_at
        row["updated_at"] = updated_at
        row["created_in"] = keep.get("created_in", "Default Store View")
        for name in ("confirmation", "dob"):
            if data.get(name) is not None:
                row[name] = data[name]
        row["email"] = data["email"]
        row["firstname"] = data["firstname"]
        row["lastname"] = data["lastname"]
        for name in ("middlename", "prefix", "suffix", "gender", "taxvat"):
            if data.get(name) is not None:
                row[name] = data[name]
        row["store_id"] = data.get("store_id") or keep.get("store_id", 1)
        row["website_id"] = data.get("website_id") or keep.get("website_id", 1)
        row["addresses"] = addresses_out
        row["disable_auto_group_change"] = data.get(
            "disable_auto_group_change", keep.get("disable_auto_group_change", 0)
        )
        extension = dict(keep.get("extension_attributes") or {"is_subscribed": False})
        extension.update(data.get("extension_attributes") or {})
        row["extension_attributes"] = extension
        if data.get("custom_attributes"):
            row["custom_attributes"] = data["custom_attributes"]
        return row

    def _addresses(self, customer_id: int, addresses: list[dict], previous: dict | None):
        existing_ids = {a["id"] for a in (previous or {}).get("addresses", [])}
        result = []
        default_billing = default_shipping = None
        for given in addresses:
            address = dict(given)
            if address.get("id") not in existing_ids:
                address["id"] = self._next_address_id
                self._next_address_id += 1
            ordered = {"id": address["id"], "customer_id": customer_id}
            region = address.get("region")
            if region:
                ordered["region"] = region
                if address.get("region_id") is None and region.get("region_id") is not None:
                    address["region_id"] = region["region_id"]
            for key, value in address.items():
                if (
                    key not in ordered
                    and value is not None
                    and key not in ("default_billing", "default_shipping", "customer_id")
                ):
                    ordered[key] = value
            if address.get("default_shipping"):
                ordered["default_shipping"] = True
                default_shipping = str(address["id"])
            if address.get("default_billing"):
                ordered["default_billing"] = True
                default_billing = str(address["id"])
            result.append(ordered)
        return result, default_billing, default_shipping

    def _customer_value(self, row: dict, name: str) -> Any:
        return row.get(name)

    # ------------------------------------------------------------- products

    def product_get(self, sku: str) -> dict:
        """GET /V1/products/{sku}: the product, or Magento's 404."""
        with self.lock:
            product_id = self._skus.get(sku.lower())
            if product_id is None:
                raise MagentoErrorResponse(404, PRODUCT_NOT_FOUND)
            return copy.deepcopy(self.products.rows[product_id])

    def product_save(self, product: dict, *, sku: str | None = None) -> dict:
        """POST/PUT /V1/products: create a new product, or merge changes into an existing one."""
        with self.lock:
            sku = sku if sku is not None else product.get("sku")
            if not sku:
                raise required("sku")
            product_id = self._skus.get(sku.lower())
            now = self.now()
            if product_id is None:
                for name in ("name", "price"):
                    if product.get(name) in (None, ""):
                        raise MagentoErrorResponse(400, EMPTY_ATTRIBUTE, [name])
                product_id = self.products.next_id
                row = self._new_product(product_id, sku, product, now)
                self.products.add(product_id, row)
                self._skus[sku.lower()] = product_id
                return copy.deepcopy(row)
            row = copy.deepcopy(self.products.rows[product_id])
            old_updated = row["updated_at"]
            _merge_product(row, product)
            row["sku"] = self.products.rows[product_id]["sku"]
            row["updated_at"] = now
            self.products.rows[product_id] = row
            self.products.touch(product_id, old_updated, now)
            return copy.deepcopy(row)

    def _new_product(self, product_id: int, sku: str, data: dict, now: str) -> dict:
        extension = copy.deepcopy(data.get("extension_attributes") or {})
        stock = _stock_item(product_id, extension.pop("stock_item", None) or {})
        website_ids = extension.pop("website_ids", None) or [1]
        row: dict[str, Any] = {
            "id": product_id,
            "sku": sku,
            "name": data["name"],
            "attribute_set_id": data.get("attribute_set_id") or 4,
            "price": data["price"],
            "status": data.get("status") or 1,
            "visibility": data.get("visibility") or 4,
            "type_id": data.get("type_id") or "simple",
            "created_at": now,
            "updated_at": now,
        }
        if data.get("weight") is not None:
            row["weight"] = data["weight"]
        row["extension_attributes"] = {"website_ids": website_ids, **extension, "stock_item": stock}
        for name in ("product_links", "options", "media_gallery_entries", "tier_prices"):
            row[name] = copy.deepcopy(data.get(name) or [])
        attributes = {
            a["attribute_code"]: a.get("value")
            for a in data.get("custom_attributes") or []
            if a.get("attribute_code")
        }
        category_ids = [
            str(link.get("category_id")) for link in extension.get("category_links") or []
        ]
        if category_ids:
            attributes.setdefault("category_ids", category_ids)
        attributes.setdefault("options_container", "container2")
        attributes.setdefault("required_options", "0")
        attributes.setdefault("has_options", "0")
        attributes.setdefault(
            "url_key", re.sub(r"[^a-z0-9]+", "-", data["name"].lower()).strip("-")
        )
        attributes.setdefault("tax_class_id", "2")
        row["custom_attributes"] = [
            {"attribute_code": k, "value": v} for k, v in attributes.items()
        ]
        return row

    def _product_value(self, row: dict, name: str) -> Any:
        if name in row:
            return row[name]
        for attribute in row.get("custom_attributes", []):
            if attribute["attribute_code"] == name:
                return attribute["value"]
        return None

    def _product_known(self, name: str) -> bool:
        if name in self._product_fields:
            return True
        return name in (
            "category_ids",
            "url_key",
            "description",
            "short_description",
            "tax_class_id",
            "color",
            "size",
            "special_price",
            "meta_title",
        )

    # --------------------------------------------------------------- orders

    def order_create(
        self,
        *,
        customer_id: int | None = None,
        lines: list[tuple[str, float]] | None = None,
        state: str = "new",
        status: str | None = None,
        created_at: str | None = None,
    ) -> dict:
        """Place an order (for seeding, the activity simulation and tests); returns its body.

        `lines` are (sku, qty) pairs of existing products; by default one or two random products.
        """
        with self.lock:
            order_id = self._place_order(
                customer_id=customer_id,
                lines=lines,
                state=state,
                status=status,
                created_at=created_at or self.now(),
            )
            return self._render_order(self.orders.rows[order_id])

    def _place_order(self, *, customer_id, lines, state, status, created_at, index=True) -> int:
        if not self.products.ids:
            raise ValueError("the sandbox has no products to order")
        customer = self.customers.rows.get(customer_id) if customer_id is not None else None
        if customer_id is not None and customer is None:
            raise ValueError(f"no customer {customer_id}")
        if lines is None:
            picks = self.rng.sample(
                self.products.ids, k=min(len(self.products.ids), self.rng.choice((1, 1, 2, 3)))
            )
            chosen = [(self.products.rows[p], self.rng.choice((1, 1, 2))) for p in picks]
        else:
            chosen = []
            for sku, qty in lines:
                product_id = self._skus.get(str(sku).lower())
                if product_id is None:
                    raise ValueError(f"no product with SKU {sku!r}")
                chosen.append((self.products.rows[product_id], _num(float(qty))))
        order_id = self.orders.next_id
        self.orders.next_id += 1
        items = []
        subtotal = 0.0
        weight = 0.0
        for product, qty in chosen:
            item_id = self._next_item_id
            self._next_item_id += 1
            price = _num(float(product["price"]))
            subtotal += price * qty
            weight += float(product.get("weight") or 0) * qty
            items.append(
                {
                    "item_id": item_id,
                    "sku": product["sku"],
                    "name": product["name"],
                    "product_id": product["id"],
                    "product_type": product.get("type_id", "simple"),
                    "price": price,
                    "qty_ordered": qty,
                    # A complete order has shipped everything, as in Magento.
                    "qty_shipped": qty if state == "complete" else 0,
                    "qty_invoiced": qty if state != "new" else 0,
                    "qty_canceled": qty if state == "canceled" else 0,
                    "weight": _num(float(product.get("weight") or 0)),
                }
            )
        if customer is not None:
            who = {
                "customer_id": customer["id"],
                "customer_email": customer["email"],
                "customer_firstname": customer["firstname"],
                "customer_lastname": customer["lastname"],
                "customer_is_guest": 0,
                "customer_group_id": customer.get("group_id", 1),
            }
            address = (customer.get("addresses") or [None])[0]
        else:
            identity = fake_data.person(self.rng, order_id)
            who = {
                "customer_id": None,
                "customer_email": identity["email"],
                "customer_firstname": identity["firstname"],
                "customer_lastname": identity["lastname"],
                "customer_is_guest": 1,
                "customer_group_id": 0,
            }
            address = None
        if address is None:
            address = fake_data.address(
                self.rng, who["customer_firstname"], who["customer_lastname"]
            )
        shipping = 5.0 * len(items)
        record = {
            "entity_id": order_id,
            "increment_id": f"{order_id:09d}",
            "state": state,
            "status": status or _default_status(state),
            **who,
            "store_id": 1,
            "created_at": created_at,
            "updated_at": created_at,
            "items": items,
            "address": address,
            "subtotal": round(subtotal, 4),
            "shipping_amount": shipping,
            "grand_total": round(subtotal + shipping, 4),
            "total_qty_ordered": sum(i["qty_ordered"] for i in items),
            "weight": weight,
            "quote_id": order_id + 1,
            "protect_code": f"{stable_hash(order_id):08x}"[:6],
        }
        if index:
            self.orders.add(order_id, record)
        else:
            self.orders.rows[order_id] = record
        return order_id

    def order_get(self, order_id: int) -> dict:
        """GET /V1/orders/{id}: the full order body, or Magento's 404."""
        with self.lock:
            return self._render_order(self._order_record(order_id))

    def _order_record(self, order_id: int) -> dict:
        """The order as OrderRepository::get finds it: id 0 is refused before any lookup."""
        if not order_id:
            raise MagentoErrorResponse(400, ID_NEEDED)
        record = self.orders.rows.get(order_id)
        if record is None:
            raise MagentoErrorResponse(404, ENTITY_NOT_FOUND)
        return record

    def order_update(self, order_id: int, changes: dict) -> dict:
        """Change an order's top-level fields (state, status, ...) for tests; bumps updated_at."""
        with self.lock:
            record = self.orders.rows.get(order_id)
            if record is None:
                raise MagentoErrorResponse(404, ENTITY_NOT_FOUND)
            old = record["updated_at"]
            for key, value in changes.items():
                if key in ("entity_id", "items", "created_at", "updated_at"):
                    continue
                record[key] = value
            if "state" in changes and "status" not in changes:
                record["status"] = _default_status(changes["state"])
            record["updated_at"] = self.now()
            self._order_cache.pop(order_id, None)
            self.orders.touch(order_id, old, record["updated_at"])
            return self._render_order(record)

    def _order_value(self, record: dict, name: str) -> Any:
        if name in record:
            return record[name]
        return _ORDER_DERIVED.get(name, lambda r: _ORDER_CONSTANTS.get(name))(record)

    def _render_order(self, record: dict) -> dict:
        body, items, tail = self._order_parts(record)
        body["items"] = items
        body.update(tail)
        tail["extension_attributes"]["shipping_assignments"][0]["items"] = [
            dict(item) for item in items
        ]
        return body

    def _order_json(self, record: dict) -> str:
        """The order body as JSON text, cached: items are encoded once and used twice."""
        order_id = record["entity_id"]
        cached = self._order_cache.get(order_id)
        if cached is not None:
            return cached
        body, _items, tail = self._order_parts(record, with_items=False)
        items_json = "[" + ",".join(self._item_json(record, i) for i in record["items"]) + "]"
        assignment = tail["extension_attributes"]["shipping_assignments"][0]
        text = (
            _dumps(body)[:-1]
            + ',"items":'
            + items_json
            + ',"billing_address":'
            + _dumps(tail["billing_address"])
            + ',"payment":'
            + _dumps(tail["payment"])
            + ',"status_histories":[],"extension_attributes":{"shipping_assignments":'
            + '[{"shipping":'
            + _dumps(assignment["shipping"])
            + ',"items":'
            + items_json
            + "}]}}"
        )
        if len(self._order_cache) >= ORDER_CACHE_SIZE:
            self._order_cache.pop(next(iter(self._order_cache)))
        self._order_cache[order_id] = text
        return text

    def _order_parts(self, record: dict, *, with_items: bool = True) -> tuple[dict, list, dict]:
        order_id = record["entity_id"]
        grand_total = record["grand_total"]
        shipping = record["shipping_amount"]
        subtotal = record["subtotal"]
        invoiced = sum(i["qty_invoiced"] * i["price"] for i in record["items"])
        total_due = _num(grand_total - invoiced if invoiced else grand_total)
        body: dict[str, Any] = {
            "applied_rule_ids": "1",
            "base_currency_code": "USD",
            "base_discount_amount": 0,
            "base_grand_total": grand_total,
            "base_discount_tax_compensation_amount": 0,
            "base_shipping_amount": shipping,
            "base_shipping_discount_amount": 0,
            "base_shipping_incl_tax": shipping,
            "base_shipping_tax_amount": 0,
            "base_subtotal": subtotal,
            "base_subtotal_incl_tax": subtotal,
            "base_tax_amount": 0,
            "base_total_due": total_due,
            "base_to_global_rate": 1,
            "base_to_order_rate": 1,
            "billing_address_id": order_id * 2,
            "created_at": record["created_at"],
            "customer_email": record["customer_email"],
            "customer_firstname": record["customer_firstname"],
            "customer_group_id": record["customer_group_id"],
        }
        if record["customer_id"] is not None:
            body["customer_id"] = record["customer_id"]
        body.update(
            {
                "customer_is_guest": record["customer_is_guest"],
                "customer_lastname": record["customer_lastname"],
                "customer_note_notify": 1,
                "discount_amount": 0,
                "email_sent": 1,
                "entity_id": order_id,
                "global_currency_code": "USD",
                "grand_total": grand_total,
                "discount_tax_compensation_amount": 0,
                "increment_id": record["increment_id"],
                "is_virtual": 0,
                "order_currency_code": "USD",
                "protect_code": record["protect_code"],
                "quote_id": record["quote_id"],
                "shipping_amount": shipping,
                "shipping_description": "Flat Rate - Fixed",
                "shipping_discount_amount": 0,
                "shipping_discount_tax_compensation_amount": 0,
                "shipping_incl_tax": shipping,
                "shipping_tax_amount": 0,
                "state": record["state"],
                "status": record["status"],
                "store_currency_code": "USD",
                "store_id": record["store_id"],
                "store_name": "Main Website\nMain Website Store\nDefault Store View",
                "store_to_base_rate": 0,
                "store_to_order_rate": 0,
                "subtotal": subtotal,
                "subtotal_incl_tax": subtotal,
                "tax_amount": 0,
                "total_due": total_due,
                "total_item_count": len(record["items"]),
                "total_qty_ordered": _num(record["total_qty_ordered"]),
                "updated_at": record["updated_at"],
                "weight": _num(record["weight"]),
            }
        )
        items = [self._render_item(record, item) for item in record["items"]] if with_items else []
        tail: dict[str, Any] = {}
        tail["billing_address"] = _order_address(record, "billing", order_id * 2)
        tail["payment"] = {
            "account_status": None,
            "additional_information": ["Check / Money order"],
            "amount_ordered": grand_total,
            "base_amount_ordered": grand_total,
            "base_shipping_amount": shipping,
            "cc_last4": None,
            "entity_id": order_id,
            "method": "checkmo",
            "parent_id": order_id,
            "shipping_amount": shipping,
        }
        tail["status_histories"] = []
        tail["extension_attributes"] = {
            "shipping_assignments": [
                {
                    "shipping": {
                        "address": _order_address(record, "shipping", order_id * 2 - 1),
                        "method": "flatrate_flatrate",
                        "total": {
                            "base_shipping_amount": shipping,
                            "base_shipping_discount_amount": 0,
                            "base_shipping_incl_tax": shipping,
                            "base_shipping_tax_amount": 0,
                            "shipping_amount": shipping,
                            "shipping_discount_amount": 0,
                            "shipping_discount_tax_compensation_amount": 0,
                            "shipping_incl_tax": shipping,
                            "shipping_tax_amount": 0,
                        },
                    },
                }
            ],
        }
        return body, items, tail

    def _render_item(self, record: dict, item: dict) -> dict:
        price = item["price"]
        row_total = _num(price * item["qty_ordered"])
        row_invoiced = _num(price * item["qty_invoiced"])
        return {
            "amount_refunded": 0,
            "applied_rule_ids": "1",
            "base_amount_refunded": 0,
            "base_discount_amount": 0,
            "base_discount_invoiced": 0,
            "base_discount_tax_compensation_amount": 0,
            "base_original_price": price,
            "base_price": price,
            "base_price_incl_tax": price,
            "base_row_invoiced": row_invoiced,
            "base_row_total": row_total,
            "base_row_total_incl_tax": row_total,
            "base_tax_amount": 0,
            "base_tax_invoiced": 0,
            "created_at": record["created_at"],
            "discount_amount": 0,
            "discount_invoiced": 0,
            "discount_percent": 0,
            "free_shipping": 0,
            "discount_tax_compensation_amount": 0,
            "is_qty_decimal": 0,
            "is_virtual": 0,
            "item_id": item["item_id"],
            "name": item["name"],
            "no_discount": 0,
            "order_id": record["entity_id"],
            "original_price": price,
            "price": price,
            "price_incl_tax": price,
            "product_id": item["product_id"],
            "product_type": item["product_type"],
            "qty_canceled": item["qty_canceled"],
            "qty_invoiced": item["qty_invoiced"],
            "qty_ordered": item["qty_ordered"],
            "qty_refunded": 0,
            "qty_shipped": item["qty_shipped"],
            "quote_item_id": item["item_id"],
            "row_invoiced": row_invoiced,
            "row_total": row_total,
            "row_total_incl_tax": row_total,
            "row_weight": _num(item["weight"] * item["qty_ordered"]),
            "sku": item["sku"],
            "store_id": record["store_id"],
            "tax_amount": 0,
            "tax_invoiced": 0,
            "tax_percent": 0,
            "updated_at": record["updated_at"],
            "weight": item["weight"],
        }

    def _item_json(self, record: dict, item: dict) -> str:
        """_render_item() as compact JSON, written directly: serving pages of orders is the
        sandbox's hot path (the equality of both is pinned by a test)."""
        price = repr(item["price"])
        row_total = repr(_num(item["price"] * item["qty_ordered"]))
        row_invoiced = repr(_num(item["price"] * item["qty_invoiced"]))
        row_weight = repr(_num(item["weight"] * item["qty_ordered"]))
        item_id = item["item_id"]
        return (
            '{"amount_refunded":0,"applied_rule_ids":"1","base_amount_refunded":0,'
            '"base_discount_amount":0,"base_discount_invoiced":0,'
            '"base_discount_tax_compensation_amount":0,'
            f'"base_original_price":{price},"base_price":{price},'
            f'"base_price_incl_tax":{price},"base_row_invoiced":{row_invoiced},'
            f'"base_row_total":{row_total},"base_row_total_incl_tax":{row_total},'
            '"base_tax_amount":0,"base_tax_invoiced":0,'
            f'"created_at":"{record["created_at"]}","discount_amount":0,'
            '"discount_invoiced":0,"discount_percent":0,"free_shipping":0,'
            '"discount_tax_compensation_amount":0,"is_qty_decimal":0,"is_virtual":0,'
            f'"item_id":{item_id},"name":{_dumps(item["name"])},"no_discount":0,'
            f'"order_id":{record["entity_id"]},"original_price":{price},"price":{price},'
            f'"price_incl_tax":{price},"product_id":{item["product_id"]},'
            f'"product_type":{_dumps(item["product_type"])},'
            f'"qty_canceled":{item["qty_canceled"]!r},"qty_invoiced":{item["qty_invoiced"]!r},'
            f'"qty_ordered":{item["qty_ordered"]!r},"qty_refunded":0,'
            f'"qty_shipped":{item["qty_shipped"]!r},"quote_item_id":{item_id},'
            f'"row_invoiced":{row_invoiced},"row_total":{row_total},'
            f'"row_total_incl_tax":{row_total},"row_weight":{row_weight},'
            f'"sku":{_dumps(item["sku"])},"store_id":{record["store_id"]},"tax_amount":0,'
            '"tax_invoiced":0,"tax_percent":0,'
            f'"updated_at":"{record["updated_at"]}","weight":{item["weight"]!r}}}'
        )

    # ------------------------------------------------------------ shipments

    def order_ship(
        self,
        order_id: int,
        *,
        items: list[dict] | None = None,
        tracks: list[dict] | None = None,
        comment: dict | None = None,
        notify: bool = False,
    ) -> int:
        """POST /V1/order/{id}/ship: validate like ShipOrder, create the shipment, return its id."""
        with self.lock:
            record = self._order_record(order_id)
            by_id = {item["item_id"]: item for item in record["items"]}
            refunded = record["state"] == "closed"  # refunded in full: nothing left to ship

            def left(item: dict) -> float:
                return 0 if refunded else _qty_to_ship(item)

            messages = []
            if record["state"] in UNSHIPPABLE_STATES:
                messages.append(
                    f"A shipment cannot be created when an order has a status of {record['status']}"
                )
            elif not any(left(item) > 0 for item in record["items"]):
                messages.append("The order does not allow a shipment to be created.")
            if items:
                wanted = {}
                for line in items:
                    wanted[line.get("order_item_id")] = wanted.get(
                        line.get("order_item_id"), 0
                    ) + float(line.get("qty") or 0)
            else:
                wanted = {item["item_id"]: left(item) for item in record["items"]}
            total = 0.0
            for item_id, qty in wanted.items():
                item = by_id.get(item_id)
                if item is None:
                    messages.append(
                        'The shipment contains product SKU "" that is not part of the '
                        "original order."
                    )
                    continue
                if qty > left(item) + 1e-9:
                    messages.append(
                        "The quantity to ship must not be greater than the unshipped quantity "
                        f'for product SKU "{item["sku"]}".'
                    )
                else:
                    total += qty
            if total <= 0:
                messages.append("You can't create a shipment without products.")
            if messages:
                raise MagentoErrorResponse(400, SHIPMENT_VALIDATION + "\n".join(messages))
            now = self.now()
            shipment_id = len(self.shipments) + 1
            shipment_items = []
            for item_id, qty in wanted.items():
                if qty <= 0:
                    continue
                item = by_id[item_id]
                item["qty_shipped"] = _num(item["qty_shipped"] + qty)
                shipment_items.append(
                    {
                        "entity_id": self._child_id(),
                        "name": item["name"],
                        "parent_id": shipment_id,
                        "price": _num(item["price"]),
                        "product_id": item["product_id"],
                        "sku": item["sku"],
                        "weight": _num(item["weight"]),
                        "order_item_id": item_id,
                        "qty": _num(qty),
                    }
                )
            shipment_tracks = [
                {
                    "order_id": order_id,
                    "created_at": now,
                    "entity_id": self._child_id(),
                    "parent_id": shipment_id,
                    "updated_at": now,
                    "weight": None,
                    "qty": None,
                    "description": None,
                    "track_number": track.get("track_number"),
                    "title": track.get("title"),
                    "carrier_code": track.get("carrier_code"),
                }
                for track in tracks or []
            ]
            shipment_comments = []
            if comment and comment.get("comment"):
                shipment_comments.append(
                    {
                        "is_customer_notified": 1 if notify else 0,
                        "parent_id": shipment_id,
                        "comment": comment["comment"],
                        "is_visible_on_front": int(comment.get("is_visible_on_front") or 0),
                        "created_at": now,
                        "entity_id": self._child_id(),
                    }
                )
            self.shipments[shipment_id] = {
                "billing_address_id": order_id * 2,
                "created_at": now,
                "customer_id": record["customer_id"],
                "email_sent": 1 if notify else None,
                "entity_id": shipment_id,
                "increment_id": f"{shipment_id:09d}",
                "order_id": order_id,
                "packages": [],
                "shipping_address_id": order_id * 2 - 1,
                "store_id": record["store_id"],
                "total_qty": _num(sum(line["qty"] for line in shipment_items)),
                "updated_at": now,
                "items": shipment_items,
                "tracks": shipment_tracks,
                "comments": shipment_comments,
            }
            old = record["updated_at"]
            if all(_qty_to_ship(item) <= 0 for item in record["items"]):
                record["state"] = record["status"] = "complete"
            else:
                record["state"] = record["status"] = "processing"
            record["updated_at"] = now
            self._order_cache.pop(order_id, None)
            self.orders.touch(order_id, old, now)
            return shipment_id

    def _child_id(self) -> int:
        self._next_shipment_child_id += 1
        return self._next_shipment_child_id - 1

    def shipment_get(self, shipment_id: int) -> dict:
        """GET /V1/shipment/{id}: the shipment with items, tracks and comments."""
        with self.lock:
            shipment = self.shipments.get(shipment_id)
            if shipment is None:
                raise MagentoErrorResponse(404, ENTITY_NOT_FOUND)
            return copy.deepcopy(shipment)

    # ---------------------------------------------------------------- search

    def search_json(self, kind: str, criteria: Criteria) -> bytes:
        """GET list endpoints: filter, sort and page one entity kind ("customers", "products",
        "orders") into Magento's search result envelope, encoded (orders come from the JSON
        cache)."""
        with self.lock:
            table = self._kind(kind)[0]
            page, total = self._search_page(kind, criteria)
            if kind == "orders":
                fragments = [self._order_json(table.rows[row_id]) for row_id in page]
            else:
                fragments = [_dumps(table.rows[row_id]) for row_id in page]
        return (
            '{"items":['
            + ",".join(fragments)
            + '],"search_criteria":'
            + _dumps(criteria.echo)
            + ',"total_count":'
            + str(total)
            + "}"
        ).encode()

    def _search_page(self, kind: str, criteria: Criteria) -> tuple[list[int], int]:
        table, id_field, value_of, known = self._kind(kind)
        if id_field == "id":
            # EAV entities (customers, products) carry "id" but their table column is entity_id.
            criteria = _with_field_alias(criteria, "entity_id", "id")
        try:
            return table.search(criteria, id_field=id_field, value_of=value_of, known=known)
        except UnknownField:
            raise internal_error() from None

    def _kind(self, kind: str):
        if kind == "customers":
            return (self.customers, "id", self._customer_value, self._customer_fields.__contains__)
        if kind == "products":
            return (self.products, "id", self._product_value, self._product_known)
        if kind == "orders":
            return (self.orders, "entity_id", self._order_value, self._order_fields.__contains__)
        raise ValueError(kind)

    # --------------------------------------------------------------- seeding

    def seed(
        self, *, customers: int = 0, products: int = 0, orders: int = 0, days: int = 90
    ) -> None:
        """Fill the store with generated customers, products and orders spread over `days`."""
        with self.lock:
            for _ in range(products):
                self.product_save(fake_data.product(self.rng, self.products.next_id))
            for _ in range(customers):
                self.add_random_customer()
            if orders:
                self._seed_orders(orders, days)

    def add_random_customer(self) -> dict:
        """Create one generated customer with an address."""
        with self.lock:
            identity = fake_data.person(self.rng, self.customers.next_id)
            identity["addresses"] = [
                fake_data.address(self.rng, identity["firstname"], identity["lastname"])
            ]
            return self.customer_create(identity)

    def _seed_orders(self, count: int, days: int) -> None:
        if not self.products.ids:
            self.product_save(fake_data.product(self.rng, 1))
        customer_ids = self.customers.ids
        now = self.clock()
        start = now - days * 86400
        step = (days * 86400) / max(count, 1)
        states = ("complete", "complete", "processing", "new", "new", "canceled")
        rng = self.rng
        first_new = self.orders.next_id
        for number in range(count):
            created = format_time(start + number * step)
            state = states[rng.randrange(len(states))]
            customer_id = rng.choice(customer_ids) if customer_ids and rng.random() < 0.8 else None
            self._place_order(
                customer_id=customer_id,
                lines=None,
                state=state,
                status=None,
                created_at=created,
                index=False,
            )
        self.orders.add_many(list(range(first_new, self.orders.next_id)))


_ORDER_CONSTANTS = {
    "base_currency_code": "USD",
    "global_currency_code": "USD",
    "order_currency_code": "USD",
    "store_currency_code": "USD",
    "is_virtual": 0,
    "email_sent": 1,
    "discount_amount": 0,
    "tax_amount": 0,
    "shipping_description": "Flat Rate - Fixed",
}
_ORDER_DERIVED: dict[str, Callable[[dict], Any]] = {
    "base_grand_total": lambda r: r["grand_total"],
    "base_subtotal": lambda r: r["subtotal"],
    "base_shipping_amount": lambda r: r["shipping_amount"],
    "total_item_count": lambda r: len(r["items"]),
    "billing_address_id": lambda r: r["entity_id"] * 2,
}


def _with_field_alias(criteria: Criteria, alias: str, name: str) -> Criteria:
    """A copy of the criteria with `alias` read as `name` in filters and sort orders."""
    groups = [
        [dict(item, field=name) if item["field"] == alias else item for item in group]
        for group in criteria.filter_groups
    ]
    orders = [
        (name if field == alias else field, ascending) for field, ascending in criteria.sort_orders
    ]
    return dataclasses.replace(criteria, filter_groups=groups, sort_orders=orders)


# Compact, ASCII-only JSON like PHP's json_encode (slashes are escaped where the body is sent).
_dumps = json.JSONEncoder(separators=(",", ":")).encode


def _customer_not_found(customer_id: int) -> MagentoErrorResponse:
    """NoSuchEntityException::singleField("customerId", id): Magento's 404 for a customer."""
    return MagentoErrorResponse(
        404, NO_SUCH_ENTITY_FIELD, {"fieldName": "customerId", "fieldValue": customer_id}
    )


def _default_status(state: str) -> str:
    return {"new": "pending", "payment_review": "payment_review", "holded": "holded"}.get(
        state, state
    )


def _qty_to_ship(item: dict) -> float:
    return item["qty_ordered"] - item["qty_shipped"] - item["qty_canceled"]


def _num(value: float) -> int | float:
    """Print whole amounts as integers, like the published sample bodies."""
    if type(value) is int:
        return value
    value = round(value, 4)
    return int(value) if value.is_integer() else value


def _order_address(record: dict, kind: str, entity_id: int) -> dict:
    address = record["address"]
    region = address.get("region") or {}
    return {
        "address_type": kind,
        "city": address.get("city"),
        "country_id": address.get("country_id"),
        "email": record["customer_email"],
        "entity_id": entity_id,
        "firstname": address.get("firstname") or record["customer_firstname"],
        "lastname": address.get("lastname") or record["customer_lastname"],
        "parent_id": record["entity_id"],
        "postcode": address.get("postcode"),
        "region": region.get("region"),
        "region_code": region.get("region_code"),
        "region_id": region.get("region_id"),
        "street": list(address.get("street") or []),
        "telephone": address.get("telephone"),
    }


def _stock_item(product_id: int, given: dict) -> dict:
    stock = {
        "item_id": product_id,
        "product_id": product_id,
        "stock_id": 1,
        "qty": 0,
        "is_in_stock": True,
        "is_qty_decimal": False,
        "show_default_notification_message": False,
        "use_config_min_qty": True,
        "min_qty": 0,
        "use_config_min_sale_qty": 1,
        "min_sale_qty": 1,
        "use_config_max_sale_qty": True,
        "max_sale_qty": 10000,
        "use_config_backorders": True,
        "backorders": 0,
        "use_config_notify_stock_qty": True,
        "notify_stock_qty": 1,
        "use_config_qty_increments": True,
        "qty_increments": 0,
        "use_config_enable_qty_inc": True,
        "enable_qty_increments": False,
        "use_config_manage_stock": True,
        "manage_stock": True,
        "low_stock_date": None,
        "is_decimal_divided": False,
        "stock_status_changed_auto": 0,
    }
    stock.update({k: v for k, v in given.items() if v is not None})
    return stock


def _merge_product(row: dict, changes: dict) -> None:
    """ProductRepository::save merges request data into the stored product."""
    for key, value in changes.items():
        if key in ("id", "created_at", "updated_at") or value is None:
            continue
        if key == "extension_attributes":
            extension = row.setdefault("extension_attributes", {})
            for ext_key, ext_value in value.items():
                if ext_key == "stock_item" and isinstance(ext_value, dict):
                    extension["stock_item"] = {
                        **extension.get("stock_item", {}),
                        **{k: v for k, v in ext_value.items() if v is not None},
                    }
                else:
                    extension[ext_key] = ext_value
        elif key == "custom_attributes":
            merged = {a["attribute_code"]: a.get("value") for a in row.get("custom_attributes", [])}
            for attribute in value:
                if attribute.get("attribute_code"):
                    merged[attribute["attribute_code"]] = attribute.get("value")
            row["custom_attributes"] = [
                {"attribute_code": k, "value": v} for k, v in merged.items()
            ]
        else:
            row[key] = value


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise MagentoErrorResponse(400, PASSWORD_LENGTH, [8])
    classes = sum(
        bool(re.search(pattern, password))
        for pattern in (r"[a-z]", r"[A-Z]", r"\d", r"[^a-zA-Z\d]")
    )
    if classes < 3:
        raise MagentoErrorResponse(400, PASSWORD_CLASSES, [3])

"""The sandbox store's orders: kept compact, expanded to Magento's full order body when served."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Any

from .. import fake_data
from ..errors import ENTITY_NOT_FOUND, ID_NEEDED, MagentoErrorResponse
from ..inputs import ORDER, scalar_fields
from ..table import Table, stable_hash
from .common import dumps as _dumps
from .common import num as _num

ORDER_CACHE_SIZE = 20_000


class OrderRecords:
    """The orders part of SandboxStore (orders table, item ids and the cache of order JSON)."""

    lock: threading.RLock  # SandboxStore's; every public method holds it
    rng: random.Random
    orders: Table
    customers: Table
    products: Table
    _skus: dict[str, int]

    def _init_orders(self) -> None:
        self._order_fields = scalar_fields(ORDER)
        self.orders = Table()
        self._next_item_id = 1
        self._order_cache: dict[int, str] = {}

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


def _default_status(state: str) -> str:
    return {"new": "pending", "payment_review": "payment_review", "holded": "holded"}.get(
        state, state
    )


def qty_to_ship(item: dict) -> float:
    return item["qty_ordered"] - item["qty_shipped"] - item["qty_canceled"]


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

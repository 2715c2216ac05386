"""The sandbox store's shipments: POST /V1/order/{id}/ship checked like ShipOrder, and GET."""

from __future__ import annotations

import copy
import threading

from ..errors import ENTITY_NOT_FOUND, SHIPMENT_VALIDATION, MagentoErrorResponse, internal_error
from ..inputs import scalar_fields
from ..search import Criteria, UnknownField, check_criteria, make_predicate, page_of, sort_rows
from ..table import Table
from .common import num as _num
from .orders import qty_to_ship

# States in which Magento's CanShip refuses by status; in any other state the quantities decide.
UNSHIPPABLE_STATES = ("payment_review", "holded", "canceled")


class ShipmentRecords:
    """The shipments part of SandboxStore; shipping changes the order it ships."""

    lock: threading.RLock  # SandboxStore's; every public method holds it
    orders: Table
    _order_cache: dict[int, str]

    def _init_shipments(self) -> None:
        self.shipments: dict[int, dict] = {}
        self._shipment_fields = scalar_fields("sales-data-shipment-interface")
        self._next_shipment_child_id = 1

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
                return 0 if refunded else qty_to_ship(item)

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
            if all(qty_to_ship(item) <= 0 for item in record["items"]):
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

    def shipment_search(self, criteria: Criteria) -> dict:
        """GET /V1/shipments: ShipmentRepository::getList, e.g. every shipment of one order."""
        with self.lock:
            try:
                check_criteria(criteria, self._shipment_fields.__contains__)
            except UnknownField:
                raise internal_error() from None  # Magento: an SQL error, answered as a 500
            rows = list(self.shipments.values())
            predicate = make_predicate(criteria.filter_groups, _shipment_value)
            if predicate is not None:
                rows = [row for row in rows if predicate(row)]
            rows = sort_rows(rows, criteria.sort_orders or [("entity_id", True)], _shipment_value)
            items = [copy.deepcopy(row) for row in page_of(rows, criteria)]
            return {"items": items, "search_criteria": criteria.echo, "total_count": len(rows)}


def _shipment_value(row: dict, name: str):
    return row.get(name)

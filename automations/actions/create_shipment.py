"""create_shipment: ship an order (all that is left, or chosen SKUs), with tracking.

Magento refuses what cannot ship; this action checks first and says why in plain words, and
turns Magento's own refusals ("Shipment Document Validation Error(s)") into the same words.
"""

from __future__ import annotations

from typing import Any

from automations.actions._base import (
    Action,
    ActionInput,
    ActionInputError,
    ActionRefused,
    ActionResult,
    PlannedRequest,
)
from magento.errors import ValidationError

CARRIERS = {
    "ups": "United Parcel Service",
    "usps": "United States Postal Service",
    "fedex": "Federal Express",
    "dhl": "DHL",
    "custom": "Custom",
}
# Order states in which Magento's CanShip refuses whatever is left (Order::canShip).
REFUSED_STATES = {
    "holded": "is on hold: release the hold in Magento before shipping it",
    "canceled": "is canceled: a canceled order cannot be shipped",
    "payment_review": "is in payment review: accept or deny the payment first",
}
VALIDATION_PREFIX = "Shipment Document Validation Error(s):"


def qty_left(item: dict[str, Any]) -> float:
    """What is still to ship of an order item (Magento: ordered - max(shipped, refunded) -
    canceled)."""
    number = lambda name: float(item.get(name) or 0)  # noqa: E731
    return max(
        0.0,
        number("qty_ordered")
        - max(number("qty_shipped"), number("qty_refunded"))
        - number("qty_canceled"),
    )


def _qty(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


class CreateShipment(Action):
    id = "create_shipment"
    label = "Ship an order"
    description = (
        "Creates a shipment for an order: everything not shipped yet, or the SKUs and "
        "quantities given, with a tracking number if given. Never ships twice for one trigger "
        "event."
    )
    output_fields = ("id", "order_id", "order_increment_id", "items", "tracks")
    writes = True
    creates = True
    inputs = (
        ActionInput(
            "order_increment_id",
            "Order number",
            help_text="The order number customers see, e.g. 000000042.",
        ),
        ActionInput(
            "order_id",
            "Order ID",
            "integer",
            help_text="Magento's internal order ID (entity_id); instead of the order number.",
        ),
        ActionInput(
            "items",
            "Items to ship",
            "json",
            help_text="Leave empty to ship everything not shipped yet, or list SKUs and "
            'quantities: [{"sku": "MS-Champ-S", "qty": 1}].',
        ),
        ActionInput("track_number", "Tracking number", group="Tracking"),
        ActionInput(
            "carrier_code",
            "Carrier code",
            group="Tracking",
            help_text="ups, usps, fedex, dhl, or custom for any other carrier.",
        ),
        ActionInput(
            "title",
            "Carrier name",
            group="Tracking",
            help_text="Shown to the customer; the carrier's usual name when left empty.",
        ),
        ActionInput(
            "notify",
            "E-mail the customer",
            "boolean",
            default=False,
            help_text="Sends Magento's shipment e-mail.",
        ),
        ActionInput("comment", "Comment", help_text="Added to the shipment.", multiline=True),
    )

    def clean(self, values: dict[str, Any]) -> None:
        errors: dict[str, str] = {}
        if ("order_increment_id" in values) == ("order_id" in values):
            errors["order_increment_id"] = "Give the order number or the order ID (one of them)."
        if "order_id" in values and values["order_id"] <= 0:
            errors["order_id"] = "Expected an order ID (1 or more)."
        if "items" in values:
            try:
                values["items"] = self.requested_items(values["items"])
            except ValueError as problem:
                errors["items"] = str(problem)
        if "track_number" in values:
            if "carrier_code" not in values:
                errors["carrier_code"] = "Needed with a tracking number (ups, usps, ... custom)."
            elif "title" not in values:
                code = values["carrier_code"].strip()
                values["title"] = CARRIERS.get(code.lower(), code)
        elif "carrier_code" in values or "title" in values:
            errors["track_number"] = "Give the tracking number too, or leave the carrier empty."
        if errors:
            raise ActionInputError(errors)

    @staticmethod
    def requested_items(items: Any) -> list[dict[str, Any]]:
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list) or not items:
            raise ValueError('Expected a list like [{"sku": "MS-Champ-S", "qty": 1}].')
        checked = []
        for entry in items:
            if not isinstance(entry, dict) or set(entry) - {"sku", "qty"}:
                raise ValueError('Each item is {"sku": ..., "qty": ...}.')
            sku, qty = entry.get("sku"), entry.get("qty", 1)
            if not isinstance(sku, str) or not sku.strip():
                raise ValueError("Each item needs a SKU.")
            try:
                qty = float(qty) if not isinstance(qty, bool) else None
            except (TypeError, ValueError):
                qty = None
            if qty is None or not qty > 0:
                raise ValueError(f"The quantity for SKU {sku!r} must be a number above 0.")
            checked.append({"sku": sku, "qty": _qty(qty)})
        return checked

    # -- the order ------------------------------------------------------------------------

    def order(self, client: Any, values: dict[str, Any]) -> dict[str, Any]:
        if "order_id" in values:
            return client.orders.get(values["order_id"])
        return client.orders.get_by_increment_id(str(values["order_increment_id"]))

    def items_to_ship(self, order: dict[str, Any], values: dict[str, Any]) -> list[dict]:
        """[{order_item_id, sku, qty}] to ship; ActionRefused says in words why not."""
        number = order.get("increment_id") or order.get("entity_id")
        state = order.get("state")
        if state in REFUSED_STATES:
            raise ActionRefused(f"Order {number} {REFUSED_STATES[state]}.")
        shippable = [
            item
            for item in order.get("items") or []
            if not item.get("parent_item_id") and not int(item.get("is_virtual") or 0)
        ]
        left = {item["item_id"]: qty_left(item) for item in shippable}
        if not any(qty > 0 for qty in left.values()):
            raise ActionRefused(
                f"Nothing is left to ship on order {number}: every item has shipped, or was "
                "canceled or refunded."
            )
        if "items" not in values:
            return [
                {
                    "order_item_id": item["item_id"],
                    "sku": item.get("sku"),
                    "qty": _qty(left[item["item_id"]]),
                }
                for item in shippable
                if left[item["item_id"]] > 0
            ]
        chosen = []
        for wanted in values["items"]:
            matches = [item for item in shippable if item.get("sku") == wanted["sku"]] or [
                item
                for item in shippable
                if str(item.get("sku", "")).lower() == wanted["sku"].lower()
            ]
            if not matches:
                raise ActionRefused(f"Order {number} has no item with SKU {wanted['sku']!r}.")
            available = sum(left[item["item_id"]] for item in matches)
            if wanted["qty"] > available + 1e-9:
                raise ActionRefused(
                    f"Order {number}: {_qty(wanted['qty'])} of SKU {wanted['sku']!r} asked, but "
                    f"only {_qty(available)} left to ship."
                )
            still = float(wanted["qty"])
            for item in matches:
                take = min(still, left[item["item_id"]])
                if take > 0:
                    chosen.append(
                        {
                            "order_item_id": item["item_id"],
                            "sku": item.get("sku"),
                            "qty": _qty(take),
                        }
                    )
                    left[item["item_id"]] -= take
                    still -= take
        return chosen

    def tracks(self, values: dict[str, Any]) -> list[dict[str, str]] | None:
        if "track_number" not in values:
            return None
        return [
            {
                "track_number": values["track_number"],
                "title": values["title"],
                "carrier_code": values["carrier_code"],
            }
        ]

    # -- running --------------------------------------------------------------------------

    def run(self, client: Any, values: dict[str, Any]) -> ActionResult:
        order = self.order(client, values)
        items = self.items_to_ship(order, values)
        order_id = order["entity_id"]
        # Noted before sending, so an unknown outcome can tell our shipment from older ones.
        self.memo["order_id"] = order_id
        self.memo["order_increment_id"] = order.get("increment_id")
        self.memo["shipments_before"] = [
            shipment.get("entity_id") for shipment in client.shipments.for_order(order_id)
        ]
        self.save_memo()
        path = f"/V1/order/{order_id}/ship"
        try:
            shipment_id = client.shipments.create(
                order_id,
                items=None
                if "items" not in values
                else [
                    {"order_item_id": item["order_item_id"], "qty": item["qty"]} for item in items
                ],
                tracks=self.tracks(values),
                notify=values["notify"],
                comment=values.get("comment"),
            )
        except ValidationError as refusal:
            raise ActionRefused(
                self.plain_refusal(refusal, order),
                status=refusal.status,
                response={"message": refusal.message},
            ) from refusal
        return ActionResult(
            output=self.output(shipment_id, order, items, values),
            request_method="POST",
            request_path=path,
            response=shipment_id,
        )

    def output(self, shipment_id, order, items, values) -> dict[str, Any]:
        return {
            "id": shipment_id,
            "order_id": order["entity_id"],
            "order_increment_id": order.get("increment_id"),
            "items": items,
            "tracks": self.tracks(values) or [],
        }

    @staticmethod
    def plain_refusal(refusal: ValidationError, order: dict[str, Any]) -> str:
        number = order.get("increment_id") or order.get("entity_id")
        text = refusal.message
        if not text.startswith(VALIDATION_PREFIX):
            return f"Magento refused to ship order {number}: {text}"
        reasons = []
        for line in text[len(VALIDATION_PREFIX) :].strip().splitlines():
            if "does not allow a shipment" in line or "without products" in line:
                reasons.append("nothing is left to ship, or the order's state does not allow it")
            elif "status of" in line:
                status = line.rsplit(" ", 1)[-1].rstrip(".")
                reasons.append(f"its status is {status!r} (on hold, canceled or in review)")
            elif "greater than the unshipped quantity" in line:
                reasons.append(
                    "a quantity is above what is left to ship "
                    + line.split("for ", 1)[-1].rstrip(".")
                )
            elif line.strip():
                reasons.append(line.strip())
        return f"Magento refused to ship order {number}: " + "; ".join(reasons) + "."

    def plan(self, client: Any, values: dict[str, Any]) -> PlannedRequest:
        order = self.order(client, values)
        items = self.items_to_ship(order, values)
        body: dict[str, Any] = {"notify": values["notify"]}
        if "items" in values:
            body["items"] = [{"order_item_id": i["order_item_id"], "qty": i["qty"]} for i in items]
        if values.get("comment"):
            body["appendComment"] = True
            body["comment"] = {"comment": values["comment"], "is_visible_on_front": 0}
        if self.tracks(values):
            body["tracks"] = self.tracks(values)
        shipped = ", ".join(f"{item['qty']} x {item['sku']}" for item in items)
        notes = [f"Ships {shipped}."]
        return PlannedRequest("POST", f"/V1/order/{order['entity_id']}/ship", body, notes)

    def find_existing(self, client: Any, values: dict[str, Any]) -> ActionResult | None:
        order_id = self.memo.get("order_id")
        if order_id is None or "shipments_before" not in self.memo:
            return None
        before = set(self.memo["shipments_before"])
        new = [s for s in client.shipments.for_order(order_id) if s.get("entity_id") not in before]
        if not new:
            return None
        shipment = new[-1]
        items = [
            {"order_item_id": i.get("order_item_id"), "sku": i.get("sku"), "qty": i.get("qty")}
            for i in shipment.get("items") or []
        ]
        output = {
            "id": shipment["entity_id"],
            "order_id": order_id,
            "order_increment_id": self.memo.get("order_increment_id"),
            "items": items,
            "tracks": [
                {k: t.get(k) for k in ("track_number", "title", "carrier_code")}
                for t in shipment.get("tracks") or []
            ],
        }
        return ActionResult(
            output=output, request_method="GET", request_path="/V1/shipments", response=shipment
        )

    def subject(self, values: dict[str, Any]) -> str:
        if "order_increment_id" in values:
            return f"order {values['order_increment_id']}"
        return f"order ID {values.get('order_id')}"

"""Shipments: ship an order (items, tracking numbers, comment) and read a shipment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from ..errors import UnexpectedResponseError
from ..search import SearchCriteria, int_from_digits, is_int
from ._base import Resource, expect_object, positive_id

TRACK_FIELDS = ("carrier_code", "title", "track_number")


def _shipment_item(item: object) -> dict[str, Any]:
    if isinstance(item, Mapping):
        order_item_id, qty = item.get("order_item_id"), item.get("qty")
        extra = set(item) - {"order_item_id", "qty"}
        if extra:
            raise ValueError(f"shipment items take order_item_id and qty only, got {sorted(extra)}")
    elif isinstance(item, (tuple, list)) and len(item) == 2:
        order_item_id, qty = item
    else:
        raise ValueError(f"a shipment item is {{'order_item_id': ..., 'qty': ...}}, got {item!r}")
    order_item_id = positive_id(order_item_id, "order item id")
    if not (is_int(qty) or isinstance(qty, (float, Decimal))):
        raise ValueError(f"quantity to ship must be a number, got {qty!r}")
    if not qty > 0:
        raise ValueError(f"quantity to ship must be more than 0, got {qty}")
    return {"order_item_id": order_item_id, "qty": float(qty) if isinstance(qty, Decimal) else qty}


def _track(track: object) -> dict[str, str]:
    if not isinstance(track, Mapping):
        raise ValueError(
            f"a tracking entry is a dict with {', '.join(TRACK_FIELDS)}, got {track!r}"
        )
    extra = set(track) - set(TRACK_FIELDS)
    if extra:
        raise ValueError(
            f"tracking entries take {', '.join(TRACK_FIELDS)} only, got {sorted(extra)}"
        )
    checked = {}
    for name in TRACK_FIELDS:
        value = track.get(name)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"tracking entry needs a non-empty {name!r}")
        checked[name] = value
    return checked


class Shipments(Resource):
    """`client.shipments`: order shipments (`/V1/order/{id}/ship`, `/V1/shipment/{id}`)."""

    search_path = "/V1/shipments"
    id_key = "entity_id"

    def create(
        self,
        order_id: int,
        *,
        items: Sequence[Mapping[str, Any] | tuple[int, float]] | None = None,
        tracks: Sequence[Mapping[str, str]] | None = None,
        notify: bool = False,
        comment: str | None = None,
        comment_visible_on_front: bool = False,
    ) -> int:
        """Ship an order (by its entity id) and return the new shipment's id.

        `items` lists `{"order_item_id": ..., "qty": ...}` (or `(order_item_id, qty)` pairs)
        for a partial shipment; leave it None to ship everything not shipped yet. `tracks`
        lists `{"carrier_code", "title", "track_number"}`. `notify` e-mails the customer;
        `comment` is added to the shipment. This POST is not safe to repeat: after an
        UnknownOutcomeError check the order's shipments before shipping again.
        """
        order_id = positive_id(order_id, "order id")
        body: dict[str, Any] = {}
        if items is not None:
            if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Sequence):
                raise ValueError("items must be a list of shipment items (or None for all)")
            if not items:
                raise ValueError("items is empty: give the items to ship, or None to ship all")
            body["items"] = [_shipment_item(item) for item in items]
        if not isinstance(notify, bool):
            raise ValueError("notify must be True or False")
        body["notify"] = notify
        if comment is not None:
            if not isinstance(comment, str) or not comment.strip():
                raise ValueError("comment must be non-empty text (or None)")
            body["appendComment"] = True
            body["comment"] = {
                "comment": comment,
                "is_visible_on_front": 1 if comment_visible_on_front else 0,
            }
        if tracks is not None:
            if isinstance(tracks, (str, bytes, Mapping)) or not isinstance(tracks, Sequence):
                raise ValueError("tracks must be a list of tracking entries")
            if tracks:
                body["tracks"] = [_track(track) for track in tracks]
        path = f"/V1/order/{order_id}/ship"
        answer = self.client.request("POST", path, json=body)
        if int_from_digits(answer) is not None:
            answer = int(answer)  # some PHP setups send ids as numeric strings
        if not is_int(answer) or answer <= 0:
            raise UnexpectedResponseError(
                f"The store shipped order {order_id} but answered {answer!r} instead of the "
                "new shipment's id; check the order's shipments before shipping again.",
                method="POST",
                path=path,
            )
        return answer

    def get(self, shipment_id: int) -> dict[str, Any]:
        """The shipment with this id; NotFoundError if there is none."""
        shipment_id = positive_id(shipment_id, "shipment id")
        path = f"/V1/shipment/{shipment_id}"
        return expect_object(self.client.request("GET", path), "GET", path, "a shipment")

    def for_order(self, order_id: int) -> list[dict[str, Any]]:
        """Every shipment of the order with this entity id (`GET /V1/shipments`), oldest first."""
        order_id = positive_id(order_id, "order id")
        return list(self.iter_all(SearchCriteria().where("order_id", "eq", order_id)))

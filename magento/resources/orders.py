"""Orders: search, read by entity id, and find by the order number shoppers see."""

from __future__ import annotations

from typing import Any

from ..search import SearchCriteria, is_int
from ._base import Resource, expect_object, positive_id


class Orders(Resource):
    """`client.orders`: sales orders (`/V1/orders...`).

    Orders are filtered, sorted and carried by "entity_id"; "increment_id" is the order
    number shown to shoppers (unique per store view, not per installation).
    """

    search_path = "/V1/orders"
    id_key = "entity_id"

    def get(self, order_id: int) -> dict[str, Any]:
        """The order with this entity id (not the order number); NotFoundError if none."""
        order_id = positive_id(order_id, "order id")
        path = f"/V1/orders/{order_id}"
        return expect_object(self.client.request("GET", path), "GET", path, "an order")

    def get_by_increment_id(self, increment_id: str) -> dict[str, Any]:
        """The order with this order number, e.g. "000000042".

        NotFoundError if none; AmbiguousMatchError naming the store views when several store
        views have used the same number.
        """
        if is_int(increment_id):
            raise ValueError("order numbers are strings (leading zeros matter), e.g. '000000042'")
        if not isinstance(increment_id, str) or not increment_id.strip():
            raise ValueError(f"order number must be a non-empty string, got {increment_id!r}")
        increment_id = increment_id.strip()
        criteria = SearchCriteria().where("increment_id", "eq", increment_id)
        return self._exactly_one(
            list(self.iter_all(criteria)),
            f"order number {increment_id}",
            lambda items: "; ".join(
                f"order {item.get('entity_id')} in store {item.get('store_id')}" for item in items
            ),
        )

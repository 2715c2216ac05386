"""Resource helpers built on `MagentoClient.request`: `client.customers`, `client.products`,
`client.orders`, `client.shipments` and `client.store`.

MagentoClient builds them on first use from `RESOURCES` (see `MagentoClient.__getattr__`), so
this package is imported only when a resource is used. Each takes the client as its only
argument, so they also work on any object with a compatible `request` method.
"""

from __future__ import annotations

from ._base import Resource
from .customers import Customers, merge_customer
from .orders import Orders
from .products import Products, sku_path
from .shipments import Shipments
from .store import Store

# Attribute name on MagentoClient -> resource class.
RESOURCES: dict[str, type] = {
    "customers": Customers,
    "products": Products,
    "orders": Orders,
    "shipments": Shipments,
    "store": Store,
}

__all__ = [
    "RESOURCES",
    "Customers",
    "Orders",
    "Products",
    "Resource",
    "Shipments",
    "Store",
    "merge_customer",
    "sku_path",
]

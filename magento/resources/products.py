"""Products: search, read by SKU (with a search fallback), create, and update by SKU."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ..client import CLIENT_STORE_CODE
from ..errors import NotFoundError, RouteNotFoundError, UnexpectedResponseError
from ..search import SearchCriteria
from ._base import Resource, checked_mapping, expect_object, store_code_kwargs


def checked_sku(sku: object) -> str:
    """A SKU as given (Magento keeps spaces inside SKUs), refusing empty ones."""
    if not isinstance(sku, str):
        raise ValueError(f"SKU must be a string, got {type(sku).__name__}")
    if not sku.strip():
        raise ValueError("SKU is empty")
    return sku


def sku_path(sku: str) -> str:
    """`/V1/products/{sku}` with the SKU percent-encoded as one path segment.

    Nothing is left literal (safe=""): a raw "/" splits the route, "+" would be read as a
    space, "#" and "?" would end the path, and "%" must not start an escape.
    """
    return f"/V1/products/{quote(checked_sku(sku), safe='')}"


def _is_route_miss(error: Exception) -> bool:
    # Magento's own "no route" 404, or a web server's HTML 404 in front of Magento (Apache
    # refuses encoded slashes unless AllowEncodedSlashes is on).
    if isinstance(error, RouteNotFoundError):
        return True
    return isinstance(error, UnexpectedResponseError) and error.status == 404


class Products(Resource):
    """`client.products`: catalog products (`/V1/products...`).

    Writes go to the client's store code, "all" by default, so they change the global values
    rather than creating store-view overrides; pass `store_code` only for deliberate
    per-store-view values (translations).
    """

    search_path = "/V1/products"
    attribute_sets_path = "/V1/products/attribute-sets/sets/list"

    def get(self, sku: str, *, search_fallback: bool = True) -> dict[str, Any]:
        """The product with this SKU; NotFoundError if there is none.

        Stores whose web server refuses encoded slashes answer a SKU such as "a/b" with a
        route 404; then (with `search_fallback`) the product is looked up with a search on
        sku, which returns the product as it appears in search results.
        """
        path = sku_path(sku)
        try:
            return expect_object(self.client.request("GET", path), "GET", path, "a product")
        except (RouteNotFoundError, UnexpectedResponseError) as error:
            if not (search_fallback and _is_route_miss(error)):
                raise
        return self.find_by_sku(sku)

    def find_by_sku(self, sku: str) -> dict[str, Any]:
        """The product with this SKU, found with a search (works for any SKU on any server)."""
        sku = checked_sku(sku)
        result = self.search(SearchCriteria().where("sku", "eq", sku).with_page_size(10))
        # MySQL compares case-insensitively; prefer the exact spelling when several come back.
        exact = [item for item in result.items if item.get("sku") == sku]
        return self._exactly_one(
            exact or result.items,
            f"product with SKU {sku!r}",
            lambda items: ", ".join(repr(item.get("sku")) for item in items),
        )

    def create(
        self, product: Mapping[str, Any], *, store_code: str | None = CLIENT_STORE_CODE
    ) -> dict[str, Any]:
        """Create a product and return it as saved. A new simple product needs at least sku,
        name, attribute_set_id, price and type_id; set extension_attributes.website_ids."""
        product = checked_mapping(product, "product")
        product["sku"] = checked_sku(product.get("sku"))
        answer = self.client.request(
            "POST", "/V1/products", json={"product": product}, **store_code_kwargs(store_code)
        )
        return expect_object(answer, "POST", "/V1/products", "the new product")

    def update(
        self,
        sku: str,
        changes: Mapping[str, Any],
        *,
        store_code: str | None = CLIENT_STORE_CODE,
    ) -> dict[str, Any]:
        """Change some fields of the product with this SKU and return it as saved.

        Magento merges the given fields into the stored product, so only the changes are sent.
        Lists you send (media gallery, options, tier prices) replace the stored ones.
        """
        sku = checked_sku(sku)
        changes = checked_mapping(changes, "changes")
        if not changes:
            raise ValueError("no changes given")
        if "sku" in changes and changes["sku"] != sku:
            raise ValueError("changes must not rename the SKU; Magento looks it up by the path")
        path = sku_path(sku)
        body = {"product": {"sku": sku, **changes}}
        answer = self.client.request("PUT", path, json=body, **store_code_kwargs(store_code))
        return expect_object(answer, "PUT", path, "the updated product")

    def attribute_set_id(self, name: str = "Default") -> int:
        """The id of the product attribute set with this name (ACL Magento_Catalog::sets).

        Ids differ between stores (4 is "Default" on a fresh install only), so look it up.
        """
        if not isinstance(name, str) or not name.strip():
            raise ValueError("attribute set name must be non-empty text")
        criteria = SearchCriteria().where("attribute_set_name", "eq", name).with_page_size(10)
        body = self.client.request("GET", self.attribute_sets_path, params=criteria.to_query())
        path = self.attribute_sets_path
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise UnexpectedResponseError(
                "The store's list of attribute sets is not a Magento search result.",
                method="GET",
                path=path,
            )
        for item in items:
            set_id = item.get("attribute_set_id") if isinstance(item, dict) else None
            if item.get("attribute_set_name") == name and set_id is not None:
                return int(set_id)
        raise NotFoundError(
            f"The store has no product attribute set named {name!r}.", method="GET", path=path
        )

"""The sandbox store's products: GET, POST and PUT /V1/products, saved like ProductRepository."""

from __future__ import annotations

import copy
import re
import threading
from typing import Any

from ..errors import PRODUCT_NOT_FOUND, MagentoErrorResponse, internal_error, required
from ..inputs import PRODUCT, scalar_fields
from ..search import Criteria, UnknownField, check_criteria, make_predicate, page_of, sort_rows
from ..table import Table

EMPTY_ATTRIBUTE = 'The "%1" attribute value is empty. Set the attribute and try again.'
INVALID_PRODUCT_DATA = "Invalid product data: %1"
# A fresh install's product attribute set is "Default" (4); shops add their own, and the ids
# differ between stores, which is why the portal looks the Default set up by name.
ATTRIBUTE_SET_FIELDS = ("attribute_set_id", "attribute_set_name", "sort_order", "entity_type_id")
PRODUCT_ENTITY_TYPE_ID = 4


class ProductRecords:
    """The products part of SandboxStore (products table and the case-insensitive SKU index)."""

    lock: threading.RLock  # SandboxStore's; every public method holds it
    products: Table

    def _init_products(self) -> None:
        self._product_fields = scalar_fields(PRODUCT)
        self.products = Table()
        self._skus: dict[str, int] = {}
        # The sets of a store with Magento's sample data (the published requests use 9, "Top").
        self.attribute_sets: list[dict] = [
            {
                "attribute_set_id": set_id,
                "attribute_set_name": name,
                "sort_order": position,
                "entity_type_id": PRODUCT_ENTITY_TYPE_ID,
            }
            for position, (set_id, name) in enumerate(
                ((4, "Default"), (9, "Top"), (10, "Bottom"), (11, "Gear")), start=1
            )
        ]

    def attribute_set_add(self, name: str, attribute_set_id: int) -> dict:
        """Add a product attribute set (tests give a store whose sets have other ids)."""
        with self.lock:
            entry = {
                "attribute_set_id": attribute_set_id,
                "attribute_set_name": name,
                "sort_order": len(self.attribute_sets) + 1,
                "entity_type_id": PRODUCT_ENTITY_TYPE_ID,
            }
            self.attribute_sets.append(entry)
            return dict(entry)

    def attribute_set_search(self, criteria: Criteria) -> dict:
        """GET /V1/products/attribute-sets/sets/list: the product attribute sets that match."""
        with self.lock:
            try:
                check_criteria(criteria, ATTRIBUTE_SET_FIELDS.__contains__)
            except UnknownField:
                raise internal_error() from None
            rows = [dict(row) for row in self.attribute_sets]
            predicate = make_predicate(criteria.filter_groups, lambda row, name: row.get(name))
            if predicate is not None:
                rows = [row for row in rows if predicate(row)]
            rows = sort_rows(rows, criteria.sort_orders, lambda row, name: row.get(name))
            return {
                "items": page_of(rows, criteria),
                "search_criteria": criteria.echo,
                "total_count": len(rows),
            }

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
            set_id = product.get("attribute_set_id")
            if set_id is not None and set_id not in {
                row["attribute_set_id"] for row in self.attribute_sets
            }:
                raise MagentoErrorResponse(
                    400, INVALID_PRODUCT_DATA, ["Invalid attribute set entity type"]
                )
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
            "attribute_set_id": data.get("attribute_set_id")
            or self.attribute_sets[0]["attribute_set_id"],
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

"""Store settings: the calls used to verify that a connection works."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._base import ClientHelper, expect_list_of_objects


class Store(ClientHelper):
    """`client.store`: store configuration and store views (ACL Magento_Backend::store)."""

    def configs(self, store_codes: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Each store view's configuration (code, locale, base_currency_code, timezone, base_url,
        ...), optionally only for the given store codes."""
        params = None
        if store_codes is not None:
            if isinstance(store_codes, str) or not all(
                isinstance(code, str) and code for code in store_codes
            ):
                raise ValueError("store_codes must be a list of non-empty store codes")
            params = [("storeCodes[]", code) for code in store_codes]
        path = "/V1/store/storeConfigs"
        answer = self.client.request("GET", path, params=params)
        return expect_list_of_objects(answer, "GET", path, "the store configuration")

    def views(self) -> list[dict[str, Any]]:
        """Every store view (id, code, name, website_id, store_group_id, is_active)."""
        path = "/V1/store/storeViews"
        return expect_list_of_objects(self.client.request("GET", path), "GET", path, "store views")

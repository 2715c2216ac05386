"""Small helpers for the sandbox tests: signed sessions and a response-shape checker."""

from __future__ import annotations

from functools import cache
from typing import Any

import pyotp
import requests
from requests_oauthlib import OAuth1

from tests.shared_data import load_schema_subset


def oauth(server, **changed: str) -> OAuth1:
    """OAuth 1.0a (HMAC-SHA256) signing with the sandbox integration's four credentials, or with
    some of them `changed` (consumer_key=..., access_token=...)."""
    c = {**server.credentials.as_dict(), **changed}
    return OAuth1(
        c["consumer_key"],
        c["consumer_secret"],
        c["access_token"],
        c["access_token_secret"],
        signature_method="HMAC-SHA256",
    )


def rest(server, path: str, store_code: str | None = "all") -> str:
    """Full URL of a REST path like "/V1/orders" on the sandbox."""
    prefix = f"/rest/{store_code}" if store_code else "/rest"
    return f"{server.url}{prefix}{path}"


def admin_token(server) -> str:
    """Sign in as the admin through the 2FA Google endpoint (or the plain one without 2FA)."""
    c = server.credentials
    if server.two_factor_enabled:
        response = requests.post(
            rest(server, "/V1/tfa/provider/google/authenticate"),
            json={
                "username": c.admin_username,
                "password": c.admin_password,
                "otp": pyotp.TOTP(c.totp_secret).at(server.store.clock()),
            },
            timeout=5,
        )
    else:
        response = requests.post(
            rest(server, "/V1/integration/admin/token"),
            json={"username": c.admin_username, "password": c.admin_password},
            timeout=5,
        )
    assert response.status_code == 200, response.text
    return response.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def search_params(*filters, sort=(), page_size=None, current_page=None, style="snake"):
    """searchCriteria query pairs; filters are (field, value, condition) or lists of them (OR)."""
    groups_key, filters_key, type_key = (
        ("filter_groups", "filters", "condition_type")
        if style == "snake"
        else ("filterGroups", "filters", "conditionType")
    )
    pairs = []
    for g, group in enumerate(filters):
        group = group if isinstance(group, list) else [group]
        for f, (field, value, condition) in enumerate(group):
            base = f"searchCriteria[{groups_key}][{g}][{filters_key}][{f}]"
            pairs.append((f"{base}[field]", field))
            if value is not None:
                pairs.append((f"{base}[value]", str(value)))
            pairs.append((f"{base}[{type_key}]", condition))
    for s, (field, direction) in enumerate(sort):
        key = "sort_orders" if style == "snake" else "sortOrders"
        pairs.append((f"searchCriteria[{key}][{s}][field]", field))
        pairs.append((f"searchCriteria[{key}][{s}][direction]", direction))
    if page_size is not None:
        key = "page_size" if style == "snake" else "pageSize"
        pairs.append((f"searchCriteria[{key}]", str(page_size)))
    if current_page is not None:
        key = "current_page" if style == "snake" else "currentPage"
        pairs.append((f"searchCriteria[{key}]", str(current_page)))
    return pairs


@cache
def _definitions() -> dict:
    return load_schema_subset()["definitions"]


_PY_TYPES = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def shape_problems(body: Any, definition: str, where: str = "") -> list[str]:
    """Names and types of a response body against a schema definition (null allowed,
    `required` ignored, custom attribute values may be any JSON value as in the samples)."""
    schema = _definitions()[definition]
    problems = []
    if not isinstance(body, dict):
        return [f"{where or definition}: expected an object, got {type(body).__name__}"]
    properties = schema.get("properties", {})
    for key, value in body.items():
        path = f"{where}.{key}" if where else key
        if key not in properties:
            problems.append(f"{path}: not a property of {definition}")
            continue
        if value is None or (definition == "framework-attribute-interface" and key == "value"):
            continue
        problems.extend(_value_problems(value, properties[key], path))
    return problems


def _value_problems(value: Any, spec: dict, path: str) -> list[str]:
    if "$ref" in spec:
        return shape_problems(value, spec["$ref"].rsplit("/", 1)[-1], path)
    kind = spec.get("type")
    if kind is None:
        return []
    allowed = _PY_TYPES[kind]
    if not isinstance(value, allowed) or (
        kind in ("integer", "number") and isinstance(value, bool)
    ):
        return [f"{path}: expected {kind}, got {type(value).__name__} {value!r}"]
    if kind == "array":
        problems = []
        for index, item in enumerate(value):
            if item is not None:
                problems.extend(_value_problems(item, spec.get("items", {}), f"{path}[{index}]"))
        return problems
    return []


def assert_shape(body: Any, definition: str) -> None:
    problems = shape_problems(body, definition)
    assert not problems, "\n".join(problems)

"""Partial responses: `?fields=items[entity_id,increment_id],total_count` like Magento's
FieldsFilter keeps only the named keys, nested with brackets, applied to each list element."""

from __future__ import annotations

from typing import Any


def parse_fields(spec: str) -> dict[str, dict]:
    """Turn "a,b[c,d[e]]" into {"a": {}, "b": {"c": {}, "d": {"e": {}}}}."""
    root: dict[str, dict] = {}
    stack = [root]
    name = ""
    for char in spec:
        if char in ",[]":
            name = name.strip()
            if name:
                stack[-1].setdefault(name, {})
            if char == "[" and name:
                stack.append(stack[-1][name])
            elif char == "]" and len(stack) > 1:
                stack.pop()
            name = ""
        else:
            name += char
    if name.strip():
        stack[-1].setdefault(name.strip(), {})
    return root


def filter_fields(data: Any, wanted: dict[str, dict]) -> Any:
    """Keep only the wanted keys (recursively); lists are filtered element by element."""
    if not wanted:
        return data
    if isinstance(data, list):
        return [filter_fields(item, wanted) for item in data]
    if not isinstance(data, dict):
        return data
    return {key: filter_fields(data[key], sub) for key, sub in wanted.items() if key in data}

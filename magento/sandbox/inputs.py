"""Reading request data the way Magento's ServiceInputProcessor does.

Each data object only accepts the properties of its interface (names and types copied from
Adobe's published schema into entity_fields.json). Keys may be snake_case or camelCase, and,
because PHP method names ignore case, any capitalisation; an unknown key is refused with
'"%fieldName" is not supported'. Numbers may arrive as numeric strings.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from .errors import (
    FIELD_PROCESSING,
    INVALID_TYPE,
    NOT_SUPPORTED_FIELD,
    MagentoErrorResponse,
    render,
    required,
)

_FIELDS_FILE = Path(__file__).with_name("entity_fields.json")
_NUMERIC = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")

CUSTOMER = "customer-data-customer-interface"
PRODUCT = "catalog-data-product-interface"
SEARCH_CRITERIA = "framework-search-criteria-interface"
SHIPMENT_ITEM = "sales-data-shipment-item-creation-interface"
SHIPMENT_TRACK = "sales-data-shipment-track-creation-interface"
SHIPMENT_COMMENT = "sales-data-shipment-comment-creation-interface"
SHIPMENT_PACKAGE = "sales-data-shipment-package-creation-interface"
SHIPMENT_ARGUMENTS = "sales-data-shipment-creation-arguments-interface"
ORDER = "sales-data-order-interface"


@cache
def definitions() -> dict[str, dict[str, dict]]:
    """All data interfaces: {definition: {property: {"type", "ref"?, "items"?}}}."""
    return json.loads(_FIELDS_FILE.read_text(encoding="utf-8"))


@cache
def _lookup(definition: str) -> dict[str, str]:
    """Case- and underscore-insensitive key -> canonical property name."""
    return {_fold(name): name for name in definitions()[definition]}


def _fold(key: str) -> str:
    return key.replace("_", "").lower()


def upper_camel(key: str) -> str:
    """Magento's snakeCaseToUpperCamelCase, used to name an unsupported field."""
    return "".join(part[:1].upper() + part[1:] for part in key.split("_"))


def scalar_fields(definition: str) -> set[str]:
    """Property names of an interface that hold plain values (usable in search filters)."""
    return {
        name
        for name, spec in definitions()[definition].items()
        if spec["type"] in ("string", "integer", "number", "boolean")
    }


def read_object(definition: str, data: Any) -> dict:
    """Convert request data into a dict of canonical snake_case keys, or raise Magento's 400."""
    if not isinstance(data, dict):
        if data in ("", None):
            return {}
        raise _type_error(_TypeMismatch(data, definition))
    fields = definitions()[definition]
    lookup = _lookup(definition)
    result: dict[str, Any] = {}
    for key, value in data.items():
        name = lookup.get(_fold(str(key)))
        if name is None:
            raise MagentoErrorResponse(400, NOT_SUPPORTED_FIELD, {"fieldName": upper_camel(key)})
        try:
            result[name] = read_value(fields[name], value)
        except _TypeMismatch as mismatch:
            details = render(INVALID_TYPE, mismatch.parameters)
            raise MagentoErrorResponse(
                400, FIELD_PROCESSING, {"field_name": key, "details": details}
            ) from None
    return result


def read_value(spec: dict, value: Any) -> Any:
    """Convert one property value according to its schema type."""
    kind = spec["type"]
    if value is None:
        return None
    if kind == "object":
        return read_object(spec["ref"], value)
    if kind == "array":
        if isinstance(value, dict) and all(str(k).isdigit() for k in value):
            value = [value[k] for k in sorted(value, key=lambda k: int(k))]
        if not isinstance(value, list):
            raise _TypeMismatch(value, _php_type(spec["items"]) + "[]")
        return [read_value(spec["items"], item) for item in value]
    if kind == "any":
        return value
    if isinstance(value, (dict, list)):
        raise _TypeMismatch(value, _php_type(spec))
    if kind == "integer":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) or (isinstance(value, str) and _NUMERIC.match(value)):
            return int(float(value))
        raise _TypeMismatch(value, "int")
    if kind == "number":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, (int, float)):
            return _tidy_number(value)
        if isinstance(value, str) and _NUMERIC.match(value):
            return _tidy_number(float(value))
        raise _TypeMismatch(value, "float")
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if value in (0, 1, "0", "1", "true", "false", ""):
            return value in (1, "1", "true")
        raise _TypeMismatch(value, "bool")
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, float):
        return _tidy_float_text(value)
    return str(value)


def _tidy_number(value: float) -> int | float:
    """Magento prints 25.0 as 25 in the published samples; keep integral numbers integral."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def _tidy_float_text(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _php_type(spec: dict) -> str:
    return {
        "integer": "int",
        "number": "float",
        "boolean": "bool",
        "string": "string",
    }.get(spec.get("type", ""), spec.get("ref", "mixed"))


class _TypeMismatch(Exception):
    def __init__(self, value: Any, expected: str):
        super().__init__(expected)
        shown = json.dumps(value) if isinstance(value, (dict, list)) else value
        self.parameters = {"value": shown, "type": expected}


def _type_error(mismatch: _TypeMismatch) -> MagentoErrorResponse:
    """'The "%value" value's type is invalid' for a value that is not of the expected type."""
    return MagentoErrorResponse(400, INVALID_TYPE, mismatch.parameters)


def read_int(value: Any) -> int:
    """A path or body parameter declared as int: numeric strings pass, anything else is a 400."""
    try:
        return read_value({"type": "integer"}, value)
    except _TypeMismatch as mismatch:
        raise _type_error(mismatch) from None


def read_top_level(body: Any, parameters: dict[str, dict], required_names: list[str]) -> dict:
    """Match a body's top-level keys to a service method's parameters; others are ignored.

    `parameters` maps each parameter name to its spec; a name matches its snake_case form too.
    Missing required parameters are reported together, like Magento's InputException.
    """
    if not isinstance(body, dict):
        body = {}
    folded = {_fold(str(key)): key for key in body}
    values: dict[str, Any] = {}
    missing = []
    for name, spec in parameters.items():
        key = folded.get(_fold(name))
        if key is None or body[key] is None:
            if name in required_names:
                missing.append(name)
            continue
        try:
            values[name] = read_value(spec, body[key])
        except _TypeMismatch as mismatch:
            raise _type_error(mismatch) from None
    if missing:
        raise required(*missing)
    return values

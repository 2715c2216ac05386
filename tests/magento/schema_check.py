"""Check a request body we send against the official Magento 2.4.8 schema (names and types).

The schema's `required` lists are ignored: they are stricter than Magento (see
tests/fixtures/magento/API-FACTS.md, "Where the official schema and real Magento disagree").
Unknown property names are errors, because Magento answers them with 400 "%fieldName" is not
supported.

    assert_matches_schema(body, ("/V1/customers", "post"))           # an operation's request body
    assert_matches_schema(body["customer"], "customer-data-customer-interface")  # a definition
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from jsonschema import Draft4Validator

from tests.shared_data import load_schema_subset


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _loosen(node: Any, camel_case_ok: bool = False) -> Any:
    """Drop `required` lists and close objects to the properties the schema names."""
    if isinstance(node, dict):
        result = {}
        for key, value in node.items():
            if key == "required" and isinstance(value, list):
                continue
            if key == "properties" and isinstance(value, dict):
                properties = {}
                for name, schema in value.items():
                    properties[name] = _loosen(schema, camel_case_ok)
                    if camel_case_ok:
                        properties.setdefault(_camel(name), properties[name])
                result[key] = properties
            else:
                result[key] = _loosen(value, camel_case_ok)
        if isinstance(result.get("properties"), dict) and "additionalProperties" not in result:
            result["additionalProperties"] = False
        return result
    if isinstance(node, list):
        return [_loosen(item, camel_case_ok) for item in node]
    return node


@cache
def _definitions(camel_case_ok: bool = False) -> dict:
    return _loosen(load_schema_subset()["definitions"], camel_case_ok)


def _body_schema(path: str, method: str, camel_case_ok: bool) -> dict:
    operation = load_schema_subset()["paths"][path][method.lower()]
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "body":
            return _loosen(parameter["schema"], camel_case_ok)
    raise AssertionError(f"{method.upper()} {path} takes no request body in the schema")


def assert_matches_schema(
    body: Any, definition_or_path_method: str | tuple[str, str], *, camel_case_ok: bool = False
) -> None:
    """Fail with every mismatch if `body` has a property or type the schema does not allow.

    Our client sends snake_case names; `camel_case_ok=True` also accepts the camelCase
    spelling Magento understands (Adobe's own examples use it).
    """
    if isinstance(definition_or_path_method, tuple):
        path, method = definition_or_path_method
        schema = _body_schema(path, method, camel_case_ok)
        where = f"{method.upper()} {path}"
    else:
        if definition_or_path_method not in _definitions(camel_case_ok):
            raise AssertionError(f"no definition {definition_or_path_method!r} in the schema")
        schema = {"$ref": f"#/definitions/{definition_or_path_method}"}
        where = definition_or_path_method
    root = dict(copy.deepcopy(schema), definitions=_definitions(camel_case_ok))
    errors = sorted(Draft4Validator(root).iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [
            f"  at {'/'.join(str(p) for p in e.absolute_path) or '(body)'}: {e.message}"
            for e in errors
        ]
        raise AssertionError(f"body does not match the schema of {where}:\n" + "\n".join(lines))

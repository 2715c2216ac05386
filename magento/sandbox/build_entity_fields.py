"""Regenerate entity_fields.json from the official schema subset (after a schema update).

The sandbox reads request bodies the way Magento does: each entity only knows the properties of its
data interface. Those property names and types come from Adobe's published schema, kept for the
tests in tests/fixtures/magento/schema/subset.json; this script copies just the names and types
into a small file inside the package, so the installed sandbox needs no test files.

Usage: python -m magento.sandbox.build_entity_fields [path/to/subset.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUTPUT = Path(__file__).with_name("entity_fields.json")
REPO_DIR = Path(__file__).resolve().parents[2]
DEFAULT_SUBSET = REPO_DIR / "tests" / "fixtures" / "magento" / "schema" / "subset.json"


def _describe(prop: dict) -> dict:
    """Reduce one schema property to {"type": ..., "ref": ..., "items": {...}}."""
    if "$ref" in prop:
        return {"type": "object", "ref": prop["$ref"].rsplit("/", 1)[-1]}
    described = {"type": prop.get("type", "any")}
    if described["type"] == "array":
        described["items"] = _describe(prop.get("items", {}))
    return described


def build(subset: dict) -> dict:
    """Map every definition to its properties, each with a type and, for objects, the definition."""
    return {
        name: {key: _describe(prop) for key, prop in definition.get("properties", {}).items()}
        for name, definition in sorted(subset["definitions"].items())
        if not name.startswith("error-")
    }


def main(argv: list[str]) -> None:
    """Read the subset (default: the copy the tests use) and write the JSON file."""
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SUBSET
    subset = json.loads(source.read_text(encoding="utf-8"))
    OUTPUT.write_text(json.dumps(build(subset), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main(sys.argv)

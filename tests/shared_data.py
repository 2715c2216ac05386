"""Adobe's published sample bodies and the official schema subset, kept in tests/fixtures/magento.

See tests/fixtures/magento/README.md for where they come from and how to refresh them.
"""

import copy
import json
from functools import cache
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
MAGENTO_DIR = REPO_DIR / "tests" / "fixtures" / "magento"


@cache
def _read_json(path: Path):
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def load_sample(name: str):
    """A published response or request body, e.g. load_sample("customer") for customer.json."""
    filename = name if name.endswith(".json") else f"{name}.json"
    return copy.deepcopy(_read_json(MAGENTO_DIR / "samples" / filename))


def load_error(key: str) -> tuple[int, dict]:
    """(status, body) of a real Magento error, by its key in samples/errors.json."""
    entry = _read_json(MAGENTO_DIR / "samples" / "errors.json")[key]
    return entry["status"], copy.deepcopy(entry["body"])


def load_schema_subset() -> dict:
    """The official Magento 2.4.8 REST schema for the endpoints the portal uses."""
    return copy.deepcopy(_read_json(MAGENTO_DIR / "schema" / "subset.json"))

"""searchCriteria for the sandbox: PHP-style query parsing, filter evaluation, sorting and paging.

Semantics follow Magento's collection processors: filters inside a group are OR-ed, groups are
AND-ed, a sort order without a direction sorts descending, the page past the last one is the last
page again, and strings compare case-insensitively as in MySQL's default collation.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

# One list of condition types for the client and the store that answers it.
from ..search import CONDITION_TYPES
from .errors import MAX_PAGE_SIZE, MagentoErrorResponse
from .inputs import SEARCH_CRITERIA, read_object

MAX_PAGE_SIZE_DEFAULT = 300
DEFAULT_PAGE_SIZE = 20
_KEY_PART = re.compile(r"\[([^\]]*)\]")


def parse_query(query: str) -> dict[str, Any]:
    """Parse a query string into nested dicts the way PHP fills $_GET (`a[b][0][c]=v`)."""
    result: dict[str, Any] = {}
    for pair in query.split("&"):
        if not pair:
            continue
        raw_key, _, raw_value = pair.partition("=")
        key, value = unquote_plus(raw_key), unquote_plus(raw_value)
        head, _, rest = key.partition("[")
        parts = [head] + (_KEY_PART.findall("[" + rest) if rest else [])
        target = result
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if part == "":
                part = str(sum(1 for k in target if k.isdigit()))
            if last:
                target[part] = value
            else:
                child = target.get(part)
                if not isinstance(child, dict):
                    child = {}
                    target[part] = child
                target = child
    return result


@dataclass
class Criteria:
    """A read searchCriteria plus its echo for the response envelope."""

    filter_groups: list[list[dict]] = field(default_factory=list)
    sort_orders: list[tuple[str, bool]] = field(default_factory=list)
    page_size: int | None = None
    current_page: int = 1
    echo: dict = field(default_factory=dict)


def read_criteria(
    raw: Any,
    *,
    input_limits: bool,
    max_page_size: int = MAX_PAGE_SIZE_DEFAULT,
    default_page_size: int = DEFAULT_PAGE_SIZE,
) -> Criteria:
    """Validate a raw searchCriteria (from the query) into a Criteria, or raise Magento's 400."""
    data = read_object(SEARCH_CRITERIA, raw)
    criteria = Criteria()
    echo: dict[str, Any] = {"filter_groups": []}
    for group in data.get("filter_groups") or []:
        filters = []
        echo_filters = []
        for item in (group or {}).get("filters") or []:
            item = item or {}
            condition = (item.get("condition_type") or "eq").lower()
            entry = {"field": item.get("field"), "value": item.get("value"), "condition": condition}
            filters.append(entry)
            shown = {
                "field": item.get("field"),
                "value": item.get("value"),
                "condition_type": condition,
            }
            echo_filters.append({k: v for k, v in shown.items() if v is not None})
        criteria.filter_groups.append(filters)
        echo["filter_groups"].append({"filters": echo_filters})
    sort_echo = []
    for order in data.get("sort_orders") or []:
        order = order or {}
        direction = order.get("direction")
        ascending = str(direction or "").upper() == "ASC"
        if order.get("field"):
            criteria.sort_orders.append((order["field"], ascending))
        shown = {"field": order.get("field"), "direction": direction}
        sort_echo.append({k: v for k, v in shown.items() if v is not None})
    if sort_echo:
        echo["sort_orders"] = sort_echo
    page_size = data.get("page_size")
    if input_limits:
        if page_size is not None and page_size > max_page_size:
            raise MagentoErrorResponse(400, MAX_PAGE_SIZE, {"max": max_page_size})
        if page_size is None:
            page_size = default_page_size
    if page_size is not None:
        echo["page_size"] = page_size
    criteria.page_size = page_size if page_size and page_size > 0 else None
    current_page = data.get("current_page")
    if current_page is not None:
        echo["current_page"] = current_page
    criteria.current_page = max(1, current_page or 1)
    criteria.echo = echo
    return criteria


class UnknownField(Exception):
    """A filter or sort names a column the entity does not have (Magento: SQL error, 500)."""


def _comparable(stored: Any, given: Any) -> tuple[Any, Any] | None:
    """Coerce a stored value and a filter value to a pair MySQL would compare."""
    if stored is None:
        return None
    if isinstance(stored, bool):
        stored = int(stored)
    if isinstance(stored, (int, float)):
        try:
            return stored, float(given)
        except (TypeError, ValueError):
            return str(stored).lower(), str(given).lower()
    return str(stored).lower(), str(given).lower()


def _like(pattern: str) -> re.Pattern:
    parts = []
    for char in pattern:
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
    return re.compile("^" + "".join(parts) + "$", re.IGNORECASE | re.DOTALL)


def _matches(stored: Any, condition: str, value: Any) -> bool:
    """One SQL condition on one stored value (NULL never matches except for `null`)."""
    if condition == "null":
        return stored is None
    if condition == "notnull":
        return stored is not None
    if stored is None:
        return False
    if isinstance(stored, list):
        stored = ",".join(str(v) for v in stored)
    if condition in ("in", "nin"):
        wanted = [v.strip() for v in str(value).split(",")] if value is not None else []
        hit = any(_equal(stored, v) for v in wanted)
        return hit if condition == "in" else not hit
    if condition in ("finset", "nfinset"):
        members = [m.strip().lower() for m in str(stored).split(",")]
        hit = str(value).lower() in members
        return hit if condition == "finset" else not hit
    if condition in ("like", "nlike"):
        hit = bool(_like(str(value or "")).match(str(stored)))
        return hit if condition == "like" else not hit
    if condition == "eq":
        return _equal(stored, value)
    if condition == "neq":
        return not _equal(stored, value)
    pair = _comparable(stored, value)
    if pair is None:
        return False
    left, right = pair
    if type(left) is not type(right) and not (
        isinstance(left, (int, float)) and isinstance(right, (int, float))
    ):
        left, right = str(left), str(right)
    if condition == "gt":
        return left > right
    if condition == "lt":
        return left < right
    if condition in ("gteq", "moreq", "from"):
        return left >= right
    if condition in ("lteq", "to"):
        return left <= right
    return False


def _equal(stored: Any, value: Any) -> bool:
    pair = _comparable(stored, value)
    if pair is None:
        return False
    left, right = pair
    return left == right


def check_criteria(criteria: Criteria, known: Callable[[str], bool]) -> None:
    """Raise UnknownField for a filter or sort on a column the entity does not have, or for a
    condition type Magento does not know."""
    for group in criteria.filter_groups:
        for item in group:
            if not item["field"] or not known(item["field"]):
                raise UnknownField(item["field"])
            if item["condition"] not in CONDITION_TYPES:
                raise UnknownField(item["condition"])
    for name, _ascending in criteria.sort_orders:
        if not known(name):
            raise UnknownField(name)


def make_predicate(
    groups: list[list[dict]], value_of: Callable[[Any, str], Any]
) -> Callable[[Any], bool] | None:
    """A function testing one row against all groups (checked by check_criteria), or None when
    there are no filters."""
    checks = [[_matcher(item, value_of) for item in group] for group in groups if group]
    if not checks:
        return None

    def predicate(row: Any) -> bool:
        for group in checks:
            for matches in group:
                if matches(row):
                    break
            else:
                return False
        return True

    return predicate


_COMPARISONS = {
    "eq": operator.eq,
    "neq": operator.ne,
    "gt": operator.gt,
    "gteq": operator.ge,
    "moreq": operator.ge,
    "from": operator.ge,
    "lt": operator.lt,
    "lteq": operator.le,
    "to": operator.le,
}


def _matcher(item: dict, value_of: Callable[[Any, str], Any]) -> Callable[[Any], bool]:
    """One filter as a function of a row; text and numbers, the usual cases, skip _matches."""
    name, condition, value = item["field"], item["condition"], item["value"]
    compare = _COMPARISONS.get(condition)
    if compare is None:
        return lambda row: _matches(value_of(row, name), condition, value)
    text = str(value).lower()
    try:
        number: float | None = float(value)
    except (TypeError, ValueError):
        number = None

    def matches(row: Any) -> bool:
        stored = value_of(row, name)
        kind = type(stored)
        if kind is str:
            return compare(stored.lower(), text)
        if (kind is int or kind is float) and number is not None:
            return compare(stored, number)
        return _matches(stored, condition, value)

    return matches


def sort_rows(
    rows: list, sort_orders: list[tuple[str, bool]], value_of: Callable[[Any, str], Any]
) -> list:
    """Stable multi-key sort; NULLs first ascending like MySQL."""
    for field_name, ascending in reversed(sort_orders):
        rows.sort(key=lambda row, f=field_name: _sort_key(value_of(row, f)), reverse=not ascending)
    return rows


def _sort_key(value: Any) -> tuple:
    if value is None:
        return (0, 0, "")
    if isinstance(value, bool):
        return (1, int(value), "")
    if isinstance(value, (int, float)):
        return (1, value, "")
    return (2, 0, str(value).lower())


def page_bounds(total: int, criteria: Criteria) -> tuple[int, int]:
    """Positions start..stop of the requested page among `total` rows, clamped to the last page
    like Magento's collection does."""
    if criteria.page_size is None:
        return 0, total
    size = criteria.page_size
    last_page = max(1, -(-total // size))
    page = min(criteria.current_page, last_page)
    start = (page - 1) * size
    return start, min(start + size, total)


def page_of(rows: list, criteria: Criteria) -> list:
    """The requested page, clamped to the last page like Magento's collection does."""
    start, stop = page_bounds(len(rows), criteria)
    return rows[start:stop]

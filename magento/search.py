"""Magento searchCriteria: a builder for the query string, and iterators over search results.

Magento's list endpoints (`/V1/customers/search`, `/V1/products`, `/V1/orders`, ...) take a
`searchCriteria` in the query string. Filters inside one filter group are OR-ed; filter groups
are AND-ed. `SearchCriteria` is immutable: every method returns a new criteria, so a base
criteria can be shared and extended safely (the iterators rely on this).

Datetime values: timezone-aware datetimes are converted to UTC and rendered as
"YYYY-MM-DD HH:MM:SS", the format of Magento's `created_at` / `updated_at` columns (which are
UTC). Naive datetimes are refused with a ValueError, because guessing their timezone would
silently shift a poll window by hours.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from .errors import UnexpectedResponseError

__all__ = [
    "CONDITION_TYPES",
    "MAX_PAGE_SIZE",
    "Filter",
    "KeysetPage",
    "KeysetPosition",
    "SearchCriteria",
    "SearchResult",
    "SortOrder",
    "format_magento_time",
    "iter_by_id",
    "iter_keyset",
    "iter_pages",
    "parse_magento_time",
]

# Every condition type Magento's collections understand (DOCS rest/use-rest/performing-searches).
CONDITION_TYPES = frozenset(
    {
        "eq",
        "finset",
        "from",
        "gt",
        "gteq",
        "in",
        "like",
        "lt",
        "lteq",
        "moreq",
        "neq",
        "nfinset",
        "nin",
        "nlike",
        "notnull",
        "null",
        "to",
    }
)
LIST_CONDITIONS = frozenset({"in", "nin"})
VALUELESS_CONDITIONS = frozenset({"null", "notnull"})
DIRECTIONS = frozenset({"ASC", "DESC"})

# Stores on 2.4.7+ with input limits enabled answer 400 above this page size.
MAX_PAGE_SIZE = 300
DEFAULT_PAGE_SIZE = 100

PREFIX = "searchCriteria"

# How Magento writes created_at / updated_at: UTC, to the second, without a zone designator.
MAGENTO_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_MAGENTO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def parse_magento_time(value: object) -> dt.datetime:
    """Read Magento's "YYYY-MM-DD HH:MM:SS" (UTC, the database's value) as an aware datetime.

    Raises ValueError for anything else, so a store answering in another shape is noticed
    instead of shifting a poll window.
    """
    if not isinstance(value, str) or not _MAGENTO_TIME.fullmatch(value):
        raise ValueError(f"not a Magento timestamp ('YYYY-MM-DD HH:MM:SS'): {value!r}")
    # The shape is checked above; fromisoformat reads it a tenth as slowly as strptime (every
    # record of every page is read) and refuses impossible dates and times alike.
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


def format_magento_time(value: dt.datetime) -> str:
    """An aware datetime as Magento writes and compares it (UTC, to the second)."""
    return render_value(value)


def _check_field(name: object, what: str = "field") -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"search {what} must be a non-empty string, got {name!r}")
    if any(ch in name for ch in "[]&=") or name != name.strip():
        raise ValueError(f"search {what} {name!r} contains characters Magento cannot parse")
    return name


def is_int(value: object) -> bool:
    """True for an int that is not a bool (Python counts True and False as ints)."""
    return isinstance(value, int) and not isinstance(value, bool)


def int_from_digits(value: object) -> int | None:
    """The int an ASCII digit string spells ("42" -> 42), else None.

    ASCII only: str.isdigit() is also true for "²" or "٣", which int() refuses or reads
    differently, and an id in a store's answer is never written that way.
    """
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def render_value(value: object) -> str:
    """Render one filter value the way Magento compares it (datetimes as UTC 'Y-m-d H:i:s')."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"search value must be a finite number, got {value!r}")
        # Decimal(repr()) avoids exponent notation such as 1e-05, which MySQL compares as text.
        return format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"search value must be a finite number, got {value!r}")
        return format(value, "f")
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                "naive datetime in a search filter: give a timezone-aware datetime "
                "(Magento stores created_at/updated_at in UTC)"
            )
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    raise ValueError(f"unsupported search value type {type(value).__name__}")


@dataclass(frozen=True)
class Filter:
    """One condition: `field condition_type value`. Validated when built."""

    field: str
    condition_type: str = "eq"
    value: Any = None

    def __post_init__(self) -> None:
        _check_field(self.field)
        if self.condition_type not in CONDITION_TYPES:
            raise ValueError(
                f"unknown condition type {self.condition_type!r}; "
                f"Magento knows: {', '.join(sorted(CONDITION_TYPES))}"
            )
        if self.condition_type in VALUELESS_CONDITIONS:
            if self.value is not None:
                raise ValueError(f"condition {self.condition_type!r} takes no value")
            return
        if self.value is None:
            raise ValueError(
                f"condition {self.condition_type!r} on {self.field!r} needs a value "
                "(use 'null' / 'notnull' to test for missing values)"
            )
        if self.condition_type in LIST_CONDITIONS:
            if not isinstance(self.value, (list, tuple)):
                raise ValueError(
                    f"condition {self.condition_type!r} takes a list or tuple of values, "
                    f"got {type(self.value).__name__}"
                )
            if not self.value:
                raise ValueError(f"condition {self.condition_type!r} needs at least one value")
            for item in self.value:
                if "," in render_value(item):
                    # Magento splits the value on commas; a comma inside one value cannot be sent.
                    raise ValueError(f"{self.condition_type!r} value {item!r} contains a comma")
        elif isinstance(self.value, (list, tuple, set, dict)):
            raise ValueError(f"condition {self.condition_type!r} takes a single value, not a list")
        else:
            render_value(self.value)

    @property
    def rendered_value(self) -> str | None:
        """The value as sent on the wire; None for null/notnull (no value parameter)."""
        if self.condition_type in VALUELESS_CONDITIONS:
            return None
        if self.condition_type in LIST_CONDITIONS:
            return ",".join(render_value(item) for item in self.value)
        return render_value(self.value)


@dataclass(frozen=True)
class SortOrder:
    """Sort by `field` in `direction` ("ASC" or "DESC", case-insensitive)."""

    field: str
    direction: str = "ASC"

    def __post_init__(self) -> None:
        _check_field(self.field, "sort field")
        direction = self.direction.upper() if isinstance(self.direction, str) else self.direction
        if direction not in DIRECTIONS:
            raise ValueError(f"sort direction must be 'ASC' or 'DESC', got {self.direction!r}")
        object.__setattr__(self, "direction", direction)


def _check_page_size(page_size: object) -> None:
    if not is_int(page_size):
        raise ValueError(f"page size must be an int, got {page_size!r}")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(
            f"page size must be between 1 and {MAX_PAGE_SIZE} "
            f"(stores with input limits refuse more), got {page_size}"
        )


def _check_current_page(current_page: object) -> None:
    if not is_int(current_page):
        raise ValueError(f"current page must be an int, got {current_page!r}")
    if current_page < 1:
        raise ValueError(f"current page must be 1 or more, got {current_page}")


def _as_filter(spec: Filter | Sequence[Any]) -> Filter:
    if isinstance(spec, Filter):
        return spec
    if isinstance(spec, (tuple, list)) and len(spec) in (2, 3):
        return Filter(*spec)
    raise ValueError(f"expected a Filter or a (field, condition_type[, value]) tuple, got {spec!r}")


@dataclass(frozen=True)
class SearchCriteria:
    """An immutable searchCriteria; build it with the chaining methods, send `to_query()`."""

    filter_groups: tuple[tuple[Filter, ...], ...] = ()
    sort_orders: tuple[SortOrder, ...] = ()
    page_size: int | None = None
    current_page: int | None = None

    def __post_init__(self) -> None:
        for group in self.filter_groups:
            if not group:
                raise ValueError("a filter group needs at least one filter")
        if self.page_size is not None:
            _check_page_size(self.page_size)
        if self.current_page is not None:
            _check_current_page(self.current_page)

    def where(self, field: str, condition_type: str = "eq", value: Any = None) -> SearchCriteria:
        """AND one condition: a new filter group holding this single filter."""
        return self.where_any(Filter(field, condition_type, value))

    def where_any(self, *filters: Filter | Sequence[Any]) -> SearchCriteria:
        """AND a group whose filters are OR-ed: `where_any(("a", "eq", 1), ("b", "eq", 2))`."""
        if not filters:
            raise ValueError("where_any needs at least one filter")
        group = tuple(_as_filter(spec) for spec in filters)
        return replace(self, filter_groups=(*self.filter_groups, group))

    def between(self, field: str, start: Any, end: Any) -> SearchCriteria:
        """AND `start <= field <= end` (Magento's from/to pair, each in its own group)."""
        return self.where(field, "from", start).where(field, "to", end)

    def sort_by(self, field: str, direction: str = "ASC") -> SearchCriteria:
        """Append a sort order; earlier sort orders take precedence."""
        return replace(self, sort_orders=(*self.sort_orders, SortOrder(field, direction)))

    def with_page_size(self, page_size: int) -> SearchCriteria:
        """Set the page size (1..300)."""
        return replace(self, page_size=page_size)

    def with_current_page(self, current_page: int) -> SearchCriteria:
        """Set the 1-based page number."""
        return replace(self, current_page=current_page)

    def _check_ranges(self) -> None:
        # Magento documents from/to as a pair; a lone one is a half-open range nobody meant.
        counts: dict[str, list[int]] = {}
        for group in self.filter_groups:
            kinds = {(f.field, f.condition_type) for f in group}
            for name in {f.field for f in group}:
                if (name, "from") in kinds and (name, "to") in kinds:
                    raise ValueError(
                        f"'from' and 'to' on {name!r} in one filter group are OR-ed; "
                        "put them in separate groups (use between())"
                    )
            for f in group:
                if f.condition_type in ("from", "to"):
                    pair = counts.setdefault(f.field, [0, 0])
                    pair[0 if f.condition_type == "from" else 1] += 1
        for name, (starts, ends) in counts.items():
            if starts != ends:
                raise ValueError(
                    f"'from' and 'to' on {name!r} must come together "
                    f"(got {starts} from, {ends} to); use between()"
                )

    def to_query(self) -> list[tuple[str, str]]:
        """The query as (key, value) pairs in a fixed order, exactly as Magento parses them."""
        self._check_ranges()
        pairs: list[tuple[str, str]] = []
        for group_index, group in enumerate(self.filter_groups):
            for filter_index, condition in enumerate(group):
                key = f"{PREFIX}[filter_groups][{group_index}][filters][{filter_index}]"
                pairs.append((f"{key}[field]", condition.field))
                value = condition.rendered_value
                if value is not None:
                    pairs.append((f"{key}[value]", value))
                pairs.append((f"{key}[condition_type]", condition.condition_type))
        for sort_index, order in enumerate(self.sort_orders):
            key = f"{PREFIX}[sortOrders][{sort_index}]"
            pairs.append((f"{key}[field]", order.field))
            pairs.append((f"{key}[direction]", order.direction))
        if self.page_size is not None:
            pairs.append((f"{PREFIX}[pageSize]", str(self.page_size)))
        if self.current_page is not None:
            pairs.append((f"{PREFIX}[currentPage]", str(self.current_page)))
        if not pairs:
            # searchCriteria is a required parameter: an empty one is sent as the neutral page 1.
            pairs.append((f"{PREFIX}[currentPage]", "1"))
        return pairs


@dataclass(frozen=True)
class SearchResult:
    """One page of a search: the item dicts as Magento sent them, plus the envelope."""

    items: list[dict[str, Any]]
    total_count: int | None
    search_criteria: dict[str, Any] = field(default_factory=dict)
    # The JSON text the store sent for each item, in the order of `items`, when it was kept
    # (magento.jsontext); decoding item_texts[i] gives items[i].
    item_texts: list[str] | None = None

    @classmethod
    def from_response(cls, body: object, item_texts: list[str] | None = None) -> SearchResult:
        """Read Magento's `{items, search_criteria, total_count}` envelope.

        `total_count` is None when the response was trimmed with `fields=` and left it out.
        Raises ValueError when the body is not a search envelope (callers map it to their error).
        `item_texts` (one per item, else dropped) are the items' JSON texts as sent.
        """
        if not isinstance(body, Mapping):
            raise ValueError(f"search response is a {type(body).__name__}, not an object")
        items = body.get("items")
        if items is None:
            items = []  # Magento sends "items": null on some stores when nothing matched.
        if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
            raise ValueError("search response 'items' is not a list of objects")
        total_count = body.get("total_count")
        if total_count is not None and not is_int(total_count):
            raise ValueError(f"search response 'total_count' is not an integer: {total_count!r}")
        criteria = body.get("search_criteria") or {}
        if not isinstance(criteria, Mapping):
            raise ValueError("search response 'search_criteria' is not an object")
        if item_texts is not None and len(item_texts) != len(items):
            item_texts = None
        return cls(
            items=list(items),
            total_count=total_count,
            search_criteria=dict(criteria),
            item_texts=item_texts,
        )


SearchFunction = Callable[[SearchCriteria], SearchResult]


def _read_id(item: Mapping[str, Any], id_key: str) -> int:
    raw = item.get(id_key)
    if is_int(raw):
        return raw
    if int_from_digits(raw) is not None:
        return int(raw)
    # The store's answer, not the caller, is at fault here.
    raise UnexpectedResponseError(
        f"A search result from the store has no integer {id_key!r} (got {raw!r})."
    )


def iter_by_id(
    search: SearchFunction,
    criteria: SearchCriteria | None = None,
    *,
    id_field: str = "entity_id",
    id_key: str = "id",
    after_id: int = 0,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Iterator[dict[str, Any]]:
    """Yield every matching item in ascending id order, walking by id instead of page number.

    Each request asks for `id_field > last id seen`, sorted by `id_field` ASC, page 1, so a
    store that repeats its last page for out-of-range pages cannot loop us. `id_field` is the
    name used in filters and sorting, `id_key` the key read from each item: customers are
    filtered on "entity_id" but carry "id"; orders use "entity_id" for both; products filter on
    "entity_id" and carry "id". `criteria` may add filters but no sort orders or paging.
    Stops on a short page, an empty page, or a page with no id above the last one.
    """
    criteria = criteria or SearchCriteria()
    if criteria.sort_orders or criteria.page_size is not None or criteria.current_page is not None:
        raise ValueError("iter_by_id sets sorting and paging itself; give filters only")
    _check_field(id_field, "id field")
    _check_page_size(page_size)
    if not is_int(after_id) or after_id < 0:
        raise ValueError(f"after_id must be a non-negative int, got {after_id!r}")
    last_id = after_id
    while True:
        page_criteria = (
            criteria.where(id_field, "gt", last_id)
            .sort_by(id_field, "ASC")
            .with_page_size(page_size)
            .with_current_page(1)
        )
        items = search(page_criteria).items
        fresh: list[tuple[int, dict[str, Any]]] = []
        seen_on_page: set[int] = set()
        for item in items:
            item_id = _read_id(item, id_key)
            # Defensive: a store that ignored the filter must not make us yield an id twice.
            if item_id > last_id and item_id not in seen_on_page:
                seen_on_page.add(item_id)
                fresh.append((item_id, item))
        fresh.sort(key=lambda pair: pair[0])
        for _, item in fresh:
            yield item
        if not fresh or len(items) < page_size:
            return
        last_id = fresh[-1][0]


def iter_pages(
    search: SearchFunction,
    criteria: SearchCriteria | None = None,
    *,
    id_field: str = "entity_id",
    id_key: str = "id",
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Iterator[dict[str, Any]]:
    """Yield every matching item by asking for pages 1, 2, ... of `criteria`.

    The sort order is made stable by appending `id_field` ASC unless it is already the last
    sort order (rows with equal sort keys otherwise move between pages). Stops when
    `total_count` is reached, on an empty or short page, or when a page brings no id not seen
    before (a store that repeats its last page past the end); items already yielded are never
    yielded again. Use `iter_by_id` when the order does not matter: it is cheaper and safer.
    """
    criteria = criteria or SearchCriteria()
    if criteria.page_size is not None or criteria.current_page is not None:
        raise ValueError("iter_pages sets paging itself; give filters and sort orders only")
    _check_field(id_field, "id field")
    _check_page_size(page_size)
    if not criteria.sort_orders or criteria.sort_orders[-1].field != id_field:
        criteria = criteria.sort_by(id_field, "ASC")
    criteria = criteria.with_page_size(page_size)
    seen: set[int] = set()
    current_page = 1
    while True:
        result = search(criteria.with_current_page(current_page))
        fresh = 0
        for item in result.items:
            item_id = _read_id(item, id_key)
            if item_id in seen:
                continue
            seen.add(item_id)
            fresh += 1
            yield item
        if fresh == 0 or len(result.items) < page_size:
            return
        if result.total_count is not None and current_page * page_size >= result.total_count:
            return
        current_page += 1


@dataclass(frozen=True, order=True)
class KeysetPosition:
    """A place in a walk by (timestamp, id): the last record read, in the store's UTC."""

    timestamp: dt.datetime
    entity_id: int


@dataclass(frozen=True)
class KeysetPage:
    """One page of a keyset walk.

    `records` are (position, item) pairs after the walk's previous position, in walk order;
    `position` is where the walk now stands (None while nothing has been read); `remaining` is
    how many matching records the store counted after this page (None if it did not say);
    `more` is True when the page was full, so another request may find more.
    `record_texts`, when the search kept them, are the JSON texts the store sent for the
    records, in the order of `records` (decoding one gives its record's item).
    """

    records: list[tuple[KeysetPosition, dict[str, Any]]]
    position: KeysetPosition | None
    remaining: int | None
    more: bool
    fetched: int
    record_texts: list[str] | None = None


def keyset_criteria(
    criteria: SearchCriteria,
    *,
    timestamp_field: str,
    id_field: str,
    after: KeysetPosition | None,
    since: dt.datetime | None,
    page_size: int,
) -> SearchCriteria:
    """Page 1 of "records after `after`" (or "from `since` on"), oldest first.

    After (t, k) means `ts > t OR (ts = t AND id > k)`; searchCriteria cannot nest AND inside
    OR, so it is sent as two AND-ed groups: `ts >= t`, and `ts > t OR id > k`.
    """
    if after is not None:
        criteria = criteria.where(timestamp_field, "gteq", after.timestamp).where_any(
            (timestamp_field, "gt", after.timestamp), (id_field, "gt", after.entity_id)
        )
    elif since is not None:
        criteria = criteria.where(timestamp_field, "gteq", since)
    return (
        criteria.sort_by(timestamp_field, "ASC")
        .sort_by(id_field, "ASC")
        .with_page_size(page_size)
        .with_current_page(1)
    )


def iter_keyset(
    search: SearchFunction,
    criteria: SearchCriteria | None = None,
    *,
    timestamp_field: str,
    id_field: str = "entity_id",
    id_key: str = "id",
    after: KeysetPosition | None = None,
    since: dt.datetime | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Iterator[KeysetPage]:
    """Walk the matches oldest first by (`timestamp_field`, id), one page per request.

    Every request asks for page 1 of what comes after the last record read, so neither rows
    added or changed while walking, nor a store that repeats its last page for pages past the
    end, nor rows sharing one second can make the walk skip or repeat a record. The timestamp
    key of each item must be `timestamp_field`. Start `after` a position, or `since` a time
    (inclusive), or at the beginning. Pages are yielded lazily: nothing is requested until the
    previous page has been handled. Stops after a short page, or a page that brings nothing
    after the last position (a store that ignored the filter).
    """
    criteria = criteria or SearchCriteria()
    if criteria.sort_orders or criteria.page_size is not None or criteria.current_page is not None:
        raise ValueError("iter_keyset sets sorting and paging itself; give filters only")
    _check_field(timestamp_field, "timestamp field")
    _check_field(id_field, "id field")
    _check_page_size(page_size)
    if after is not None and not isinstance(after, KeysetPosition):
        raise ValueError(f"after must be a KeysetPosition, got {after!r}")
    if since is not None:
        render_value(since)  # refuses naive datetimes
    position = after
    while True:
        page_criteria = keyset_criteria(
            criteria,
            timestamp_field=timestamp_field,
            id_field=id_field,
            after=position,
            since=since,
            page_size=page_size,
        )
        result = search(page_criteria)
        texts = result.item_texts
        fresh: dict[int, tuple[KeysetPosition, dict[str, Any], int]] = {}
        for number, item in enumerate(result.items):
            item_position = KeysetPosition(
                _read_time(item, timestamp_field), _read_id(item, id_key)
            )
            # Defensive: a store that ignored the filter must not make us go back or repeat.
            if position is None or item_position > position:
                fresh[item_position.entity_id] = (item_position, item, number)
        kept = sorted(fresh.values(), key=lambda triple: triple[0])
        records = [(item_position, item) for item_position, item, _ in kept]
        record_texts = [texts[number] for _, _, number in kept] if texts is not None else None
        if records:
            position = records[-1][0]
        remaining = None
        if result.total_count is not None:
            remaining = max(0, result.total_count - len(result.items))
        more = bool(records) and len(result.items) >= page_size
        yield KeysetPage(
            records=records,
            position=position,
            remaining=remaining if more else 0,
            more=more,
            fetched=len(result.items),
            record_texts=record_texts,
        )
        if not more:
            return


def _read_time(item: Mapping[str, Any], key: str) -> dt.datetime:
    try:
        return parse_magento_time(item.get(key))
    except ValueError:
        raise UnexpectedResponseError(
            f"A search result from the store has no readable {key!r} "
            f"(got {item.get(key)!r}; expected 'YYYY-MM-DD HH:MM:SS')."
        ) from None

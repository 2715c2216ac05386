"""One entity kind of the sandbox store: rows by id, sorted indexes, and searches that use them.

Three sorted indexes are kept right on every save: ids, (updated_at, id) and (created_at, id).
Range filters (gt, gteq, lt, lteq, from, to, eq) on the id or on a date become bisects on an
index, so the portal's polling queries ("entity_id > last seen" and "updated_at >= last poll",
sorted by id or by date) cost about one page of work however many rows the store holds.
The answer is always the one a full scan gives: rows taken in id order, filtered, then sorted
stably, so rows that tie on every sort field come back by ascending id.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter
from typing import Any

from .search import Criteria, check_criteria, make_predicate, page_bounds, sort_rows

DATE_FIELDS = ("updated_at", "created_at")
# Conditions an index can answer, by the bound they set.
_RANGE_CONDITIONS = {
    "gt": "gt",
    "gteq": "gteq",
    "moreq": "gteq",
    "from": "gteq",
    "lt": "lt",
    "lteq": "lteq",
    "to": "lteq",
    "eq": "eq",
}
_BELOW_ANY_ID = float("-inf")
_ABOVE_ANY_ID = float("inf")
# Take a page with a heap instead of sorting everything when it is this small a share of rows.
_HEAP_SHARE = 8
_first = itemgetter(0)
_second = itemgetter(1)


def stable_hash(entity_id: int) -> int:
    """Row order for searches without sort orders: stable, but clearly not by id."""
    return (entity_id * 2654435761) & 0xFFFFFFFF


def date_key(value: Any) -> str:
    """The index key of a stored date: lower case, as the search compares strings."""
    if not isinstance(value, str):
        raise TypeError(f"dates are stored as 'YYYY-MM-DD HH:MM:SS' text, not {value!r}")
    return value.lower()


@dataclass(frozen=True)
class _Span:
    """Positions lo..hi (hi excluded) of one index: "id", "updated_at" or "created_at"."""

    index: str
    lo: int
    hi: int

    @property
    def size(self) -> int:
        return max(0, self.hi - self.lo)


@dataclass
class Table:
    """Rows by id plus sorted indexes: ids, (updated_at, id), (created_at, id) and ids by hash."""

    rows: dict[int, dict] = field(default_factory=dict)
    ids: list[int] = field(default_factory=list)
    by_updated: list[tuple[str, int]] = field(default_factory=list)
    by_created: list[tuple[str, int]] = field(default_factory=list)
    by_hash: list[int] = field(default_factory=list)  # ids in the order of unsorted searches
    next_id: int = 1

    # ------------------------------------------------------------ saving

    def add(self, row_id: int, row: dict) -> None:
        """Store a new row and put it in every index."""
        self.rows[row_id] = row
        if not self.ids or row_id > self.ids[-1]:
            self.ids.append(row_id)
        else:
            bisect.insort(self.ids, row_id)
        bisect.insort(self.by_updated, (date_key(row["updated_at"]), row_id))
        bisect.insort(self.by_created, (date_key(row["created_at"]), row_id))
        bisect.insort(self.by_hash, row_id, key=stable_hash)
        self.next_id = max(self.next_id, row_id + 1)

    def add_many(self, row_ids: list[int]) -> None:
        """Index rows already placed in `rows` (seeding): one sort instead of many inserts."""
        self.ids.extend(row_ids)
        self.ids.sort()
        for row_id in row_ids:
            row = self.rows[row_id]
            self.by_updated.append((date_key(row["updated_at"]), row_id))
            self.by_created.append((date_key(row["created_at"]), row_id))
        self.by_updated.sort()
        self.by_created.sort()
        self.by_hash.extend(row_ids)
        self.by_hash.sort(key=stable_hash)
        if row_ids:
            self.next_id = max(self.next_id, max(row_ids) + 1)

    def remove(self, row_id: int, row: dict) -> None:
        """Take a row out of every index (it stays in `rows`, so GET by id still finds it)."""
        self.ids.remove(row_id)
        self.by_updated.remove((date_key(row["updated_at"]), row_id))
        self.by_created.remove((date_key(row["created_at"]), row_id))
        self.by_hash.remove(row_id)

    def touch(self, row_id: int, old_updated: str, new_updated: str) -> None:
        """Move a saved row to its new place in the updated_at order."""
        old_key = (date_key(old_updated), row_id)
        position = bisect.bisect_left(self.by_updated, old_key)
        if position == len(self.by_updated) or self.by_updated[position] != old_key:
            # A row missing from the index would silently drop out of polling: fail loudly.
            raise LookupError(f"row {row_id} is not in the updated_at index at {old_updated}")
        del self.by_updated[position]
        bisect.insort(self.by_updated, (date_key(new_updated), row_id))

    def date_index(self, name: str) -> list[tuple[str, int]]:
        """The (date, id) index of "updated_at" or "created_at"."""
        return self.by_updated if name == "updated_at" else self.by_created

    # ---------------------------------------------------------- searching

    def search(
        self,
        criteria: Criteria,
        *,
        id_field: str,
        value_of: Callable[[dict, str], Any],
        known: Callable[[str], bool],
    ) -> tuple[list[int], int]:
        """Ids on the requested page and the total count, as a full scan would give them.

        Raises UnknownField for a filter or sort on a column the entity does not have.
        """
        check_criteria(criteria, known)
        groups = [group for group in criteria.filter_groups if group]

        # Single-filter groups on one index are AND-ed: intersect them into one span.
        spans: dict[str, _Span] = {}
        unions: list[list[_Span]] = []
        scanned: list[list[dict]] = []
        for group in groups:
            found = [self._span(item, id_field) for item in group]
            if any(span is None for span in found):
                scanned.append(group)
            elif len(found) == 1:
                span = found[0]
                if span.index in spans:
                    other = spans[span.index]
                    span = _Span(span.index, max(span.lo, other.lo), min(span.hi, other.hi))
                spans[span.index] = span
            else:
                unions.append(found)
        narrowing: list[_Span | list[_Span]] = [*spans.values(), *unions]
        narrowing.sort(key=_size)

        ids: list[int] = self.ids
        pairs: list[tuple[str, int]] | None = None  # set when rows are in a date order
        pairs_field = ""
        if narrowing:
            driver = narrowing.pop(0)
            if isinstance(driver, list):
                ids = sorted(self._union(driver))
            elif driver.index == "id":
                ids = self.ids[driver.lo : driver.hi]
            else:
                pairs = self.date_index(driver.index)[driver.lo : driver.hi]
                pairs_field = driver.index
        for constraint in narrowing:
            member, wanted = self._membership(constraint)
            if pairs is not None:
                pairs = [p for p in pairs if member(p[1]) is wanted]
            else:
                ids = [i for i in ids if member(i) is wanted]
        predicate = make_predicate(scanned, value_of)
        if predicate is not None:
            rows = self.rows
            if pairs is not None:
                pairs = [p for p in pairs if predicate(rows[p[1]])]
            else:
                ids = [i for i in ids if predicate(rows[i])]
        total = len(pairs) if pairs is not None else len(ids)
        start, stop = page_bounds(total, criteria)
        if start >= stop:
            return [], total
        page = self._ordered_page(
            ids, pairs, pairs_field, criteria, id_field, value_of, start, stop
        )
        return page, total

    def _span(self, item: dict, id_field: str) -> _Span | None:
        """The index positions one filter selects, or None when no index can answer it."""
        condition = _RANGE_CONDITIONS.get(item["condition"])
        if condition is None:
            return None
        name, value = item["field"], item["value"]
        keys: list
        if name == id_field:
            try:
                number = float(value)
            except (TypeError, ValueError):
                return None  # compared as text by the search: leave it to the scan
            if number != number:
                return None
            keys, low, high, index = self.ids, number, number, "id"
        elif name in DATE_FIELDS and isinstance(value, str):
            key = value.lower()
            keys, index = self.date_index(name), name
            low, high = (key, _BELOW_ANY_ID), (key, _ABOVE_ANY_ID)
        else:
            return None
        lo, hi = 0, len(keys)
        if condition == "gt":
            lo = bisect.bisect_right(keys, high)
        elif condition == "gteq":
            lo = bisect.bisect_left(keys, low)
        elif condition == "lt":
            hi = bisect.bisect_left(keys, low)
        elif condition == "lteq":
            hi = bisect.bisect_right(keys, high)
        else:
            lo, hi = bisect.bisect_left(keys, low), bisect.bisect_right(keys, high)
        return _Span(index, lo, hi)

    def _span_ids(self, span: _Span) -> list[int] | map:
        if span.index == "id":
            return self.ids[span.lo : span.hi]
        return map(_second, self.date_index(span.index)[span.lo : span.hi])

    def _union(self, spans: list[_Span]) -> set[int]:
        found: set[int] = set()
        for span in spans:
            found.update(self._span_ids(span))
        return found

    def _membership(self, constraint: _Span | list[_Span]) -> tuple[Callable[[int], bool], bool]:
        """A fast id test for a further span or union: (test, the answer that keeps a row)."""
        if isinstance(constraint, list):
            return self._union(constraint).__contains__, True
        if constraint.size == 0:
            return set().__contains__, True
        if constraint.index == "id":
            first, last = self.ids[constraint.lo], self.ids[constraint.hi - 1]
            return range(first, last + 1).__contains__, True
        index = self.date_index(constraint.index)
        if constraint.size * 2 <= len(index):
            inside = set(map(_second, index[constraint.lo : constraint.hi]))
            return inside.__contains__, True
        # Most rows qualify: the smaller set is the rows outside the span.
        outside = set(map(_second, index[: constraint.lo]))
        outside.update(map(_second, index[constraint.hi :]))
        return outside.__contains__, False

    def _ordered_page(
        self, ids, pairs, pairs_field, criteria, id_field, value_of, start, stop
    ) -> list[int]:
        """Sort the matching rows as the criteria ask and cut out rows start..stop."""
        sort_orders = []
        seen = set()
        for name, ascending in criteria.sort_orders:
            if name in seen:
                continue  # a repeated field cannot reorder rows that already tie on it
            seen.add(name)
            sort_orders.append((name, ascending))
            if name == id_field:
                break  # ids are unique: later sort fields never matter
        if not sort_orders:
            if pairs is not None:
                ids = list(map(_second, pairs))
            return self._unsorted_page(ids, start, stop)
        first_field, ascending = sort_orders[0]
        if first_field == id_field:
            if pairs is not None:
                ids = list(map(_second, pairs))
            return _id_ordered_page(ids, ascending, start, stop, in_id_order=pairs is None)
        if first_field in DATE_FIELDS and all(name == id_field for name, _ in sort_orders[1:]):
            ties_ascending = sort_orders[1][1] if len(sort_orders) > 1 else True
            in_order = True
            if pairs_field != first_field:
                if pairs is not None:
                    ids = sorted(map(_second, pairs))
                pairs, in_order = self._date_pairs(ids, first_field)
            if in_order and ascending and ties_ascending:
                ordered = pairs
            elif in_order and not ascending and not ties_ascending:
                ordered = pairs[::-1]
            else:
                ordered = sorted(pairs, key=_second, reverse=not ties_ascending)
                ordered.sort(key=_first, reverse=not ascending)
            return [row_id for _, row_id in ordered[start:stop]]
        if pairs is not None:
            ids = sorted(map(_second, pairs))
        rows = [self.rows[row_id] for row_id in ids]
        sort_rows(rows, sort_orders, value_of)
        return [row[id_field] for row in rows[start:stop]]

    def _unsorted_page(self, ids: list[int], start: int, stop: int) -> list[int]:
        """Rows start..stop in the no-sort-orders order (by stable_hash)."""
        if len(ids) == len(self.by_hash):
            return self.by_hash[start:stop]
        if len(ids) * 4 >= len(self.by_hash):
            wanted = set(ids)
            return list(islice((i for i in self.by_hash if i in wanted), start, stop))
        return sorted(ids, key=stable_hash)[start:stop]

    def _date_pairs(self, ids: list[int], name: str) -> tuple[list[tuple[str, int]], bool]:
        """(date, id) pairs of the given rows, and whether they are in date order already."""
        index = self.date_index(name)
        if len(ids) == len(index):
            return index, True
        if len(ids) * 4 >= len(index):
            wanted = set(ids)
            return [p for p in index if p[1] in wanted], True
        rows = self.rows
        return [(date_key(rows[row_id][name]), row_id) for row_id in ids], False


def _size(constraint: _Span | list[_Span]) -> int:
    if isinstance(constraint, list):
        return sum(span.size for span in constraint)
    return constraint.size


def _id_ordered_page(
    ids: list[int], ascending: bool, start: int, stop: int, *, in_id_order: bool
) -> list[int]:
    """Rows start..stop by id; a short first page comes from a heap, not a full sort."""
    if in_id_order:
        if ascending:
            return ids[start:stop]
        total = len(ids)
        return ids[total - stop : total - start][::-1]
    if stop * _HEAP_SHARE <= len(ids):
        pick = heapq.nsmallest if ascending else heapq.nlargest
        return pick(stop, ids)[start:]
    return sorted(ids, reverse=not ascending)[start:stop]

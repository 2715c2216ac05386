"""What the history lists (trigger events, action runs) share: fast on big tables, CSV export.

Django's change list counts every row of the filtered list on every page, and its date
hierarchy aggregates over all of them; on a million runs both take longer than the page
itself. Here the paginator counts only up to the page after the one shown ("more than N"),
the date hierarchy looks up two rows through the date index, and the filters offer the
registry's choices instead of a SELECT DISTINCT over the table. Every query is bounded by a
LIMIT on an index, so a page costs the same queries at a thousand rows as at a million.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import PAGE_VAR, ChangeList
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed, StreamingHttpResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.text import capfirst

EXECUTE_PERMISSION = "automations.execute_action"
CSV_CHUNK = 2000
# A spreadsheet would run a cell starting with one of these as a formula (values come from
# the store: a customer can choose their name).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class CappedCountPaginator(Paginator):
    """Counts the rows only up to one page beyond the page shown, never the whole table, and
    walks the list once for both the count and the page.

    The count reads the ids of the first rows, up to the cap (`LIMIT n`); the page then loads
    its rows by those ids. With a filter that most rows fail (the event list's run status), a
    walk is the whole cost of a page: a bounded COUNT and then the page's own query walked the
    newest rows twice (`make bench`).
    """

    def __init__(self, object_list, per_page, *, page_number: int = 1, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = (max(1, page_number) + 1) * per_page + 1

    @cached_property
    def first_ids(self) -> list[Any]:
        """The ids of the list's first rows, in its order, up to the cap."""
        return list(self.object_list.values_list("pk", flat=True)[: self.cap])

    @cached_property
    def count(self) -> int:
        return len(self.first_ids)

    def rows(self, bottom: int, top: int):
        """Rows bottom..top of the list (within the cap), loaded by id in the list's order."""
        return self.object_list.filter(pk__in=self.first_ids[bottom:top])

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        # The cap reaches past the page asked for, so its ids were all read.
        return self._get_page(self.rows(bottom, top), number, self)

    @property
    def capped(self) -> bool:
        """True when there are more rows than were counted."""
        return self.count >= self.cap


class HistoryChangeList(ChangeList):
    """The change list with "newer / older" links instead of a page number for every page."""

    def get_results(self, request):
        super().get_results(request)
        if isinstance(self.paginator, CappedCountPaginator) and not self.multi_page:
            # One page holds them all: load it by the ids the count read, not by walking the
            # list again (the change list would take the whole queryset).
            self.result_list = self.paginator.rows(0, self.paginator.count)
        self.count_capped = getattr(self.paginator, "capped", False)
        self.counted_at_least = self.result_count - 1 if self.count_capped else self.result_count
        self.newer_url = (
            self.get_query_string({PAGE_VAR: self.page_num - 1}) if self.page_num > 1 else ""
        )
        self.older_url = (
            self.get_query_string({PAGE_VAR: self.page_num + 1})
            if self.page_num < self.paginator.num_pages
            else ""
        )


class ChoicesFilter(admin.SimpleListFilter):
    """A filter whose choices come from a registry (actions, triggers), not from the table."""

    field_name = ""
    choices_from: Callable[[], Iterable[tuple[str, str]]] = staticmethod(list)

    def lookups(self, request, model_admin):
        return list(type(self).choices_from())

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{self.field_name: self.value()})
        return queryset


class HistoryAdmin(admin.ModelAdmin):
    """Read-only, fast on big tables, with a CSV export of the list as filtered."""

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    # "Show all" would load the whole filtered table.
    list_max_show_all = 50
    csv_columns: tuple[tuple[str, str], ...] = ()
    csv_name = "history"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_execute_permission(self, request) -> bool:
        return request.user.has_perm(EXECUTE_PERMISSION)

    def get_changelist(self, request, **kwargs):
        return HistoryChangeList

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        try:
            page_number = int(request.GET.get(PAGE_VAR, 1))
        except ValueError:
            page_number = 1
        return CappedCountPaginator(
            queryset,
            per_page,
            page_number=page_number,
            orphans=orphans,
            allow_empty_first_page=allow_empty_first_page,
        )

    # -- CSV --------------------------------------------------------------------------------

    @admin.action(description="Export the selected rows as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        return self.csv_response(queryset)

    def export_view(self, request):
        """The list as it is filtered and searched now, as CSV (the "Export CSV" link)."""
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        return self.csv_response(changelist.queryset)

    def csv_response(self, queryset) -> StreamingHttpResponse:
        names = [name for name, _ in self.csv_columns]
        header = [label for _, label in self.csv_columns]
        rows = queryset.values_list(*names).iterator(chunk_size=CSV_CHUNK)
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{self.csv_name}-{stamp}.csv"'
        return response


class _Line:
    """A file-like object whose write returns the line (csv.writer into a generator)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: list[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """CSV lines, one row at a time (memory stays flat however long the list)."""
    writer = csv.writer(_Line())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


# -- the date hierarchy ----------------------------------------------------------------------


def date_hierarchy_choices(cl) -> dict[str, Any]:
    """Django's date hierarchy, built from the first and last row (two index lookups) and the
    calendar, instead of listing every distinct day of the filtered table."""
    field_name = cl.date_hierarchy
    year_field, month_field, day_field = (
        f"{field_name}__{part}" for part in ("year", "month", "day")
    )
    year, month, day = (cl.params.get(name) for name in (year_field, month_field, day_field))

    def link(filters):
        return cl.get_query_string(filters, [f"{field_name}__"])

    if not (year or month or day):
        first = cl.queryset.order_by(field_name).values_list(field_name, flat=True).first()
        last = cl.queryset.order_by(f"-{field_name}").values_list(field_name, flat=True).first()
        if first is None or last is None:
            return {"show": False}
        first, last = timezone.localtime(first), timezone.localtime(last)
        if first.year != last.year:
            return {
                "show": True,
                "choices": [
                    {"link": link({year_field: str(y)}), "title": str(y)}
                    for y in range(first.year, last.year + 1)
                ],
            }
        year = str(first.year)
        if first.month == last.month:
            month = str(first.month)
    if not year:
        return {"show": False}
    year_number = int(year)
    if month and day:
        chosen = dt.date(year_number, int(month), int(day))
        return {
            "show": True,
            "back": {
                "link": link({year_field: year, month_field: month}),
                "title": capfirst(date_format(chosen, "YEAR_MONTH_FORMAT")),
            },
            "choices": [{"title": capfirst(date_format(chosen, "MONTH_DAY_FORMAT"))}],
        }
    today = timezone.localdate()
    if month:
        month_number = int(month)
        last_day = calendar.monthrange(year_number, month_number)[1]
        if (year_number, month_number) == (today.year, today.month):
            last_day = today.day
        days = [dt.date(year_number, month_number, d) for d in range(1, last_day + 1)]
        return {
            "show": True,
            "back": {"link": link({year_field: year}), "title": year},
            "choices": [
                {
                    "link": link({year_field: year, month_field: month, day_field: str(d.day)}),
                    "title": capfirst(date_format(d, "MONTH_DAY_FORMAT")),
                }
                for d in days
            ],
        }
    last_month = today.month if year_number == today.year else 12
    return {
        "show": True,
        "back": {"link": link({}), "title": "All dates"},
        "choices": [
            {
                "link": link({year_field: year, month_field: str(m)}),
                "title": capfirst(date_format(dt.date(year_number, m, 1), "YEAR_MONTH_FORMAT")),
            }
            for m in range(1, last_month + 1)
        ],
    }


def pretty_json(value: Any) -> str:
    """JSON as people read it: indented, accents as they are."""
    if value is None or value == "":
        return ""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)

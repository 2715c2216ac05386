"""searchCriteria query strings and the keyset / page iterators."""

import datetime as dt
from decimal import Decimal

import pytest

from magento import UnexpectedResponseError
from magento.search import (
    CONDITION_TYPES,
    MAX_PAGE_SIZE,
    Filter,
    SearchCriteria,
    SearchResult,
    SortOrder,
    iter_by_id,
    iter_pages,
)
from tests.shared_data import load_sample

F = "searchCriteria[filter_groups]"


def test_single_filter_renders_field_value_condition_in_order():
    query = SearchCriteria().where("email", "eq", "jdoe@example.com").to_query()
    assert query == [
        (f"{F}[0][filters][0][field]", "email"),
        (f"{F}[0][filters][0][value]", "jdoe@example.com"),
        (f"{F}[0][filters][0][condition_type]", "eq"),
    ]


def test_condition_defaults_to_eq():
    assert SearchCriteria().where("status", value="pending").to_query()[-1] == (
        f"{F}[0][filters][0][condition_type]",
        "eq",
    )


def test_groups_are_and_filters_inside_a_group_are_or():
    criteria = (
        SearchCriteria()
        .where_any(("firstname", "like", "%ver%"), ("lastname", "like", "%cost%"))
        .where("website_id", "eq", 1)
    )
    assert criteria.to_query() == [
        (f"{F}[0][filters][0][field]", "firstname"),
        (f"{F}[0][filters][0][value]", "%ver%"),
        (f"{F}[0][filters][0][condition_type]", "like"),
        (f"{F}[0][filters][1][field]", "lastname"),
        (f"{F}[0][filters][1][value]", "%cost%"),
        (f"{F}[0][filters][1][condition_type]", "like"),
        (f"{F}[1][filters][0][field]", "website_id"),
        (f"{F}[1][filters][0][value]", "1"),
        (f"{F}[1][filters][0][condition_type]", "eq"),
    ]


def test_sorting_and_paging_follow_filters():
    criteria = (
        SearchCriteria()
        .where("status", "eq", "pending")
        .sort_by("created_at", "desc")
        .sort_by("entity_id")
        .with_page_size(50)
        .with_current_page(3)
    )
    assert criteria.to_query()[3:] == [
        ("searchCriteria[sortOrders][0][field]", "created_at"),
        ("searchCriteria[sortOrders][0][direction]", "DESC"),
        ("searchCriteria[sortOrders][1][field]", "entity_id"),
        ("searchCriteria[sortOrders][1][direction]", "ASC"),
        ("searchCriteria[pageSize]", "50"),
        ("searchCriteria[currentPage]", "3"),
    ]


def test_builder_is_immutable():
    base = SearchCriteria().where("status", "eq", "pending")
    narrowed = base.where("store_id", "eq", 1).with_page_size(10)
    assert len(base.filter_groups) == 1
    assert base.page_size is None
    assert len(narrowed.filter_groups) == 2


def test_empty_criteria_still_sends_a_search_criteria():
    assert SearchCriteria().to_query() == [("searchCriteria[currentPage]", "1")]


@pytest.mark.parametrize(
    ("condition", "value", "wire_value"),
    [
        ("eq", "pending", "pending"),
        ("finset", 5, "5"),
        ("gt", 10, "10"),
        ("gteq", 10, "10"),
        ("in", [1, 2, 3], "1,2,3"),
        ("like", "%tee%", "%tee%"),
        ("lt", 2.5, "2.5"),
        ("lteq", Decimal("19.90"), "19.90"),
        ("moreq", 3, "3"),
        ("neq", "canceled", "canceled"),
        ("nfinset", 7, "7"),
        ("nin", ("canceled", "closed"), "canceled,closed"),
        ("nlike", "%test%", "%test%"),
    ],
)
def test_every_valued_condition_type(condition, value, wire_value):
    assert SearchCriteria().where("x", condition, value).to_query() == [
        (f"{F}[0][filters][0][field]", "x"),
        (f"{F}[0][filters][0][value]", wire_value),
        (f"{F}[0][filters][0][condition_type]", condition),
    ]


@pytest.mark.parametrize("condition", ["null", "notnull"])
def test_null_conditions_send_no_value(condition):
    assert SearchCriteria().where("special_price", condition).to_query() == [
        (f"{F}[0][filters][0][field]", "special_price"),
        (f"{F}[0][filters][0][condition_type]", condition),
    ]


def test_from_to_are_separate_and_groups():
    start = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    end = dt.datetime(2024, 5, 31, 23, 59, 59, tzinfo=dt.UTC)
    assert SearchCriteria().between("created_at", start, end).to_query() == [
        (f"{F}[0][filters][0][field]", "created_at"),
        (f"{F}[0][filters][0][value]", "2024-05-01 00:00:00"),
        (f"{F}[0][filters][0][condition_type]", "from"),
        (f"{F}[1][filters][0][field]", "created_at"),
        (f"{F}[1][filters][0][value]", "2024-05-31 23:59:59"),
        (f"{F}[1][filters][0][condition_type]", "to"),
    ]


def test_every_magento_condition_type_is_covered():
    covered = {
        "eq", "finset", "gt", "gteq", "in", "like", "lt", "lteq", "moreq", "neq",
        "nfinset", "nin", "nlike", "null", "notnull", "from", "to",
    }  # fmt: skip
    assert covered == CONDITION_TYPES


@pytest.mark.parametrize("condition", ["from", "to"])
def test_lone_from_or_to_is_refused(condition):
    criteria = SearchCriteria().where("created_at", condition, "2024-01-01 00:00:00")
    with pytest.raises(ValueError, match="must come together"):
        criteria.to_query()


def test_from_and_to_in_one_or_group_is_refused():
    criteria = SearchCriteria().where_any(
        ("created_at", "from", "2024-01-01 00:00:00"), ("created_at", "to", "2024-02-01 00:00:00")
    )
    with pytest.raises(ValueError, match="separate groups"):
        criteria.to_query()


@pytest.mark.parametrize("condition", ["EQ", "equals", "", "ilike", "regexp"])
def test_unknown_condition_type_is_refused(condition):
    with pytest.raises(ValueError, match="unknown condition type"):
        SearchCriteria().where("x", condition, "1")


def test_aware_datetime_is_rendered_in_utc():
    berlin_summer = dt.timezone(dt.timedelta(hours=2))
    value = dt.datetime(2024, 5, 1, 2, 30, 15, 999999, tzinfo=berlin_summer)
    assert Filter("updated_at", "gteq", value).rendered_value == "2024-05-01 00:30:15"


def test_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="naive datetime"):
        Filter("updated_at", "gteq", dt.datetime(2024, 5, 1, 0, 0))


def test_date_and_bool_values():
    assert Filter("dob", "eq", dt.date(1973, 12, 15)).rendered_value == "1973-12-15"
    assert Filter("is_active", "eq", True).rendered_value == "1"
    assert Filter("is_active", "eq", False).rendered_value == "0"


def test_float_is_never_in_exponent_notation():
    assert Filter("weight", "gt", 0.00001).rendered_value == "0.00001"


@pytest.mark.parametrize(
    ("condition", "value", "error", "message"),
    [
        ("in", "1,2", ValueError, "list or tuple"),
        ("nin", {1, 2}, ValueError, "list or tuple"),
        ("in", [], ValueError, "at least one value"),
        ("in", ["a,b", "c"], ValueError, "contains a comma"),
        ("eq", [1, 2], ValueError, "single value"),
        ("eq", None, ValueError, "needs a value"),
        ("null", "1", ValueError, "takes no value"),
        ("eq", object(), ValueError, "unsupported"),
        ("gt", float("nan"), ValueError, "finite"),
    ],
)
def test_bad_values_are_refused(condition, value, error, message):
    with pytest.raises(error, match=message):
        Filter("x", condition, value)


@pytest.mark.parametrize("field", ["", "  ", "a[b]", "a&b", None, 5])
def test_bad_field_names_are_refused(field):
    with pytest.raises(ValueError, match="field"):
        Filter(field, "eq", "1")


@pytest.mark.parametrize("size", [0, -1, MAX_PAGE_SIZE + 1, 1000])
def test_page_size_outside_1_to_300_is_refused(size):
    with pytest.raises(ValueError, match="between 1 and 300"):
        SearchCriteria().with_page_size(size)


def test_page_size_limits_are_inclusive():
    assert SearchCriteria().with_page_size(1).page_size == 1
    assert SearchCriteria().with_page_size(300).page_size == 300


@pytest.mark.parametrize("page", [0, -3])
def test_current_page_below_1_is_refused(page):
    with pytest.raises(ValueError, match="1 or more"):
        SearchCriteria().with_current_page(page)


def test_non_int_paging_is_refused():
    with pytest.raises(ValueError):
        SearchCriteria().with_page_size("100")
    with pytest.raises(ValueError):
        SearchCriteria().with_current_page(True)


def test_bad_sort_direction_is_refused():
    with pytest.raises(ValueError, match="ASC' or 'DESC"):
        SortOrder("created_at", "up")


def test_empty_or_group_is_refused():
    with pytest.raises(ValueError, match="at least one filter"):
        SearchCriteria().where_any()


def test_search_result_reads_the_published_envelope():
    result = SearchResult.from_response(load_sample("customers-search"))
    assert result.total_count == 1
    assert result.items[0]["email"] == "roni_cost@example.com"
    assert result.search_criteria["filter_groups"][0]["filters"][0]["condition_type"] == "like"


def test_search_result_of_a_fields_trimmed_response_has_no_total():
    result = SearchResult.from_response(load_sample("orders-search"))
    assert result.total_count is None
    assert [item["entity_id"] for item in result.items] == [3003, 3140, 9435]


@pytest.mark.parametrize(
    "body",
    [[], "x", {"items": {"a": 1}}, {"items": [1, 2]}, {"items": [], "total_count": "3"}],
)
def test_search_result_refuses_other_shapes(body):
    with pytest.raises(ValueError):
        SearchResult.from_response(body)


# --- iterators: a fake store that pages like Magento's collections ---------------------------


class ClampingStore:
    """Answers searches over `ids` like a Magento collection: a page past the end is clamped to
    the last page (the behaviour of ISSUE #3787), filters `gt` on the id field, sorts by it."""

    def __init__(self, ids, *, id_key="id", honour_gt=True):
        self.ids = sorted(ids)
        self.id_key = id_key
        self.honour_gt = honour_gt
        self.calls: list[SearchCriteria] = []

    def __call__(self, criteria: SearchCriteria) -> SearchResult:
        self.calls.append(criteria)
        rows = list(self.ids)
        for group in criteria.filter_groups:
            for condition in group:
                if condition.condition_type == "gt" and self.honour_gt:
                    rows = [row for row in rows if row > int(condition.value)]
        size = criteria.page_size
        last_page = max(1, -(-len(rows) // size))
        page = min(criteria.current_page, last_page)
        chunk = rows[(page - 1) * size : page * size]
        return SearchResult(
            items=[{self.id_key: row, "name": f"row {row}"} for row in chunk],
            total_count=len(rows),
        )


def ids_of(items, key="id"):
    return [item[key] for item in items]


def test_iter_by_id_walks_by_id_and_stops_on_a_short_page():
    store = ClampingStore(range(1, 8))
    assert ids_of(iter_by_id(store, page_size=3)) == [1, 2, 3, 4, 5, 6, 7]
    assert [dict(c.to_query())[f"{F}[0][filters][0][value]"] for c in store.calls] == [
        "0",
        "3",
        "6",
    ]
    for call in store.calls:
        query = dict(call.to_query())
        assert query["searchCriteria[currentPage]"] == "1"
        assert query["searchCriteria[sortOrders][0][field]"] == "entity_id"
        assert query["searchCriteria[sortOrders][0][direction]"] == "ASC"
        assert query[f"{F}[0][filters][0][condition_type]"] == "gt"


def test_iter_by_id_exact_multiple_ends_with_one_empty_page():
    store = ClampingStore(range(1, 7))
    assert ids_of(iter_by_id(store, page_size=3)) == [1, 2, 3, 4, 5, 6]
    assert len(store.calls) == 3


def test_iter_by_id_is_not_fooled_by_a_store_that_ignores_the_id_filter():
    # The store ignores `gt` and so answers page 1 again every time.
    store = ClampingStore(range(1, 5), honour_gt=False)
    assert ids_of(iter_by_id(store, page_size=2)) == [1, 2]
    assert len(store.calls) == 2


def test_iter_by_id_keeps_caller_filters_and_field_names():
    store = ClampingStore([10, 20, 30], id_key="entity_id")
    base = SearchCriteria().where("status", "eq", "pending")
    items = list(iter_by_id(store, base, id_field="entity_id", id_key="entity_id", after_id=10))
    assert ids_of(items, "entity_id") == [20, 30]
    assert store.calls[0].to_query()[:6] == [
        (f"{F}[0][filters][0][field]", "status"),
        (f"{F}[0][filters][0][value]", "pending"),
        (f"{F}[0][filters][0][condition_type]", "eq"),
        (f"{F}[1][filters][0][field]", "entity_id"),
        (f"{F}[1][filters][0][value]", "10"),
        (f"{F}[1][filters][0][condition_type]", "gt"),
    ]


def test_iter_by_id_never_yields_an_id_twice():
    pages = [
        SearchResult(items=[{"id": 2}, {"id": 1}, {"id": 2}], total_count=3),
        SearchResult(items=[{"id": 1}, {"id": 2}, {"id": 3}], total_count=3),
        SearchResult(items=[{"id": 3}, {"id": 2}, {"id": 1}], total_count=3),
    ]
    assert ids_of(iter_by_id(lambda criteria: pages.pop(0), page_size=3)) == [1, 2, 3]
    assert pages == []


@pytest.mark.parametrize("item", [{"entity_id": 1}, {"id": "²"}, {"id": "1.5"}, {"id": True}])
def test_iter_by_id_refuses_items_without_an_integer_id(item):
    def search(criteria):
        return SearchResult(items=[item], total_count=1)

    with pytest.raises(UnexpectedResponseError, match="no integer 'id'"):
        list(iter_by_id(search))


def test_iter_by_id_accepts_an_id_sent_as_digits():
    seen = []

    def search(criteria):
        seen.append(criteria)
        return SearchResult(items=[{"id": "7"}] if len(seen) == 1 else [], total_count=1)

    assert list(iter_by_id(search, page_size=1)) == [{"id": "7"}]
    assert len(seen) == 2  # the next page was asked for after id 7


def test_iter_by_id_refuses_caller_sorting_or_paging():
    with pytest.raises(ValueError, match="filters only"):
        list(iter_by_id(ClampingStore([]), SearchCriteria().sort_by("name")))
    with pytest.raises(ValueError, match="between 1 and 300"):
        list(iter_by_id(ClampingStore([]), page_size=301))


def test_iter_pages_stops_on_total_count_without_asking_past_the_end():
    store = ClampingStore(range(1, 7))
    assert ids_of(iter_pages(store, page_size=3)) == [1, 2, 3, 4, 5, 6]
    assert [c.current_page for c in store.calls] == [1, 2]
    assert store.calls[0].sort_orders == (SortOrder("entity_id", "ASC"),)


def test_iter_pages_stops_on_a_repeated_page_without_duplicates():
    # total_count lies (too high), so only the repeated page can stop the walk.
    store = ClampingStore(range(1, 7))

    def lying_store(criteria):
        result = store(criteria)
        return SearchResult(items=result.items, total_count=100)

    assert ids_of(iter_pages(lying_store, page_size=3)) == [1, 2, 3, 4, 5, 6]
    assert [c.current_page for c in store.calls] == [1, 2, 3]


def test_iter_pages_keeps_the_callers_sort_and_adds_a_unique_tiebreaker():
    store = ClampingStore(range(1, 3))
    base = SearchCriteria().where("status", "eq", "pending").sort_by("updated_at", "DESC")
    list(iter_pages(store, base, page_size=5))
    assert store.calls[0].sort_orders == (
        SortOrder("updated_at", "DESC"),
        SortOrder("entity_id", "ASC"),
    )


def test_iter_pages_refuses_caller_paging():
    with pytest.raises(ValueError, match="paging itself"):
        list(iter_pages(ClampingStore([]), SearchCriteria().with_page_size(10)))

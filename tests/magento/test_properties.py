"""Properties (Hypothesis) of the searchCriteria builder, SKU paths and OAuth 1.0a signing.

Each property is checked against the sandbox store's own reading of a request (its PHP-style
query parser, its router, its OAuth verifier), which models how Magento reads it, so the client
and the store must agree on every input Hypothesis tries, not only on the examples we thought of.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import quote, urlsplit

import pytest
import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from magento import MagentoClient, OAuth1Auth
from magento.auth import PATH_SIGNINGS, signed_path
from magento.resources.products import sku_path
from magento.sandbox.auth import INTEGRATION, Authenticator
from magento.sandbox.auth import signed_url as sandbox_signed_url
from magento.sandbox.errors import MagentoErrorResponse
from magento.sandbox.search import parse_query, read_criteria
from magento.sandbox.server import ROUTES
from magento.sandbox.store import SandboxStore
from magento.search import CONDITION_TYPES, MAX_PAGE_SIZE, Filter, SearchCriteria, SortOrder
from tests.helpers import no_sleep

# Fast and repeatable: each property tries the same examples on every run (derandomize), saves
# nothing into the project folder (no example database), and never fails on a slow machine.
PROPERTIES = settings(max_examples=150, deadline=None, derandomize=True, database=None)
OVER_HTTP = settings(
    PROPERTIES,
    max_examples=60,
    # One sandbox serves every example of a test: the examples only add products to it.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

STORE = "https://shop.example.com"
SIGNATURE_INVALID = "The signature is invalid. Verify and try again."

# --- strategies ---------------------------------------------------------------------------

# Any Unicode character that can be sent as UTF-8 (no lone surrogates).
any_character = st.characters(codec="utf-8")
any_text = st.text(any_character, max_size=30)
# What a URL treats specially, and what people put in SKUs and names.
awkward_character = st.sampled_from([*"/+&%?#=,;:@[]\\ \"'<>{}|^`$!*()~", "ü", "€", "😀"])
awkward_text = st.text(st.one_of(any_character, awkward_character), max_size=30)

valid_field_name = st.one_of(
    st.sampled_from(["sku", "email", "created_at", "updated_at", "entity_id", "increment_id"]),
    st.text(
        st.characters(codec="utf-8", exclude_characters="[]&="), min_size=1, max_size=20
    ).filter(lambda name: name.strip() == name and name != ""),
)
invalid_field_name = st.one_of(
    # A character Magento's query parser would read as structure.
    st.builds(lambda a, mark, b: a + mark + b, any_text, st.sampled_from("[]&="), any_text),
    # Blank, or padded with white space.
    st.text(st.sampled_from(" \t\r\n\u00a0\u2003"), max_size=4),
    st.builds(
        lambda name, pad, left: pad + name if left else name + pad,
        valid_field_name,
        st.sampled_from([" ", "\t", "\n", "\u00a0"]),
        st.booleans(),
    ),
    # Not a string at all.
    st.one_of(st.none(), st.integers(), st.binary(max_size=5)),
)

UTC_OFFSETS = [
    dt.UTC,
    dt.timezone(dt.timedelta(hours=5, minutes=30)),
    dt.timezone(-dt.timedelta(hours=8)),
]
aware_datetime = st.datetimes(
    min_value=dt.datetime(1971, 1, 1),
    max_value=dt.datetime(9000, 12, 31),
    timezones=st.sampled_from(UTC_OFFSETS),
)
# Values whose rendering cannot hold a comma (so they may also stand in an "in" list).
commaless_value = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters=","), max_size=20),
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(min_value=-(10**12), max_value=10**12, places=4, allow_nan=False),
    aware_datetime,
    st.dates(),
)
filter_value = st.one_of(awkward_text, commaless_value)

LIST_CONDITIONS = ["in", "nin"]
VALUELESS_CONDITIONS = ["null", "notnull"]
# from/to come in pairs (between()); the other conditions take one value.
SINGLE_CONDITIONS = sorted(
    CONDITION_TYPES - {*LIST_CONDITIONS, *VALUELESS_CONDITIONS, "from", "to"}
)


@st.composite
def one_filter(draw) -> Filter:
    field = draw(valid_field_name)
    kind = draw(st.sampled_from(["single", "list", "valueless"]))
    if kind == "single":
        return Filter(field, draw(st.sampled_from(SINGLE_CONDITIONS)), draw(filter_value))
    if kind == "list":
        values = draw(st.lists(commaless_value, min_size=1, max_size=4))
        return Filter(field, draw(st.sampled_from(LIST_CONDITIONS)), values)
    return Filter(field, draw(st.sampled_from(VALUELESS_CONDITIONS)))


@st.composite
def search_criteria(draw) -> SearchCriteria:
    criteria = SearchCriteria()
    for group in draw(st.lists(st.lists(one_filter(), min_size=1, max_size=3), max_size=3)):
        criteria = criteria.where_any(*group)
    for field, start, end in draw(
        st.lists(st.tuples(valid_field_name, filter_value, filter_value), max_size=2)
    ):
        criteria = criteria.between(field, start, end)
    for field, direction in draw(
        st.lists(
            st.tuples(valid_field_name, st.sampled_from(["ASC", "DESC", "asc", "Desc"])),
            max_size=3,
        )
    ):
        criteria = criteria.sort_by(field, direction)
    page_size = draw(st.none() | st.integers(1, MAX_PAGE_SIZE))
    if page_size is not None:
        criteria = criteria.with_page_size(page_size)
    current_page = draw(st.none() | st.integers(1, 10**6))
    if current_page is not None:
        criteria = criteria.with_current_page(current_page)
    return criteria


def url_path_segment(text: str, keep: str, lower_escapes: bool) -> str:
    segment = quote(text, safe=keep)
    return segment.lower() if lower_escapes and "%" in segment else segment


# A percent-encoded REST path, as a caller passes it to the client: any text, some reserved
# characters left bare, escapes in upper or lower case.
api_path = st.builds(
    lambda segments: "/V1/" + "/".join(segments),
    st.lists(
        st.builds(
            url_path_segment,
            st.text(st.one_of(any_character, awkward_character), min_size=1, max_size=15),
            st.sets(st.sampled_from(list(":@&=+$,;()!*'%"))).map("".join),
            st.booleans(),
        ),
        min_size=1,
        max_size=4,
    ),
)
query_name = st.one_of(
    st.builds(
        lambda group, index, part: (
            f"searchCriteria[filter_groups][{group}][filters][{index}][{part}]"
        ),
        st.integers(0, 12),
        st.integers(0, 12),
        st.sampled_from(["field", "value", "condition_type"]),
    ),
    st.sampled_from(["fields", "searchCriteria[pageSize]", "searchCriteria[currentPage]"]),
    awkward_text,
)
query_params = st.lists(st.tuples(query_name, awkward_text), max_size=6)
sku = st.text(st.one_of(any_character, awkward_character), min_size=1, max_size=40).filter(
    lambda text: text.strip() != ""
)
# Tried on every run, whatever else Hypothesis draws.
AWKWARD_SKUS = ["tee/red", "a+b", "x&y", "p,q", "50% off", "../etc", "ü ß 😀", " padded ", "%2F"]


def with_awkward_skus(test):
    for awkward in AWKWARD_SKUS:
        test = example(awkward)(test)
    return test


# --- searchCriteria -----------------------------------------------------------------------


def read_back(value: object, wire: str) -> None:
    """Assert that `wire` is `value` as Magento reads it: same text, number, day or instant."""
    if isinstance(value, bool):
        assert wire == ("1" if value else "0")
    elif isinstance(value, str):
        assert wire == value
    elif isinstance(value, int):
        assert int(wire) == value
    elif isinstance(value, float):
        # MySQL compares exponent notation such as 1e-05 as text: plain digits only.
        assert "e" not in wire.lower() and float(wire) == value
    elif isinstance(value, Decimal):
        assert "e" not in wire.lower() and Decimal(wire) == value
    elif isinstance(value, dt.datetime):
        # Magento's created_at / updated_at: UTC, to the second.
        read = dt.datetime.strptime(wire, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
        assert read == value.replace(microsecond=0)
    elif isinstance(value, dt.date):
        assert dt.date.fromisoformat(wire) == value
    else:
        raise AssertionError(f"no reading for {value!r}")


def sandbox_reads(criteria: SearchCriteria):
    """The criteria as the sandbox store reads them from the URL the client would call."""
    url = MagentoClient(STORE, None).url_for("/V1/products", params=criteria.to_query())
    parsed = parse_query(urlsplit(url).query)
    return read_criteria(parsed["searchCriteria"], input_limits=False)


@PROPERTIES
@given(search_criteria())
def test_any_criteria_reach_the_store_as_built(criteria):
    read = sandbox_reads(criteria)

    assert [[(f["field"], f["condition"]) for f in group] for group in read.filter_groups] == [
        [(f.field, f.condition_type) for f in group] for group in criteria.filter_groups
    ]
    for built_group, read_group in zip(criteria.filter_groups, read.filter_groups, strict=True):
        for built, got in zip(built_group, read_group, strict=True):
            if built.condition_type in VALUELESS_CONDITIONS:
                assert got["value"] is None
            elif built.condition_type in LIST_CONDITIONS:
                items = got["value"].split(",")
                assert len(items) == len(built.value)
                for value, wire in zip(built.value, items, strict=True):
                    read_back(value, wire)
            else:
                read_back(built.value, got["value"])
    assert read.sort_orders == [
        (order.field, order.direction == "ASC") for order in criteria.sort_orders
    ]
    assert read.page_size == criteria.page_size
    assert read.current_page == (criteria.current_page or 1)


@PROPERTIES
@given(filter_value)
def test_any_value_reads_back_as_the_same_value(value):
    read = sandbox_reads(SearchCriteria().where("sku", "eq", value))
    read_back(value, read.filter_groups[0][0]["value"])


@PROPERTIES
@given(invalid_field_name, st.sampled_from(["filter", "where", "sort", "sort_by"]))
def test_field_names_magento_cannot_parse_are_refused(name, how):
    build = {
        "filter": lambda: Filter(name, "eq", "x"),
        "where": lambda: SearchCriteria().where(name, "eq", "x"),
        "sort": lambda: SortOrder(name),
        "sort_by": lambda: SearchCriteria().sort_by(name, "DESC"),
    }[how]
    with pytest.raises(ValueError, match=r"search (sort )?field"):
        build()


@PROPERTIES
@given(any_text.filter(lambda condition: condition not in CONDITION_TYPES))
def test_unknown_condition_types_are_refused(condition):
    with pytest.raises(ValueError, match="unknown condition type"):
        Filter("sku", condition, "x")


@PROPERTIES
@given(st.lists(commaless_value, max_size=3), any_text, any_text, st.sampled_from(LIST_CONDITIONS))
def test_a_list_value_holding_a_comma_is_refused(values, before, after, condition):
    with pytest.raises(ValueError, match="contains a comma"):
        Filter("sku", condition, [*values, f"{before},{after}"])


@PROPERTIES
@given(st.datetimes())
def test_naive_datetimes_are_refused(moment):
    with pytest.raises(ValueError, match="naive datetime"):
        SearchCriteria().where("created_at", "gt", moment)


# --- SKU paths ----------------------------------------------------------------------------

PRODUCT_GET = next(route for route in ROUTES if route.action == "product_get")


@PROPERTIES
@given(sku)
@with_awkward_skus
def test_any_sku_is_one_path_segment_that_the_store_decodes_back(sku):
    url = MagentoClient(STORE, None).url_for(sku_path(sku))  # the client accepts the path

    # requests sends the URL as built (it re-quotes nothing in it) ...
    assert requests.Request("GET", url).prepare().url == url
    # ... and the store's router finds the product route with the SKU as given.
    pieces = urlsplit(url).path.removeprefix("/rest/all/").split("/")
    matching = [route for route in ROUTES if route.method == "GET" and route.match(pieces)]
    assert matching == [PRODUCT_GET]
    assert PRODUCT_GET.match(pieces) == {"sku": sku}


@PROPERTIES
@given(st.text(st.sampled_from(" \t\r\n\u00a0\u2003"), max_size=4))
def test_a_blank_sku_is_refused_before_any_path_is_made(blank):
    with pytest.raises(ValueError, match="SKU is empty"):
        sku_path(blank)


@pytest.mark.parametrize("signing", PATH_SIGNINGS)
def test_any_sku_is_read_over_http_and_signed_right_the_first_time(sandbox_factory, signing):
    server = sandbox_factory(oauth_path_signing=signing)
    asked, statuses = [], []
    product_get = server.store.product_get

    def recording_product_get(sku):
        asked.append(sku)
        return product_get(sku)

    server.store.product_get = recording_product_get
    session = requests.Session()
    session.hooks["response"].append(lambda response, **_: statuses.append(response.status_code))
    c = server.credentials
    auth = OAuth1Auth(
        c.consumer_key,
        c.consumer_secret,
        c.access_token,
        c.access_token_secret,
        path_signing=signing,
    )
    client = MagentoClient(
        server.url,
        auth,
        allow_private_network=True,
        max_retries=0,
        sleep=no_sleep,
        session=session,
    )

    @OVER_HTTP
    @given(sku)
    @with_awkward_skus
    def read_product(sku):
        saved = server.store.product_save({"sku": sku, "name": "Awkward", "price": 1})
        asked.clear()
        statuses.clear()

        product = client.products.get(sku, search_fallback=False)

        assert asked == [sku]  # the store looked up exactly this SKU
        assert statuses == [200]  # signed the store's way at once: no refusal, no second try
        assert product["id"] == saved["id"]

    read_product()


# --- OAuth 1.0a signing -------------------------------------------------------------------


@pytest.fixture(scope="module")
def verifiers():
    """One sandbox verifier per way of signing paths, all knowing the same integration."""
    credentials = SandboxStore().credentials
    return {
        signing: Authenticator(SandboxStore(credentials=credentials, oauth_path_signing=signing))
        for signing in PATH_SIGNINGS
    }


def verify(verifiers, signing: str, method: str, url: str, authorization: str):
    """The caller the sandbox sees, reading the request with its own code as its server does."""
    parts = urlsplit(url)
    signed = sandbox_signed_url(parts.netloc, parts.path, signing)
    return verifiers[signing].caller(authorization, method, signed, parts.query)


@PROPERTIES
@given(
    api_path,
    query_params,
    st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    st.sampled_from(PATH_SIGNINGS),
    # The sandbox serves plain http: on a port, on the default one, and in a sub-folder.
    st.sampled_from(["http://127.0.0.1:8081", "http://localhost", "http://127.0.0.1:8081/shop"]),
)
def test_the_clients_signature_verifies_in_the_store_for_any_path_and_query(
    verifiers, path, params, method, signing, store
):
    credentials = verifiers[signing].store.credentials
    auth = OAuth1Auth(
        credentials.consumer_key,
        credentials.consumer_secret,
        credentials.access_token,
        credentials.access_token_secret,
        path_signing=signing,
    )
    client = MagentoClient(store, auth, allow_private_network=True)
    url = client.url_for(path, params=params)
    authorization = auth.headers_for(method, url, client)["Authorization"]
    other = next(way for way in PATH_SIGNINGS if way != signing)

    assert verify(verifiers, signing, method, url, authorization) is INTEGRATION
    # A store that signs paths the other way accepts the same signature exactly when the
    # two ways read this path alike (otherwise the client signs once more, the other way).
    path_part = urlsplit(url).path
    if signed_path(path_part, signing) == signed_path(path_part, other):
        assert verify(verifiers, other, method, url, authorization) is INTEGRATION
    else:
        with pytest.raises(MagentoErrorResponse) as refusal:
            verify(verifiers, other, method, url, authorization)
        assert refusal.value.message == SIGNATURE_INVALID

"""The sandbox store's data: customers, products, orders and shipments, in memory and thread safe.

Entities are kept in the shape Magento answers with (see the published samples). Orders are kept
compact and expanded to the full order body only when served, so seeding 100,000 of them is quick.
Each kind is a Table (table.py) with sorted indexes on id, updated_at and created_at, so the
polling queries (entity_id > last seen, or updated_at >= last poll) never scan every order.
"""

import dataclasses
import random
import threading
import time
from collections.abc import Callable

from .. import fake_data
from ..auth import (
    ALL_RESOURCES,
    OAUTH_PATH_DECODED,
    Credentials,
    acl_selection,
    check_path_signing,
)
from ..errors import internal_error
from ..search import Criteria, UnknownField
from ..table import stable_hash
from .common import dumps as _dumps
from .common import format_time
from .customers import CustomerRecords
from .orders import OrderRecords
from .products import ProductRecords
from .shipments import ShipmentRecords

__all__ = ["ADMIN_TOKEN_LIFETIME", "DEFAULT_GRANTS", "SandboxStore", "format_time", "stable_hash"]

ADMIN_TOKEN_LIFETIME = 4 * 3600
# What an integration gets when nothing else is configured: everything the portal uses, as
# ticking Customers, Catalog, Stores > Attributes > Attribute Set, Sales and Stores > Settings >
# All Stores saves it. Tests withhold one resource with `DEFAULT_GRANTS - {"Magento_Sales::ship"}`.
DEFAULT_GRANTS = acl_selection(
    "Magento_Customer::customer",
    "Magento_Catalog::catalog",
    "Magento_Catalog::sets",
    "Magento_Sales::sales",
    "Magento_Backend::store",
)


class SandboxStore(CustomerRecords, ProductRecords, OrderRecords, ShipmentRecords):
    """An in-memory Magento store: entities, flags and credentials, safe to use from threads.

    `clock` returns the current Unix time (inject a fake one in tests); `random_seed` makes the
    generated data repeatable.
    """

    def __init__(
        self,
        *,
        credentials: Credentials | None = None,
        clock: Callable[[], float] = time.time,
        random_seed: int | None = None,
        bearer_enabled: bool = False,
        two_factor_enabled: bool = True,
        two_factor_configured: bool = True,
        input_limits_enabled: bool = True,
        granted_resources: set[str] | frozenset[str] = DEFAULT_GRANTS,
        admin_role_resources: set[str] | frozenset[str] = frozenset({ALL_RESOURCES}),
        admin_token_lifetime: int = ADMIN_TOKEN_LIFETIME,
        oauth_path_signing: str = OAUTH_PATH_DECODED,
    ):
        self.lock = threading.RLock()
        self.clock = clock
        self.rng = random.Random(random_seed)
        self.credentials = credentials or Credentials.generate()
        self.bearer_enabled = bearer_enabled
        self.two_factor_enabled = two_factor_enabled
        # False: 2FA is on store-wide but the admin user has not set up Google Authenticator.
        self.two_factor_configured = two_factor_configured
        self.input_limits_enabled = input_limits_enabled
        self.granted_resources = set(granted_resources)
        # The admin user's role (Role Resources); "All" unless a test narrows it.
        self.admin_role_resources = set(admin_role_resources)
        self.admin_token_lifetime = admin_token_lifetime
        # How an escaped "/", "+", "&" ... in the path is signed: OAUTH_PATH_DECODED like Magento
        # 2.4.6/2.4.7, OAUTH_PATH_RFC5849 like 2.4.8 (see auth.signed_url).
        self.oauth_path_signing = check_path_signing(oauth_path_signing)
        self.base_url = "http://127.0.0.1/"
        # Seeding with one fixed timestamp: now() answers this while set.
        self._fixed_now: str | None = None
        # Rows saved but not yet visible to searches (a checkout transaction still open):
        # (visible from, kind, id), revealed by the first search at or after that time.
        self._held_rows: list[tuple[float, str, int]] = []
        self._init_customers()
        self._init_products()
        self._init_orders()
        self._init_shipments()

    # ----------------------------------------------------------------- time

    def grants_of(self, caller_kind: str) -> set[str]:
        """The ACL resources a caller holds: the admin role's, or the integration's."""
        return self.admin_role_resources if caller_kind == "admin" else self.granted_resources

    def now(self) -> str:
        """The current time as Magento writes it (the fixed seeding time while one is set)."""
        if self._fixed_now is not None:
            return self._fixed_now
        return format_time(self.clock())

    # ------------------------------------------------------------ late rows

    def hold_row(self, kind: str, row_id: int, delay: float) -> None:
        """Hide a just-saved row from searches for `delay` seconds of the store's clock.

        Its id and timestamps were taken at creation, so when it shows up, rows with later
        timestamps and higher ids may already have been read: a transaction that committed
        late. GET by id finds it at once, searches only after the delay.
        """
        if delay <= 0:
            return
        with self.lock:
            table = self._kind(kind)[0]
            row = table.rows[row_id]
            table.remove(row_id, row)
            self._held_rows.append((self.clock() + delay, kind, row_id))

    def _reveal_due_rows(self) -> None:
        if not self._held_rows:
            return
        now = self.clock()
        due = [held for held in self._held_rows if held[0] <= now]
        if not due:
            return
        self._held_rows = [held for held in self._held_rows if held[0] > now]
        for _, kind, row_id in due:
            table = self._kind(kind)[0]
            table.add(row_id, table.rows[row_id])

    # ---------------------------------------------------------------- search

    def search_json(self, kind: str, criteria: Criteria) -> bytes:
        """GET list endpoints: filter, sort and page one entity kind ("customers", "products",
        "orders") into Magento's search result envelope, encoded (orders come from the JSON
        cache)."""
        with self.lock:
            self._reveal_due_rows()
            table = self._kind(kind)[0]
            page, total = self._search_page(kind, criteria)
            if kind == "orders":
                fragments = [self._order_json(table.rows[row_id]) for row_id in page]
            else:
                fragments = [_dumps(table.rows[row_id]) for row_id in page]
        return (
            '{"items":['
            + ",".join(fragments)
            + '],"search_criteria":'
            + _dumps(criteria.echo)
            + ',"total_count":'
            + str(total)
            + "}"
        ).encode()

    def _search_page(self, kind: str, criteria: Criteria) -> tuple[list[int], int]:
        table, id_field, value_of, known = self._kind(kind)
        if id_field == "id":
            # EAV entities (customers, products) carry "id" but their table column is entity_id.
            criteria = _with_field_alias(criteria, "entity_id", "id")
        try:
            return table.search(criteria, id_field=id_field, value_of=value_of, known=known)
        except UnknownField:
            raise internal_error() from None

    def _kind(self, kind: str):
        if kind == "customers":
            return (self.customers, "id", self._customer_value, self._customer_fields.__contains__)
        if kind == "products":
            return (self.products, "id", self._product_value, self._product_known)
        if kind == "orders":
            return (self.orders, "entity_id", self._order_value, self._order_fields.__contains__)
        raise ValueError(kind)

    # --------------------------------------------------------------- seeding

    def seed(
        self,
        *,
        customers: int = 0,
        products: int = 0,
        orders: int = 0,
        days: int = 90,
        at: str | None = None,
    ) -> None:
        """Fill the store with generated customers, products and orders spread over `days`.

        With `at` ("YYYY-MM-DD HH:MM:SS", UTC) every new row gets that created_at and
        updated_at: many rows sharing one second, as a bulk import makes them.
        """
        with self.lock:
            if at is not None:
                self._fixed_now = _checked_time(at)
            try:
                for _ in range(products):
                    self.product_save(fake_data.product(self.rng, self.products.next_id))
                for _ in range(customers):
                    self.add_random_customer()
                if orders:
                    self._seed_orders(orders, days, at=at)
            finally:
                self._fixed_now = None

    def add_random_customer(self) -> dict:
        """Create one generated customer with an address."""
        with self.lock:
            identity = fake_data.person(self.rng, self.customers.next_id)
            identity["addresses"] = [
                fake_data.address(self.rng, identity["firstname"], identity["lastname"])
            ]
            return self.customer_create(identity)

    def _seed_orders(self, count: int, days: int, *, at: str | None = None) -> None:
        if not self.products.ids:
            self.product_save(fake_data.product(self.rng, 1))
        customer_ids = self.customers.ids
        now = self.clock()
        start = now - days * 86400
        step = (days * 86400) / max(count, 1)
        states = ("complete", "complete", "processing", "new", "new", "canceled")
        rng = self.rng
        first_new = self.orders.next_id
        for number in range(count):
            created = at or format_time(start + number * step)
            state = states[rng.randrange(len(states))]
            customer_id = rng.choice(customer_ids) if customer_ids and rng.random() < 0.8 else None
            self._place_order(
                customer_id=customer_id,
                lines=None,
                state=state,
                status=None,
                created_at=created,
                index=False,
            )
        self.orders.add_many(list(range(first_new, self.orders.next_id)))


def _checked_time(value: str) -> str:
    try:
        time.strptime(value, "%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        raise ValueError(f"expected 'YYYY-MM-DD HH:MM:SS' (UTC), got {value!r}") from None
    return value


def _with_field_alias(criteria: Criteria, alias: str, name: str) -> Criteria:
    """A copy of the criteria with `alias` read as `name` in filters and sort orders."""
    groups = [
        [dict(item, field=name) if item["field"] == alias else item for item in group]
        for group in criteria.filter_groups
    ]
    orders = [
        (name if field == alias else field, ascending) for field, ascending in criteria.sort_orders
    ]
    return dataclasses.replace(criteria, filter_groups=groups, sort_orders=orders)

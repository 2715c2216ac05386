"""The sandbox's HTTP side: Magento's REST routes, URL prefixes, faults and the control endpoints.

Request handling follows Magento's order: strip the install folder, `index.php` and `/rest`, read
the store code (a known code or `all` is removed; anything else stays in the path, so an unknown
code matches no route), match the route (wrong method = no route), authenticate and check the
route's ACL resources, read the input, then run the service.
"""

from __future__ import annotations

import calendar
import collections
import contextlib
import json
import logging
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from . import errors as err
from .auth import Authenticator, check_path_signing, signed_url
from .clock import FakeClock
from .errors import MagentoErrorResponse
from .faults import FaultPlan
from .fields import filter_fields, parse_fields
from .inputs import (
    CUSTOMER,
    PRODUCT,
    SHIPMENT_ARGUMENTS,
    SHIPMENT_COMMENT,
    SHIPMENT_ITEM,
    SHIPMENT_PACKAGE,
    SHIPMENT_TRACK,
    read_int,
    read_top_level,
)
from .search import parse_query, read_criteria
from .store import SandboxStore

logger = logging.getLogger("magento.sandbox")

STORE_CODES = ("default",)
CONTROL_PREFIX = "/__sandbox__"
MAINTENANCE_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Error 503: Service Unavailable</title></head>
<body>
<h1>Service Temporarily Unavailable</h1>
<p>The store is down for maintenance. Please come back in a little while.</p>
</body>
</html>
"""
FIREWALL_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Access denied</title></head>
<body>
<h1>Access denied</h1>
<p>This request was stopped by the site's security filter before it reached the store.</p>
</body>
</html>
"""
NOT_FOUND_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>404 Not Found</title></head>
<body><h1>Whoops, our bad...</h1><p>The page you requested was not found.</p></body></html>
"""


class _Route:
    def __init__(self, method: str, template: str, resources: tuple[str, ...], action: str):
        self.method = method
        self.template = template
        self.parts = template.strip("/").split("/")
        self.resources = resources
        self.action = action

    def match(self, parts: list[str]) -> dict[str, str] | None:
        if len(parts) != len(self.parts):
            return None
        params = {}
        for expected, given in zip(self.parts, parts, strict=True):
            if expected.startswith(":"):
                params[expected[1:]] = unquote_plus(given)
            elif expected != given:
                return None
        return params


# Each route's ACL resource as declared in Magento 2.4's etc/webapi.xml files (Customer, Catalog,
# Sales, Store; the token routes in security-package's TwoFactorAuth).
ROUTES = [
    _Route("POST", "/V1/integration/admin/token", ("anonymous",), "admin_token"),
    _Route("POST", "/V1/tfa/provider/google/authenticate", ("anonymous",), "google_token"),
    _Route("GET", "/V1/store/storeConfigs", ("Magento_Backend::store",), "store_configs"),
    _Route("GET", "/V1/store/storeViews", ("Magento_Backend::store",), "store_views"),
    _Route("GET", "/V1/customers/search", ("Magento_Customer::customer",), "customer_search"),
    _Route("GET", "/V1/customers/:customerId", ("Magento_Customer::customer",), "customer_get"),
    _Route(
        "GET",
        "/V1/customers/:customerId/confirm",
        ("Magento_Customer::manage",),
        "customer_confirmation",
    ),
    _Route("POST", "/V1/customers", ("anonymous",), "customer_create"),
    _Route("PUT", "/V1/customers/:customerId", ("Magento_Customer::manage",), "customer_put"),
    _Route("GET", "/V1/products", ("Magento_Catalog::products",), "product_search"),
    _Route("GET", "/V1/products/:sku", ("Magento_Catalog::products",), "product_get"),
    _Route(
        "GET",
        "/V1/products/attribute-sets/sets/list",
        ("Magento_Catalog::sets",),
        "attribute_set_search",
    ),
    _Route("POST", "/V1/products", ("Magento_Catalog::products",), "product_post"),
    _Route("PUT", "/V1/products/:sku", ("Magento_Catalog::products",), "product_put"),
    _Route("GET", "/V1/orders", ("Magento_Sales::actions_view",), "order_search"),
    _Route("GET", "/V1/orders/:id", ("Magento_Sales::actions_view",), "order_get"),
    _Route("POST", "/V1/order/:orderId/ship", ("Magento_Sales::ship",), "order_ship"),
    _Route("GET", "/V1/shipment/:id", ("Magento_Sales::shipment",), "shipment_get"),
    _Route("GET", "/V1/shipments", ("Magento_Sales::shipment",), "shipment_search"),
]


class SandboxServer:
    """Serve a SandboxStore over HTTP like a Magento 2.4 store, in a background thread.

    `base_path` mounts the store in a sub-folder (e.g. "/shop"); `control=True` enables the
    `/__sandbox__/...` endpoints for out-of-process tests; `sleep` is used by latency faults.
    """

    def __init__(
        self,
        store: SandboxStore | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        base_path: str = "",
        control: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        log_requests: bool = False,
    ):
        self.store = store or SandboxStore()
        self.host = host
        self.base_path = "/" + base_path.strip("/") if base_path.strip("/") else ""
        self.control = control
        self.sleep = sleep
        self.log_requests = log_requests
        self.faults = FaultPlan()
        self.auth = Authenticator(self.store)
        # (method, route path) of the latest REST requests, in arrival order (tests count them).
        self.requests: collections.deque[tuple[str, str]] = collections.deque(maxlen=100_000)
        self._last_answers: dict[tuple[str, str], tuple] = {}
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.sandbox = self
        self._thread: threading.Thread | None = None
        self.port = self._httpd.server_address[1]
        self.store.base_url = self.url + "/"

    # Flags live on the store so the store and server always agree.
    bearer_enabled = property(
        lambda self: self.store.bearer_enabled,
        lambda self, value: setattr(self.store, "bearer_enabled", bool(value)),
    )
    two_factor_enabled = property(
        lambda self: self.store.two_factor_enabled,
        lambda self, value: setattr(self.store, "two_factor_enabled", bool(value)),
    )
    two_factor_configured = property(
        lambda self: self.store.two_factor_configured,
        lambda self, value: setattr(self.store, "two_factor_configured", bool(value)),
    )
    input_limits_enabled = property(
        lambda self: self.store.input_limits_enabled,
        lambda self, value: setattr(self.store, "input_limits_enabled", bool(value)),
    )
    oauth_path_signing = property(
        lambda self: self.store.oauth_path_signing,
        lambda self, value: setattr(self.store, "oauth_path_signing", check_path_signing(value)),
    )

    @property
    def credentials(self):
        """The store's credentials (see auth.Credentials)."""
        return self.store.credentials

    @property
    def url(self) -> str:
        """The Store Domain to type into the portal, e.g. "http://127.0.0.1:54321"."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{self.base_path}"

    def start(self) -> SandboxServer:
        """Serve in a daemon thread; returns self."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            args=(0.01,),
            name=f"magento-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (also for a server that was never started)."""
        if self._thread is not None:
            self._httpd.shutdown()
        self._httpd.server_close()
        # Kept-alive connections would otherwise still be answered after the stop.
        for connection in list(self._httpd.open_connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # ------------------------------------------------------------ dispatching

    def handle(self, method: str, target: str, headers, body: bytes) -> tuple:
        """Answer one request: (status, headers, body bytes) or None to drop the connection."""
        split = urlsplit(target)
        path, query = split.path, split.query
        if self.base_path:
            if path != self.base_path and not path.startswith(self.base_path + "/"):
                return _html(404, NOT_FOUND_PAGE)
            path = path[len(self.base_path) :] or "/"
        if path.startswith(CONTROL_PREFIX + "/") or path == CONTROL_PREFIX:
            if not self.control:
                return _html(404, NOT_FOUND_PAGE)
            return self._control(method, path[len(CONTROL_PREFIX) :], body)
        if path.startswith("/index.php/"):
            path = path[len("/index.php") :]
        if not path.startswith("/rest/"):
            return _html(404, NOT_FOUND_PAGE)
        pieces = path[len("/rest/") :].strip("/").split("/")
        if pieces and (pieces[0] in STORE_CODES or pieces[0] == "all"):
            pieces = pieces[1:]
        route_path = "/" + "/".join(pieces)
        self.requests.append((method, route_path))
        route, params = self._match(method, pieces)
        token_checked = route is not None and route.resources != ("anonymous",)
        drop_answer = False
        hold_answer = 0.0
        for fault in self.faults.take(method, route_path, token_checked=token_checked):
            if fault.kind == "apply_then_drop":
                drop_answer, hold_answer = True, fault.seconds
                continue
            if fault.kind == "repeat_answer" and (method, route_path) in self._last_answers:
                return self._last_answers[(method, route_path)]
            answer = self._fault(fault, route, headers, target)
            if answer != "continue":
                return answer
        answer = self._answer(method, route, params, query, headers, body, split, route_path)
        if answer[0] == 200 and route is not None and route.action.endswith("_search"):
            self._last_answers[(method, route_path)] = answer
        # The store did the work (or refused it) but the answer never reaches the caller; with
        # `seconds` the connection hangs that long first (the caller's read timeout comes first).
        if drop_answer and hold_answer > 0:
            self.sleep(hold_answer)
        return None if drop_answer else answer

    def _answer(self, method, route, params, query, headers, body, split, route_path) -> tuple:
        try:
            if method not in ("GET", "POST", "PUT", "DELETE"):
                raise MagentoErrorResponse(400, "Request method is invalid.")
            if route is None:
                raise err.no_route()
            if route.action == "google_token" and not self.store.two_factor_enabled:
                raise err.no_route()
            # Like Magento's guest plugin: anonymous routes never look at the credentials.
            if route.resources != ("anonymous",):
                url = signed_url(
                    headers.get("Host") or f"{self.host}:{self.port}",
                    split.path,
                    self.store.oauth_path_signing,
                )
                caller = self.auth.caller(headers.get("Authorization", ""), method, url, query)
                grants = self.store.grants_of(caller.kind)
                if not any(caller.allowed(resource, grants) for resource in route.resources):
                    raise err.not_authorized(list(route.resources))
            data = self._body(method, headers, body)
            result = getattr(self, "_do_" + route.action)(params=params, query=query, data=data)
            fields = parse_query(query).get("fields") if "fields=" in query else None
            if isinstance(fields, str) and fields.strip():
                if isinstance(result, bytes):
                    result = json.loads(result)
                result = filter_fields(result, parse_fields(fields))
            return _json(200, result) if not isinstance(result, bytes) else _raw_json(result)
        except MagentoErrorResponse as error:
            return _json(error.status, error.body(), error.headers)
        except Exception:
            error = err.internal_error()
            # Like Magento's report: the id the answer names finds the traceback in the log.
            report = error.message.rsplit(" ", 1)[-1]
            logger.error(
                "sandbox failure on %s %s, report %s\n%s",
                method,
                route_path,
                report,
                traceback.format_exc(),
            )
            return _json(error.status, error.body())

    def _match(self, method: str, pieces: list[str]):
        for route in ROUTES:
            if route.method != method:
                continue
            params = route.match(pieces)
            if params is not None:
                return route, params
        return None, {}

    def _fault(self, fault, route, headers, target: str):
        if fault.kind == "repeat_answer":
            return "continue"  # no earlier answer to this route to repeat: answer normally
        if fault.kind == "latency":
            self.sleep(fault.seconds)
            return "continue"
        if fault.kind == "rate_limit":
            headers = (
                {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            )
            return _json(429, {"message": "Too Many Requests", "trace": None}, headers)
        if fault.kind == "server_error":
            error = err.internal_error()
            return _json(500, error.body())
        if fault.kind == "maintenance":
            return _html(503, MAINTENANCE_PAGE)
        if fault.kind == "drop_connection":
            return None
        if fault.kind == "malformed_json":
            return 200, {"Content-Type": "application/json; charset=utf-8"}, b'{"items": [{"id'
        if fault.kind == "redirect":
            # A web server upgrading plain http: the same address, query included, on https.
            host = headers.get("Host") or f"{self.host}:{self.port}"
            return 301, {"Location": f"https://{host}{target}"}, b""
        if fault.kind == "firewall":
            return _html(403, FIREWALL_PAGE)
        error = err.not_authorized(list(route.resources))
        return _json(error.status, error.body())

    def _body(self, method: str, headers, body: bytes) -> Any:
        if method not in ("POST", "PUT"):
            return {}
        content_type = headers.get("Content-Type", "")
        if not content_type:
            raise MagentoErrorResponse(400, "Content-Type header is empty.")
        if not body.strip():
            return {}
        if "json" not in content_type.lower():
            raise MagentoErrorResponse(
                400,
                "Server cannot understand Content-Type HTTP header media type %1",
                [content_type.split(";")[0].strip()],
            )
        try:
            return json.loads(body)
        except ValueError:
            raise MagentoErrorResponse(400, "Decoding error.") from None

    # --------------------------------------------------------------- services

    def _do_admin_token(self, *, data, **_):
        values = read_top_level(data, {"username": _STRING, "password": _STRING}, [])
        self.auth.check_admin_password(values.get("username", ""), values.get("password", ""))
        if self.store.two_factor_enabled and not self.store.two_factor_configured:
            # Magento e-mails the user a set-up link and names the providers still to set up.
            raise MagentoErrorResponse(
                400,
                err.TWO_FACTOR_CONFIGURE_PERSONAL,
                {"providers": ["google"], "active_providers": []},
            )
        if self.store.two_factor_enabled:
            raise MagentoErrorResponse(
                400, err.TWO_FACTOR_ENDPOINTS, {"active_providers": ["google"]}
            )
        return self.auth.issue_admin_token()

    def _do_google_token(self, *, data, **_):
        values = read_top_level(
            data,
            {"username": _STRING, "password": _STRING, "otp": _STRING},
            ["username", "password", "otp"],
        )
        self.auth.check_admin_password(values["username"], values["password"])
        # Google is always an allowed provider here; an unset one is refused before the code.
        if not self.store.two_factor_configured:
            raise MagentoErrorResponse(400, err.PROVIDER_NOT_CONFIGURED)
        self.auth.check_otp(values["otp"])
        return self.auth.issue_admin_token()

    def _do_store_configs(self, *, query, **_):
        wanted = _query_list(parse_query(query).get("storeCodes"))
        configs = [store_config(self.store.base_url)]
        return [c for c in configs if not wanted or c["code"] in wanted]

    def _do_store_views(self, **_):
        return [
            {
                "id": 0,
                "code": "admin",
                "name": "Admin",
                "website_id": 0,
                "store_group_id": 0,
                "is_active": 1,
            },
            {
                "id": 1,
                "code": "default",
                "name": "Default Store View",
                "website_id": 1,
                "store_group_id": 1,
                "is_active": 1,
            },
        ]

    def _criteria(self, query: str):
        parsed = parse_query(query)
        key = next((k for k in parsed if k.replace("_", "").lower() == "searchcriteria"), None)
        if key is None:
            raise err.required("searchCriteria")
        return read_criteria(parsed[key], input_limits=self.store.input_limits_enabled)

    def _do_customer_search(self, *, query, **_):
        return self.store.search_json("customers", self._criteria(query))

    def _do_customer_get(self, *, params, **_):
        return self.store.customer_get(read_int(params["customerId"]))

    def _do_customer_confirmation(self, *, params, **_):
        # AccountManagement::getConfirmationStatus: the customer is looked up first; the
        # sandbox keeps Magento's default (no e-mail confirmation for new accounts).
        self.store.customer_get(read_int(params["customerId"]))
        return "account_confirmation_not_required"

    def _do_customer_create(self, *, data, **_):
        values = read_top_level(
            data,
            {"customer": _obj(CUSTOMER), "password": _STRING, "redirectUrl": _STRING},
            ["customer"],
        )
        return self.store.customer_create(values["customer"], values.get("password"))

    def _do_customer_put(self, *, params, data, **_):
        customer_id = read_int(params["customerId"])
        values = read_top_level(
            data, {"customer": _obj(CUSTOMER), "passwordHash": _STRING}, ["customer"]
        )
        return self.store.customer_replace(customer_id, values["customer"])

    def _do_product_search(self, *, query, **_):
        return self.store.search_json("products", self._criteria(query))

    def _do_product_get(self, *, params, **_):
        return self.store.product_get(params["sku"])

    def _do_product_post(self, *, data, **_):
        values = read_top_level(data, _PRODUCT_SAVE, ["product"])
        return self.store.product_save(values["product"])

    def _do_product_put(self, *, params, data, **_):
        values = read_top_level(data, _PRODUCT_SAVE, ["product"])
        return self.store.product_save(values["product"], sku=params["sku"])

    def _do_order_search(self, *, query, **_):
        return self.store.search_json("orders", self._criteria(query))

    def _do_order_get(self, *, params, **_):
        return self.store.order_get(read_int(params["id"]))

    def _do_order_ship(self, *, params, data, **_):
        order_id = read_int(params["orderId"])
        values = read_top_level(
            data,
            {
                "items": {"type": "array", "items": _obj(SHIPMENT_ITEM)},
                "notify": {"type": "boolean"},
                "appendComment": {"type": "boolean"},
                "comment": _obj(SHIPMENT_COMMENT),
                "tracks": {"type": "array", "items": _obj(SHIPMENT_TRACK)},
                "packages": {"type": "array", "items": _obj(SHIPMENT_PACKAGE)},
                "arguments": _obj(SHIPMENT_ARGUMENTS),
            },
            [],
        )
        return self.store.order_ship(
            order_id,
            items=values.get("items"),
            tracks=values.get("tracks"),
            comment=values.get("comment"),
            notify=bool(values.get("notify")),
        )

    def _do_shipment_get(self, *, params, **_):
        return self.store.shipment_get(read_int(params["id"]))

    def _do_shipment_search(self, *, query, **_):
        return self.store.shipment_search(self._criteria(query))

    def _do_attribute_set_search(self, *, query, **_):
        return self.store.attribute_set_search(self._criteria(query))

    # ---------------------------------------------------------------- control

    def _control(self, method: str, path: str, body: bytes):
        """`/__sandbox__/...`: inspect and change the sandbox from another process."""
        try:
            data = json.loads(body) if body.strip() else {}
        except ValueError:
            return _json(400, {"message": "body is not JSON"})
        store = self.store
        parts = path.strip("/").split("/")
        try:
            if parts == ["state"] and method == "GET":
                return _json(200, self.state())
            if parts == ["state"] and method == "POST":
                for short, full in (
                    ("two_factor", "two_factor_enabled"),
                    ("input_limits", "input_limits_enabled"),
                ):
                    if short in data:
                        data[full] = data.pop(short)
                self.change_state(**data)
                return _json(200, self.state())
            if parts == ["faults"] and method == "GET":
                return _json(200, [fault.as_dict() for fault in self.faults.pending()])
            if parts == ["faults"] and method == "POST":
                fault = self.faults.add(data.pop("kind", ""), **data)
                return _json(201, fault.as_dict())
            if parts == ["faults"] and method == "DELETE":
                self.faults.clear()
                return _json(200, [])
            if parts == ["seed"] and method == "POST":
                store.seed(**data)
                return _json(200, self.state())
            if parts == ["clock"] and method == "GET":
                return _json(200, self._clock_state())
            if parts == ["clock"] and method == "POST":
                self.set_clock(advance=data.get("advance"), to=data.get("to"))
                return _json(200, self._clock_state())
            if parts == ["requests"] and method == "GET":
                return _json(200, [list(item) for item in self.requests])
            if parts == ["customers"] and method == "POST":
                customer = store.customer_create(data["customer"], data.get("password"))
                store.hold_row("customers", customer["id"], float(data.get("visible_after", 0)))
                return _json(201, customer)
            if len(parts) == 2 and parts[0] == "customers" and method == "POST":
                current = store.customer_get(int(parts[1]))
                current.update(data)
                return _json(200, store.customer_replace(int(parts[1]), current))
            if parts == ["products"] and method == "POST":
                return _json(201, store.product_save(data["product"]))
            if parts == ["attribute-sets"] and method == "POST":
                return _json(
                    201, store.attribute_set_add(data["name"], int(data["attribute_set_id"]))
                )
            if parts == ["orders"] and method == "POST":
                lines = [tuple(line) for line in data["lines"]] if data.get("lines") else None
                order = store.order_create(
                    customer_id=data.get("customer_id"),
                    lines=lines,
                    state=data.get("state", "new"),
                    status=data.get("status"),
                    created_at=data.get("created_at"),
                )
                store.hold_row("orders", order["entity_id"], float(data.get("visible_after", 0)))
                return _json(201, order)
            if len(parts) == 2 and parts[0] == "orders" and method == "POST":
                return _json(200, store.order_update(int(parts[1]), data))
        except MagentoErrorResponse as error:
            return _json(error.status, error.body())
        except (KeyError, TypeError, ValueError) as problem:
            return _json(400, {"message": f"bad control request: {problem}"})
        return _json(404, {"message": "unknown control endpoint"})

    def set_clock(self, *, advance: float | None = None, to: float | str | None = None) -> None:
        """Move the store's FakeClock: `advance` seconds, or `to` a Unix time or a Magento
        'YYYY-MM-DD HH:MM:SS' (UTC). ValueError when the store runs on the real clock."""
        clock = self.store.clock
        if not isinstance(clock, FakeClock):
            raise ValueError("the store runs on the real clock; start it with a FakeClock")
        if to is not None:
            if isinstance(to, str):
                to = calendar.timegm(time.strptime(to, "%Y-%m-%d %H:%M:%S"))
            clock.set(float(to))
        if advance is not None:
            clock.advance(float(advance))

    def _clock_state(self) -> dict:
        return {"now": self.store.now(), "timestamp": self.store.clock()}

    def state(self) -> dict:
        """Flags and entity counts (what GET /__sandbox__/state answers)."""
        store = self.store
        return {
            "bearer_enabled": store.bearer_enabled,
            "two_factor_enabled": store.two_factor_enabled,
            "two_factor_configured": store.two_factor_configured,
            "input_limits_enabled": store.input_limits_enabled,
            "oauth_path_signing": store.oauth_path_signing,
            "granted_resources": sorted(store.granted_resources),
            "admin_role_resources": sorted(store.admin_role_resources),
            "admin_token_lifetime": store.admin_token_lifetime,
            "integration_revoked": self.auth.revoked,
            "counts": {
                "customers": len(store.customers.rows),
                "products": len(store.products.rows),
                "orders": len(store.orders.rows),
                "shipments": len(store.shipments),
            },
        }

    def change_state(
        self,
        *,
        bearer_enabled: bool | None = None,
        two_factor_enabled: bool | None = None,
        two_factor_configured: bool | None = None,
        input_limits_enabled: bool | None = None,
        oauth_path_signing: str | None = None,
        granted_resources: list[str] | None = None,
        admin_role_resources: list[str] | None = None,
        admin_token_lifetime: int | None = None,
        integration_revoked: bool | None = None,
        expire_admin_tokens: bool = False,
    ) -> None:
        """Flip flags (the same changes POST /__sandbox__/state accepts)."""
        store = self.store
        with store.lock:
            if bearer_enabled is not None:
                store.bearer_enabled = bool(bearer_enabled)
            if two_factor_enabled is not None:
                store.two_factor_enabled = bool(two_factor_enabled)
            if two_factor_configured is not None:
                store.two_factor_configured = bool(two_factor_configured)
            if input_limits_enabled is not None:
                store.input_limits_enabled = bool(input_limits_enabled)
            if oauth_path_signing is not None:
                store.oauth_path_signing = check_path_signing(oauth_path_signing)
            if granted_resources is not None:
                store.granted_resources = set(granted_resources)
            if admin_role_resources is not None:
                store.admin_role_resources = set(admin_role_resources)
            if admin_token_lifetime is not None:
                store.admin_token_lifetime = int(admin_token_lifetime)
        if integration_revoked is not None:
            self.auth.revoked = bool(integration_revoked)
        if expire_admin_tokens:
            self.auth.expire_admin_tokens()


_STRING = {"type": "string"}


def _obj(definition: str) -> dict:
    return {"type": "object", "ref": definition}


# ProductRepositoryInterface::save(product, saveOptions), behind both POST and PUT.
_PRODUCT_SAVE = {"product": _obj(PRODUCT), "saveOptions": {"type": "boolean"}}


def _query_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, dict):
        return [str(v) for v in value.values()]
    return [str(value)]


def store_config(base_url: str) -> dict:
    """The default store view's configuration as GET /V1/store/storeConfigs lists it."""
    return {
        "id": 1,
        "code": "default",
        "website_id": 1,
        "locale": "en_US",
        "base_currency_code": "USD",
        "default_display_currency_code": "USD",
        "timezone": "America/Chicago",
        "weight_unit": "lbs",
        "base_url": base_url,
        "base_link_url": base_url,
        "base_static_url": base_url + "static/",
        "base_media_url": base_url + "media/",
        "secure_base_url": base_url,
        "secure_base_link_url": base_url,
        "secure_base_static_url": base_url + "static/",
        "secure_base_media_url": base_url + "media/",
    }


def _json(status: int, body: Any, headers: dict | None = None):
    payload = _php_slashes(json.dumps(body, separators=(",", ":")).encode())
    return status, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}, payload


def _php_slashes(payload: bytes) -> bytes:
    """PHP's json_encode writes "/" as "\\/" (a "/" can only occur inside JSON strings)."""
    return payload.replace(b"/", b"\\/")


def _raw_json(payload: bytes):
    return 200, {"Content-Type": "application/json; charset=utf-8"}, _php_slashes(payload)


def _html(status: int, page: str):
    return status, {"Content-Type": "text/html; charset=UTF-8"}, page.encode()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 makes bursts of clients wait a second for a retry.
    request_queue_size = 128
    sandbox: SandboxServer

    def __init__(self, *args, **kwargs):
        self.open_connections: set[socket.socket] = set()
        super().__init__(*args, **kwargs)

    def handle_error(self, request, client_address) -> None:
        # A client that gave up waiting (a timeout fault, a stopped test) hangs up while its
        # answer is written: normal for a store, not worth a traceback on stderr.
        if isinstance(sys.exc_info()[1], BrokenPipeError | ConnectionResetError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Apache"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in one write; no Nagle delay waiting for the client's ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.open_connections.add(self.connection)

    def finish(self) -> None:
        self.server.open_connections.discard(self.connection)
        super().finish()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        sandbox = self.server.sandbox
        answer = sandbox.handle(self.command, self.path, self.headers, body)
        if answer is None:
            self.close_connection = True
            return
        status, headers, payload = answer
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(payload)
        self.flush_headers()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

    # Log lines name only the method, the path without its query and the status: the query and
    # headers may carry search values or secrets, and so does the raw request line that
    # BaseHTTPRequestHandler quotes in its error messages. A request that could not be parsed
    # has no path (nor perhaps a command) yet.

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self._log(str(int(code) if isinstance(code, int) else code))

    def log_error(self, format: str, *args) -> None:
        if args and isinstance(args[0], int):
            return  # send_error's ("code %d, message %s"): its log_request logs the status.
        self._log("error")

    def log_message(self, format: str, *args) -> None:
        self._log("-")

    def _log(self, outcome: str) -> None:
        if self.server.sandbox.log_requests:
            path = getattr(self, "path", "").partition("?")[0]
            command = getattr(self, "command", None) or "-"
            sys.stderr.write(f"{self.log_date_time_string()} {command} {path or '-'} {outcome}\n")

"""The Magento 2 REST client: one session per store, typed errors, careful retries.

`MagentoClient.request(method, path, ...)` is the single door to the store; the resource
helpers (`client.customers`, `client.products`, ...) are built on it.

Retries: GET, PUT and the other idempotent methods are retried on connection failures, read
timeouts and 429/502/503/504, with exponential backoff and full jitter, bounded in count
(`max_retries`) and total time (`max_retry_seconds`). A POST (create customer, create product,
ship an order, sign in) is repeated only when it surely did not reach the store: the connection
was never made, or the store answered 429. Anything else raises `UnknownOutcomeError`, so the
caller checks the store before trying again.
"""

from __future__ import annotations

import json as json_module
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from .auth import MagentoAuth
from .errors import (
    BlockedAddressError,
    MagentoError,
    NameNotFoundError,
    RedirectedError,
    RequestTimeoutError,
    StoreUnavailableError,
    TLSError,
    TransportError,
    UnexpectedResponseError,
    UnknownOutcomeError,
)
from .netguard import GuardedAdapter
from .responses import error_from_response, error_from_unreadable_body, parse_retry_after
from .search import render_value
from .store_domain import StoreAddress, encode_query, parse_store_domain, validate_store_code
from .version import __version__

__all__ = ["IDEMPOTENT_METHODS", "USER_AGENT", "MagentoClient"]

logger = logging.getLogger("magento.client")

USER_AGENT = f"Magento2AutomationPortal/{__version__} (+python-requests/{requests.__version__})"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES_IDEMPOTENT = frozenset({429, 502, 503, 504})
# Magento (or the proxy) refused a 429 before doing anything, so even a POST may be repeated.
RETRY_STATUSES_ANY_METHOD = frozenset({429})
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 30.0
# Default of every `store_code` argument meaning "the client's store code" (None means none).
CLIENT_STORE_CODE: Any = object()


class MagentoClient:
    """A client for one Magento 2 store's REST API."""

    def __init__(
        self,
        store_domain: str | StoreAddress,
        auth: MagentoAuth | None,
        *,
        store_code: str | None = "all",
        verify_tls: bool = True,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        max_retries: int = 3,
        max_retry_seconds: float = 60.0,
        allow_private_network: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        self.address = (
            store_domain
            if isinstance(store_domain, StoreAddress)
            else parse_store_domain(store_domain)
        )
        self.auth = auth
        self.store_code = None if store_code is None else validate_store_code(store_code)
        self.verify_tls = verify_tls
        if connect_timeout <= 0 or read_timeout <= 0:
            raise ValueError("connect_timeout and read_timeout must be positive (seconds).")
        self.timeout = (float(connect_timeout), float(read_timeout))
        if max_retries < 0 or max_retry_seconds < 0:
            raise ValueError("max_retries and max_retry_seconds must not be negative.")
        self.max_retries = int(max_retries)
        self.max_retry_seconds = float(max_retry_seconds)
        self.allow_private_network = allow_private_network
        self._sleep = sleep
        self._random = random.Random()
        self._monotonic = time.monotonic
        self._wall_clock = time.time
        self._session = session if session is not None else requests.Session()
        # Environment proxies and ~/.netrc must not silently change where or as whom we connect.
        self._session.trust_env = False
        self._session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        adapter = HTTPAdapter(max_retries=0) if allow_private_network else GuardedAdapter(0)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

    # -- public API -------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, Any]] | Mapping[str, Any] | None = None,
        json: Any = None,
        store_code: str | None = CLIENT_STORE_CODE,
        decode: Callable[[bytes], Any] | None = None,
    ) -> Any:
        """Call the REST API and return the decoded JSON answer, or raise a MagentoError.

        `path` starts with the API version, e.g. "/V1/customers/search"; `params` are query
        pairs (a list keeps their order); `store_code` defaults to the client's ("all").
        `decode` reads a successful answer's body instead of `json.loads` (a ValueError from it
        is an unreadable answer, as from `json.loads`).
        """
        method = method.upper()
        url = self._url(path, store_code, params)
        return self._call(
            method, url, path, json, auth=self.auth, allow_retries=True, decode=decode
        )

    def request_token(self, path: str, body: dict[str, Any]) -> Any:
        """POST a sign-in body (admin token, 2FA authenticate) once: never retried, never logged."""
        url = self._url(path, None, None)
        try:
            return self._call("POST", url, path, body, auth=None, allow_retries=False)
        except UnknownOutcomeError as failure:
            # A sign-in changes nothing in the store, so "unknown outcome" would only confuse:
            # an unusable answer (a 502 page, broken JSON) is reported as what it is ...
            if isinstance(failure.__cause__, MagentoError):
                raise failure.__cause__ from None
            # ... and a connection lost after sending as a failed connection.
            raise TransportError(
                f"The connection to {self.address.origin} failed during sign-in.",
                method="POST",
                path=path,
            ) from failure

    def url_for(self, path: str, *, params=None, store_code=CLIENT_STORE_CODE) -> str:
        """The full URL `request` would call (handy for logs and for tests)."""
        return self._url(path, store_code, params)

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def __enter__(self) -> MagentoClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MagentoClient({self.address.display!r}, auth={self.auth!r})"

    def __getattr__(self, name: str) -> Any:
        # Resource helpers (client.customers, ...) live in magento.resources; built on first use.
        from .resources import RESOURCES

        if name in RESOURCES:
            resource = RESOURCES[name](self)
            self.__dict__[name] = resource
            return resource
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # -- building requests ------------------------------------------------------------------

    def _url(self, path: str, store_code: str | None, params) -> str:
        if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
            raise ValueError(f"The API path must start with a single '/', e.g. '/V1/...': {path!r}")
        if any(ch in path for ch in "?# \t\r\n"):
            raise ValueError("Pass query values as params; the path must be percent-encoded.")
        if store_code is CLIENT_STORE_CODE:
            store_code = self.store_code
        url = f"{self.address.rest_root(store_code)}{path}"
        if params:
            pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
            url = f"{url}?{encode_query([(str(k), _query_value(v)) for k, v in pairs])}"
        return url

    # -- sending ----------------------------------------------------------------------------

    def _call(self, method, url, path, json, *, auth, allow_retries, decode=None) -> Any:
        body = None
        if json is not None:
            body = json_module.dumps(json, ensure_ascii=False, allow_nan=False).encode("utf-8")
        response, used_headers = None, {}
        try:
            response, used_headers = self._send(method, url, path, body, auth, allow_retries)
            # Renewable credentials (an admin session; an OAuth path signature the store reads
            # the other way) are renewed, and the call repeated once.
            if (
                response.status_code == 401
                and auth is not None
                and auth.renew_after_unauthorized(self, used_headers, response)
            ):
                logger.debug("%s %s: credentials renewed after 401, repeating once", method, path)
                response.close()
                response = None
                response, used_headers = self._send(method, url, path, body, auth, allow_retries)
        finally:
            if auth is not None:
                auth.answered(used_headers, response)
        try:
            return self._decode(response, method, path, decode)
        except (UnexpectedResponseError, StoreUnavailableError) as error:
            if method in IDEMPOTENT_METHODS or not _may_have_been_carried_out(error.status):
                raise
            unknown = UnknownOutcomeError.because(
                f"The store's answer could not be used (HTTP {error.status}: {error.message})",
                status=error.status,
                method=method,
                path=path,
                body_excerpt=error.body_excerpt,
            )
            raise self._scrubbed(unknown) from error

    def _send(self, method, url, path, body, auth, allow_retries):
        started = self._monotonic()
        slept = 0.0
        attempt = 0
        log_path = _log_path(url)
        while True:
            attempt += 1
            headers = {"Content-Type": "application/json"} if body is not None else {}
            if auth is not None:
                headers.update(auth.headers_for(method, url, self))
            sent_at = self._monotonic()
            try:
                response = self._session.request(
                    method,
                    url,
                    data=body,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                    verify=self.verify_tls,
                )
            except BlockedAddressError as blocked:
                blocked.method, blocked.path = method, path
                logger.debug("%s %s refused by outbound safety", method, log_path)
                raise
            except requests.RequestException as failure:
                error, safe_to_repeat = self._transport_error(failure, method, path)
                logger.debug(
                    "%s %s failed after %.3fs (attempt %d): %s",
                    method,
                    log_path,
                    self._monotonic() - sent_at,
                    attempt,
                    type(error).__name__,
                )
                delay = self._next_delay(attempt, None)
                if (
                    allow_retries
                    and safe_to_repeat
                    and self._may_retry(attempt, started, slept, delay)
                ):
                    slept += self._pause(delay)
                    continue
                raise error from failure
            logger.debug(
                "%s %s -> %d in %.3fs (attempt %d)",
                method,
                log_path,
                response.status_code,
                self._monotonic() - sent_at,
                attempt,
            )
            status = response.status_code
            retry_statuses = (
                RETRY_STATUSES_IDEMPOTENT
                if method in IDEMPOTENT_METHODS
                else RETRY_STATUSES_ANY_METHOD
            )
            if allow_retries and status in retry_statuses:
                retry_after = parse_retry_after(
                    response.headers.get("Retry-After"), now=self._wall_clock()
                )
                delay = self._next_delay(attempt, retry_after)
                if self._may_retry(attempt, started, slept, delay):
                    response.close()
                    slept += self._pause(delay)
                    continue
            return response, headers

    def _next_delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            # Not shortened: if the store asks for longer than our budget we stop and report it.
            return retry_after
        ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
        return self._random.uniform(0, ceiling)  # full jitter spreads out retrying workers

    def _may_retry(self, attempt: int, started: float, slept: float, delay: float) -> bool:
        if attempt > self.max_retries:
            return False
        # Count what we slept too, so an injected (fake) sleep still respects the budget.
        spent = max(self._monotonic() - started, slept)
        return spent + delay <= self.max_retry_seconds

    def _pause(self, delay: float) -> float:
        logger.debug("waiting %.2fs before retrying", delay)
        self._sleep(delay)
        return delay

    def _transport_error(self, failure, method, path) -> tuple[MagentoError, bool]:
        """The error to raise for a requests failure, and whether repeating it is safe."""
        where = self.address.origin
        context = {"method": method, "path": path}
        idempotent = method in IDEMPOTENT_METHODS
        if isinstance(failure, requests.exceptions.SSLError):
            error = TLSError(
                f"Could not make a secure HTTPS connection to {where}: the certificate could not "
                "be verified or the TLS handshake failed.",
                **context,
            )
            return error, False
        if isinstance(failure, requests.exceptions.ConnectTimeout):
            message = f"Could not connect to {where} within {self.timeout[0]:g} seconds."
            return RequestTimeoutError(message, **context), True
        reason = _root_reason(failure)
        if isinstance(failure, requests.exceptions.ConnectionError) and isinstance(
            reason, NewConnectionError | ConnectTimeoutError
        ):
            if isinstance(reason, NameResolutionError):
                message = (
                    f"The store address {self.address.host} could not be found (DNS lookup failed)."
                )
                return NameNotFoundError(message, **context), True
            if "refused" in str(reason).lower():
                message = f"Could not connect to {where}: the connection was refused."
            else:
                message = f"Could not connect to {where}."
            return TransportError(message, **context), True
        # From here on the request may have reached the store.
        if not idempotent:
            failed = f"The connection to {where} failed after the request was sent"
            if isinstance(failure, requests.exceptions.ReadTimeout):
                failed = (
                    f"{where} did not answer within {self.timeout[1]:g} seconds after the "
                    "request was sent"
                )
            return UnknownOutcomeError.because(failed, **context), False
        if isinstance(failure, requests.exceptions.ReadTimeout):
            message = f"{where} did not answer within {self.timeout[1]:g} seconds."
            return RequestTimeoutError(message, **context), True
        return TransportError(f"The connection to {where} failed.", **context), True

    # -- reading answers --------------------------------------------------------------------

    def _decode(self, response: requests.Response, method: str, path: str, decode=None) -> Any:
        status = response.status_code
        content_type = response.headers.get("Content-Type", "")
        if 300 <= status < 400:
            raise self._scrubbed(self._redirect_error(response, method, path))
        if not 200 <= status < 300:
            retry_after = parse_retry_after(
                response.headers.get("Retry-After"), now=self._wall_clock()
            )
            error = error_from_response(
                status,
                response.content,
                content_type=content_type,
                method=method,
                path=path,
                retry_after=retry_after,
            )
            raise self._scrubbed(error)
        try:
            return (decode or json_module.loads)(response.content)
        except ValueError:
            error = error_from_unreadable_body(
                status, response.content, content_type=content_type, method=method, path=path
            )
            raise self._scrubbed(error) from None

    def _redirect_error(self, response, method, path) -> RedirectedError:
        location = response.headers.get("Location", "")
        target = urlsplit(urljoin(response.url or self.address.origin, location))
        shown_host = target.hostname or ""
        if target.port:
            shown_host = f"{shown_host}:{target.port}"
        # Query, fragment and user info are left out: they could carry anything.
        shown = f"{target.scheme}://{shown_host}{target.path}" if target.scheme else "elsewhere"
        hint = ""
        if target.scheme == "https" and self.address.scheme == "http":
            hint = " The store wants HTTPS: change the Store Domain to start with https://."
        elif target.hostname and _endpoint(target.hostname, target.port, target.scheme) != (
            _endpoint(self.address.host, self.address.port, self.address.scheme)
        ):
            hint = " Check the Store Domain: the store may live at the other address."
        return RedirectedError(
            f"The store redirected the request to {shown} (HTTP {response.status_code}); the "
            f"portal does not follow redirects.{hint}",
            location=shown if target.scheme else "",
            status=response.status_code,
            method=method,
            path=path,
        )

    def _scrubbed(self, error: MagentoError) -> MagentoError:
        secrets = [s for s in (self.auth.secrets() if self.auth else ()) if len(s) >= 4]
        if not secrets:
            return error

        def scrub(value):
            # Magento echoes input into placeholders, so `parameters` is scrubbed as deeply.
            if isinstance(value, str):
                for secret in secrets:
                    value = value.replace(secret, "[hidden]")
                return value
            if isinstance(value, dict):
                return {key: scrub(item) for key, item in value.items()}
            if isinstance(value, list | tuple):
                return type(value)(scrub(item) for item in value)
            return value

        error.message = scrub(error.message)
        error.raw_message = scrub(error.raw_message)
        error.body_excerpt = scrub(error.body_excerpt)
        error.errors = [scrub(item) for item in error.errors]
        error.parameters = scrub(error.parameters)
        error.args = (error.message,)
        return error


def _endpoint(host: str, port: int | None, scheme: str) -> tuple[str, int]:
    """Host and port as connected to (the scheme's default port when none is written)."""
    return host.lower(), port or (443 if scheme == "https" else 80)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return render_value(value)  # "1" / "0", as in search filters
    if value is None:
        return ""
    return str(value)


def _log_path(url: str) -> str:
    # Query values are never logged; the number of parameters is enough to tell calls apart.
    parts = urlsplit(url)
    if parts.query:
        return f"{parts.path}?({len(parts.query.split('&'))} params)"
    return parts.path


def _root_reason(failure: BaseException) -> BaseException | None:
    # requests wraps urllib3's MaxRetryError, whose .reason says what really failed.
    for arg in getattr(failure, "args", ()):
        reason = getattr(arg, "reason", None)
        if reason is not None:
            return reason
        if isinstance(arg, BaseException):
            return arg
    return None


def _may_have_been_carried_out(status: int | None) -> bool:
    """Whether a write answered with this status may still have been done by the store.

    A 2xx whose body we cannot read was done; a gateway error (502, 504) means a proxy stopped
    waiting while Magento may have finished. Magento's own errors (4xx, 500, the 503
    maintenance page) come from a request it did not carry out.
    """
    return status is not None and (200 <= status < 300 or status in (502, 504))

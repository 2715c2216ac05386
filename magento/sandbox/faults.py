"""Fault injection: make chosen requests slow, refused, redirected, broken or unanswered.

A fault applies to requests whose method and Magento route path (e.g. "/V1/orders/5", without
"/rest/<store>") match, for the next `times` matching requests. Path patterns are shell-style
globs ("/V1/orders*"). `redirect` and `firewall` answer as a web server or firewall in front of
Magento would, so Magento's JSON is never involved.
"""

from __future__ import annotations

import fnmatch
import itertools
import threading
from dataclasses import asdict, dataclass

KINDS = (
    "latency",  # wait `seconds`, then answer normally
    "rate_limit",  # 429 {"message":"Too Many Requests","trace":null} with Retry-After
    "server_error",  # 500 with a webapi report id
    "maintenance",  # 503 HTML "Error 503: Service Unavailable" page
    "drop_connection",  # close the socket without an answer
    "malformed_json",  # 200 with a truncated JSON body
    "expired_token",  # the generic 401, as for an expired or revoked token
    "redirect",  # 301 to the same address on https://, as a web server upgrading http
    "firewall",  # 403 HTML "Access denied" page, as a web application firewall answers
    "apply_then_drop",  # carry the request out, then close the socket without the answer (after
    # `seconds`, when given: a write that times out after the store applied it)
    "repeat_answer",  # the previous 200 answer to the same route again (a stale cache or a
    # store that ignores filters and repeats its last page)
)
# Sign-in routes and unknown paths never look at a token, so a token fault cannot hit them.
TOKEN_KINDS = ("expired_token",)


@dataclass
class Fault:
    """One planned fault; `remaining` counts down as matching requests arrive."""

    id: int
    kind: str
    method: str = "*"
    path: str = "*"
    remaining: int = 1
    seconds: float = 0.0
    retry_after: int | None = 30

    def matches(self, method: str, path: str) -> bool:
        """True when this fault applies to the request."""
        return (self.method in ("*", method.upper())) and fnmatch.fnmatchcase(path, self.path)

    def as_dict(self) -> dict:
        """JSON-friendly description (for the control endpoint)."""
        return asdict(self)


class FaultPlan:
    """The faults waiting for requests; thread safe. Available as `server.faults`."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(
        self,
        kind: str,
        *,
        method: str = "*",
        path: str = "*",
        times: int = 1,
        seconds: float = 0.0,
        retry_after: int | None = 30,
    ) -> Fault:
        """Plan `kind` for the next `times` requests matching `method` and `path`."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; choose from {', '.join(KINDS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        fault = Fault(
            id=next(self._ids),
            kind=kind,
            method=method.upper(),
            path=path,
            remaining=times,
            seconds=float(seconds),
            retry_after=retry_after,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str, *, token_checked: bool = True) -> list[Fault]:
        """Consume the faults that apply to one request (a latency fault can precede another).

        With `token_checked=False` (an anonymous or unknown route) token faults stay planned.
        """
        taken = []
        with self._lock:
            for fault in list(self._faults):
                if not fault.matches(method, path):
                    continue
                if not token_checked and fault.kind in TOKEN_KINDS:
                    continue
                # At most one delay and one failure per request.
                if any((f.kind == "latency") == (fault.kind == "latency") for f in taken):
                    continue
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                taken.append(fault)
        return taken

    def pending(self) -> list[Fault]:
        """Faults still waiting."""
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        """Drop every planned fault."""
        with self._lock:
            self._faults.clear()

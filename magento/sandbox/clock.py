"""A clock for tests and demos: starts at the real time and moves only when told to."""

from __future__ import annotations

import threading
import time


class FakeClock:
    """Callable like time.time(); `advance(seconds)` moves it forward."""

    def __init__(self, start: float | None = None):
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward (token lifetimes, lockouts, updated_at)."""
        with self._lock:
            self._now += seconds

    def set(self, timestamp: float) -> None:
        """Put the clock at a Unix time (backwards too: a store whose clock was corrected)."""
        with self._lock:
            self._now = float(timestamp)

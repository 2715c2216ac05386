"""Shop activity for demos: new customers, products and orders, and customer updates.

One event every `interval` seconds, in a background thread, in a fixed rotation, so the portal's
triggers have something to notice while someone watches.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable

from . import fake_data
from .store import SandboxStore

EVENTS = ("customer_created", "product_created", "order_created", "customer_updated")


class ActivitySimulator:
    """Generates store events; `step()` makes one (tests call it directly, no waiting).

    `wait(seconds)` paces the thread (default: a wait that stop() interrupts).
    """

    def __init__(
        self,
        store: SandboxStore,
        interval: float,
        *,
        on_event: Callable[[str, dict], None] | None = None,
        wait: Callable[[float], bool] | None = None,
    ):
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.store = store
        self.interval = interval
        self.on_event = on_event
        self._position = 0
        self._stop = threading.Event()
        # wait(seconds) -> True once stopped; tests inject one that does not really wait.
        self._wait = wait or self._stop.wait
        self._thread: threading.Thread | None = None

    def step(self) -> tuple[str, dict]:
        """Make the next event happen; returns its name and the entity it created or changed."""
        event = EVENTS[self._position % len(EVENTS)]
        self._position += 1
        store = self.store
        with store.lock:
            if event == "customer_created" or (
                event in ("customer_updated", "order_created") and not store.customers.ids
            ):
                event, entity = "customer_created", store.add_random_customer()
            elif event == "product_created":
                entity = store.product_save(fake_data.product(store.rng, store.products.next_id))
            elif event == "order_created":
                customer_id = store.rng.choice(store.customers.ids)
                entity = store.order_create(customer_id=customer_id)
            else:
                customer_id = store.rng.choice(store.customers.ids)
                customer = copy.deepcopy(store.customers.rows[customer_id])
                customer["dob"] = (
                    f"{store.rng.randint(1950, 2004)}-{store.rng.randint(1, 12):02d}-"
                    f"{store.rng.randint(1, 28):02d}"
                )
                entity = store.customer_replace(customer_id, customer)
        if self.on_event is not None:
            self.on_event(event, entity)
        return event, entity

    def start(self) -> ActivitySimulator:
        """Run step() every `interval` seconds in a daemon thread until stop()."""
        self._thread = threading.Thread(target=self._run, name="sandbox-activity", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._wait(self.interval) and not self._stop.is_set():
            self.step()

    def stop(self) -> None:
        """Stop the thread (waits for the current event to finish)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

"""One token bucket for every kind's throttling: Shopify's query-cost points (restored per
second up to the bucket's size) and Amazon's per-operation request quotas (rate, burst)
are the same thing with other numbers.

A bucket restores on the clock it is given: wall-clock seconds, or the simulator's API time
(simulated seconds that a connector's waits advance; `SimulatorApp.api_time`)."""

from __future__ import annotations

import threading
import time as wallclock
from collections.abc import Callable


class Bucket:
    """`size` tokens at most, `restore_rate` restored per second of `clock`."""

    def __init__(
        self, size: float, restore_rate: float, clock: Callable[[], float] = wallclock.monotonic
    ):
        self.size, self.restore_rate = float(size), float(restore_rate)
        self.clock = clock
        self.available = self.size
        self.at = clock()
        self.lock = threading.Lock()

    def _restore(self) -> None:
        now = self.clock()
        self.available = min(
            self.size, self.available + max(0.0, now - self.at) * self.restore_rate
        )
        self.at = max(self.at, now)

    def take(self, cost: float = 1) -> float | None:
        """Take `cost` tokens: what is left, or None (and nothing taken) if too few."""
        with self.lock:
            self._restore()
            if cost > self.available:
                return None
            self.available -= cost
            return self.available

    def refund(self, tokens: float) -> None:
        """Give back what a request took but did not use (Shopify: requested − actual cost)."""
        with self.lock:
            self.available = min(self.size, self.available + max(0.0, tokens))

    def drain(self) -> None:
        """Empty the bucket now (a fault: a storm of 429s)."""
        with self.lock:
            self.available = 0.0
            self.at = max(self.at, self.clock())

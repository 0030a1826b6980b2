"""One token bucket for every kind's throttling: Shopify's query-cost points (restored per
second up to the bucket's size) and Amazon's per-operation request quotas (rate, burst)
are the same thing with other numbers."""

from __future__ import annotations

import threading
import time as wallclock


class Bucket:
    """`size` tokens at most, `restore_rate` restored per second, on wall-clock time."""

    def __init__(self, size: float, restore_rate: float):
        self.size, self.restore_rate = float(size), float(restore_rate)
        self.available = self.size
        self.at = wallclock.monotonic()
        self.lock = threading.Lock()

    def _restore(self) -> None:
        now = wallclock.monotonic()
        self.available = min(self.size, self.available + (now - self.at) * self.restore_rate)
        self.at = now

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
            self.at = wallclock.monotonic()

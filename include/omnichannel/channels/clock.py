"""Whose time a connector waits on: the wall clock, or the simulator's simulated clock.

Against a real API every wait (a 429's Retry-After, a token bucket, Shopify's cost
restore, backoff after a 5xx, polling a report) is a real sleep. Against the simulator in
the demo, tests and benchmarks, the same wait advances the simulator's API time instead:
its buckets restore on that time, so a run obeys the limits it would meet in production
and still goes at CPU speed. What was waited is counted either way (the ledger keeps it
per batch), which is how long the same work takes against the channels.

The simulated clock is chosen by the environment (`OMNI_SIMULATED_CLOCK`: the simulator's
base URL), set by whoever wires the simulator to the library (`omni demo`, the tests, the
benchmarks); the library does not import the simulator, it only speaks to its control
endpoint. On a simulated clock a run of an interval also happens at the interval's end
(the world as it was then), which makes a catch-up of many intervals in one run read each
one as a daily run at its end would.
"""

from __future__ import annotations

import os
import time
from datetime import datetime

import httpx

from omnichannel.channels.tls import tls

ENV = "OMNI_SIMULATED_CLOCK"
# a connector's waits since its last request, sent with the next one: the simulator
# advances its API time by them before it answers (no round trip per wait)
ADVANCE_HEADER = "X-Simulated-Clock-Advance"


class WallClock:
    simulated = False

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def start_run(self, at: datetime) -> None:
        """A real run reads the channel as it is now, whatever its interval."""

    def headers(self) -> dict[str, str]:
        return {}

    def close(self) -> None:
        pass


class SimulatedClock:
    """The simulator's clock, moved through its control endpoint (POST /_simulator/clock)."""

    simulated = True

    def __init__(self, simulator_url: str, channel_id: str | None = None):
        self.url = simulator_url.rstrip("/") + "/_simulator/clock"
        self.channel_id = channel_id  # whose clock a run sets (runs of others go on)
        self.http = httpx.Client(timeout=httpx.Timeout(10.0), verify=tls())
        self.pending = 0.0  # waited since the last request to the simulator

    def _post(self, body: dict) -> None:
        response = self.http.post(self.url, json=body)
        if response.status_code != 200:
            raise RuntimeError(f"simulated clock at {self.url}: HTTP {response.status_code}")

    def sleep(self, seconds: float) -> None:
        self.pending += seconds

    def headers(self) -> dict[str, str]:
        """The waits to tell the simulator with the next request (then they are told)."""
        if not self.pending:
            return {}
        pending, self.pending = self.pending, 0.0
        return {ADVANCE_HEADER: f"{pending:.6f}"}

    def start_run(self, at: datetime) -> None:
        self._flush()
        body = {"now": at.isoformat()}
        if self.channel_id:
            body["channel"] = self.channel_id
        self._post(body)

    def _flush(self) -> None:
        if self.pending:
            pending, self.pending = self.pending, 0.0
            self._post({"advance": pending})

    def close(self) -> None:
        self._flush()
        self.http.close()


def current(channel_id: str | None = None) -> WallClock | SimulatedClock:
    """The clock of a run of `channel_id` (on a simulated clock, that channel's own)."""
    url = os.environ.get(ENV)
    return SimulatedClock(url, channel_id) if url else WallClock()

"""What a per-kind app sees: one request, the response it gives, and the context of the
channel it answers for. Apps import this module, never the server, so the server can import
the apps without a cycle."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from omnisim.faults import Fault
    from omnisim.server import SimulatorApp
    from omnisim.spec import WorldChannel
    from omnisim.world import World


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self):
        return json.loads(self.body or b"{}")


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, status: int, payload, headers: dict | None = None) -> Response:
        return cls(
            status,
            json.dumps(payload).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )

    def json(self):
        return json.loads(self.body)


@dataclass
class Context:
    """What a kind's handler needs for one request."""

    app: SimulatorApp
    channel: WorldChannel
    now: datetime
    fault: Fault | None = None

    @property
    def world(self) -> World:
        return self.app.world

    @property
    def now_ts(self) -> int:
        return int(self.now.timestamp())

    def data_fault(self, name: str) -> Fault | None:
        return self.fault if self.fault is not None and self.fault.fault == name else None

    def updated_at(self, index: np.ndarray) -> np.ndarray:
        """Last visible change of orders, including changes made by the
        updated_between_pages fault."""
        updated = self.world.updated_at(index, self.now_ts)
        touched = self.app.touched
        if touched:
            extra = np.array([touched.get(int(i), -1) for i in index], dtype=np.int64)
            extra = np.where((extra >= 0) & (extra < self.now_ts) & (updated >= 0), extra, -1)
            updated = np.maximum(updated, extra)
        return updated

    def touch(self, order_index: int) -> None:
        """A record the client has not read yet changes now (updated_between_pages)."""
        self.app.touched[int(order_index)] = self.now_ts - 1

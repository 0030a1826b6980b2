"""HTTP server for the simulated channels, with a clock and switchable faults.

Routes
- POST /shops/<channel_id>/admin/api/<version>/graphql.json   Shopify GraphQL Admin API
- GET  /_simulator/health
- POST /_simulator/clock    {"now": "2026-10-02T04:00:00Z"} or {"now": null} for wall-clock time
- POST /_simulator/faults   {"channel_id": "...", "fault": "malformed_page", "page": 2}
                            faults: malformed_page (truncated body), server_error (502),
                            bad_row (an unparseable amount in the page's first order)
- DELETE /_simulator/faults
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from omnichannel.config import ChannelsConfig
from omnichannel.simulator.shopify import API_VERSIONS, ShopifyAdmin
from omnichannel.simulator.world import World, WorldChannel

log = logging.getLogger(__name__)
SHOPIFY_PATH = re.compile(
    r"^/shops/(?P<channel>[a-z0-9_]+)/admin/api/(?P<version>[^/]+)/graphql\.json$"
)
FAULTS = ("malformed_page", "server_error", "bad_row")


def world_from_config(seed: int, config: ChannelsConfig) -> World:
    channels = [
        WorldChannel(c.channel_id, c.kind, c.timezone, c.currency, opened_on=c.start_date)
        for c in config.channels
    ]
    return World(seed, channels)


@dataclass
class SimulatorState:
    world: World
    now: datetime | None = None  # None: wall-clock time
    faults: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clock(self) -> datetime:
        return self.now or datetime.now(UTC)

    def fault_for(self, channel_id: str, page_no: int) -> dict | None:
        for fault in self.faults:
            if fault["channel_id"] == channel_id and fault.get("page", page_no) == page_no:
                return fault
        return None


class Handler(BaseHTTPRequestHandler):
    server: SimulatorHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # route access logs to logging, not stderr
        log.debug("simulator: " + fmt, *args)

    def _send(self, status: int, body: bytes, content_type="application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload) -> None:
        self._send(status, json.dumps(payload).encode())

    def _body(self) -> dict | None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            return json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            return None

    def do_GET(self):
        if self.path == "/_simulator/health":
            state = self.server.state
            return self._json(
                200,
                {
                    "status": "ok",
                    "seed": state.world.seed,
                    "now": state.clock().isoformat(),
                    "channels": sorted(state.world.channels),
                },
            )
        self._json(404, {"errors": "Not Found"})

    def do_DELETE(self):
        if self.path == "/_simulator/faults":
            with self.server.state.lock:
                self.server.state.faults.clear()
            return self._json(200, {"faults": []})
        self._json(404, {"errors": "Not Found"})

    def do_POST(self):
        body = self._body()
        if body is None:
            return self._json(400, {"errors": "body is not valid JSON"})
        if self.path == "/_simulator/clock":
            return self._set_clock(body)
        if self.path == "/_simulator/faults":
            return self._add_fault(body)
        match = SHOPIFY_PATH.match(self.path)
        if match:
            return self._shopify(match["channel"], match["version"], body)
        self._json(404, {"errors": "Not Found"})

    def _set_clock(self, body: dict):
        raw = body.get("now")
        try:
            now = datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw else None
        except (AttributeError, ValueError):
            return self._json(400, {"errors": f"now must be an ISO 8601 timestamp, got {raw!r}"})
        if now is not None and now.tzinfo is None:
            return self._json(400, {"errors": "now must carry a UTC offset"})
        self.server.state.now = now
        self._json(200, {"now": self.server.state.clock().isoformat()})

    def _add_fault(self, body: dict):
        if (
            body.get("fault") not in FAULTS
            or body.get("channel_id") not in self.server.state.world.channels
        ):
            return self._json(400, {"errors": f"need channel_id and fault in {FAULTS}"})
        with self.server.state.lock:
            self.server.state.faults.append(body)
        self._json(200, {"faults": self.server.state.faults})

    def _shopify(self, channel_id: str, version: str, body: dict):
        state = self.server.state
        if channel_id not in state.world.channels:
            return self._json(404, {"errors": "Not Found"})
        if version not in API_VERSIONS:
            return self._json(404, {"errors": "Not Found"})
        if not self.headers.get("X-Shopify-Access-Token"):
            return self._json(
                401,
                {
                    "errors": "[API] Invalid API key or access token "
                    "(unrecognized login or wrong password)"
                },
            )
        page_no = _page_number(body)
        fault = state.fault_for(channel_id, page_no)
        if fault and fault["fault"] == "server_error":
            return self._json(502, {"errors": "Bad Gateway"})
        response = ShopifyAdmin(state.world, channel_id).execute(body, state.clock())
        if fault and fault["fault"] == "bad_row":
            _corrupt_first_order(response)
        payload = json.dumps(response).encode()
        if fault and fault["fault"] == "malformed_page":
            payload = payload[: max(1, len(payload) // 2)]  # a truncated body, as after a cut
        self._send(200, payload)


def _corrupt_first_order(response: dict) -> None:
    """A value no parser should accept, in the first order of the page (schema drift)."""
    edges = ((response.get("data") or {}).get("orders") or {}).get("edges") or []
    if edges and "subtotalPriceSet" in edges[0]["node"]:
        edges[0]["node"]["subtotalPriceSet"]["shopMoney"]["amount"] = "12,50 USD"


def _page_number(body: dict) -> int:
    """Page number of a forward paging sequence, read from the opaque cursor we issued."""
    after = (body.get("variables") or {}).get("after")
    if not after:
        return 1
    from omnichannel.simulator.shopify import decode_cursor

    try:
        return int(decode_cursor(after).get("p", 0)) + 1
    except Exception:  # an invalid cursor is reported by the API itself
        return 0


class SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, state: SimulatorState):
        super().__init__(address, Handler)
        self.state = state


class Simulator:
    """The simulator in a background thread: `with Simulator(world) as sim: sim.url`."""

    def __init__(self, world: World, host: str = "127.0.0.1", port: int = 0):
        self.state = SimulatorState(world)
        self.httpd = SimulatorHTTPServer((host, port), self.state)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, daemon=True, name="channel-simulator"
        )

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def shop_url(self, channel_id: str) -> str:
        return f"{self.url}/shops/{channel_id}"

    def set_clock(self, now: datetime | None) -> None:
        self.state.now = now

    def add_fault(self, channel_id: str, fault: str, page: int | None = None) -> None:
        spec = {"channel_id": channel_id, "fault": fault}
        if page is not None:
            spec["page"] = page
        with self.state.lock:
            self.state.faults.append(spec)

    def clear_faults(self) -> None:
        with self.state.lock:
            self.state.faults.clear()

    def start(self) -> Simulator:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

"""The channel simulator: every channel kind's API over the world, with a clock and faults.

`SimulatorApp.handle(Request)` answers in-process (tests); `Simulator` serves the same app
over HTTP on 127.0.0.1 in a background thread; `omni simulate serve` runs it standalone.

Routes (`<id>` is a channel_id of channels.yml)
- POST /shops/<id>/admin/api/<version>/graphql.json      Shopify GraphQL Admin API
- GET  /amazon/<id>/orders/v0/orders[/<order>/orderItems] Amazon SP-API Orders v0
- GET  /amazon/<id>/fba/inventory/v1/summaries            FBA Inventory v1
- POST|GET /amazon/<id>/reports/2021-06-30/...            Reports API (Sales and Traffic)
- POST /amazon/<id>/auth/o2/token                         Login with Amazon token exchange
- GET  /woo/<id>/wp-json/wc/v3/{orders,products}          WooCommerce REST v3
- POST /ga4/<id>/v1beta/properties/<property>:runReport   GA4 Data API
- GET  /_simulator/health, POST /_simulator/clock {"now": ISO|null},
  GET|POST|DELETE /_simulator/faults (see `faults.py`)
pos_files channels are file drops: see `pos_files.py` (written on every clock change).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time as wallclock
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np

from omnichannel.config import ChannelsConfig
from omnichannel.simulator.faults import FILE_FAULTS, WORLD_FAULTS, Fault, FaultBook, FaultError
from omnichannel.simulator.spec import WorldChannel, spec_from_config
from omnichannel.simulator.world import World

log = logging.getLogger(__name__)

PREFIX = {"shopify": "shops", "amazon_sp": "amazon", "woocommerce": "woo", "ga4": "ga4"}
KIND_OF_PREFIX = {v: k for k, v in PREFIX.items()}
ROUTE = re.compile(r"^/(?P<prefix>shops|amazon|woo|ga4)/(?P<channel>[a-z0-9_]+)(?P<rest>/.*)?$")
# What the simulator accepts as a secret, per kind (Airflow connection fields).
SIMULATOR_CREDENTIALS = {
    "shopify": {"password": "shpat_simulator"},
    "amazon_sp": {
        "login": "amzn1.application-oa2-client.simulator",
        "password": "Atzr|simulator-refresh-token",
    },
    "woocommerce": {"login": "ck_simulator", "password": "cs_simulator"},
    "ga4": {"password": "ya29.simulator"},
}


def channel_base_url(simulator_url: str, kind: str, channel_id: str) -> str:
    return f"{simulator_url.rstrip('/')}/{PREFIX[kind]}/{channel_id}"


def world_from_config(
    seed: int, config: ChannelsConfig, end: date | None = None, **overrides
) -> World:
    return World(spec_from_config(seed, config, end=end, **overrides))


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


class SimulatorApp:
    def __init__(
        self, world: World, faults: list[Fault] | None = None, landing=None, reference=None
    ):
        from omnichannel.simulator import amazon_sp, ga4, shopify, woocommerce

        self.world = world
        self.now: datetime | None = None  # None: wall-clock time
        self.faults = FaultBook(world.seed)
        self.touched: dict[int, int] = {}
        # pos_files landing folders: a dict channel_id -> folder, or one root for all
        self.landing = landing
        self.reference = reference  # folder for the brand's reference files, or None
        self.handlers = {
            "shopify": shopify,
            "amazon_sp": amazon_sp,
            "woocommerce": woocommerce,
            "ga4": ga4,
        }
        self.kind_state: dict = {}  # per channel: throttle buckets, report jobs
        self.lock = threading.Lock()
        for fault in faults or []:
            self.add_fault(fault)

    def add_fault(self, fault: Fault) -> None:
        """Switch a fault on; one that changes the world (a refund deleted in the shop)
        changes it now, for every later request and for the truth."""
        kinds = WORLD_FAULTS.get(fault.fault)
        if kinds is not None:
            channel = self.world.channels.get(fault.channel_id)
            if channel is None or channel.kind not in kinds:
                raise FaultError(
                    f"fault {fault.fault} applies to channels of kind {', '.join(kinds)}"
                )
            try:
                day = date.fromisoformat(str(fault.day))
            except ValueError as exc:
                raise FaultError(f"fault {fault.fault}: day {fault.day!r} is not a date") from exc
            self.world.delete_refunds(fault.channel_id, day, fault.hours)
        self.faults.add(fault)

    def clear_faults(self) -> None:
        """Switch every fault off, and undo the changes of the world they made."""
        self.faults.clear()
        self.world.restore_refunds()

    def clock(self) -> datetime:
        return self.now or datetime.now(UTC)

    def set_clock(self, now: datetime | None) -> None:
        self.now = now
        self.drop_files()

    def drop_files(self) -> list[Path]:
        """Write the pos_files exports due by now into the landing folders."""
        from omnichannel.simulator import pos_files

        written = []
        if self.reference is not None:
            from omnichannel.simulator import reference

            written += reference.drop(self.world, Path(self.reference), self.clock())
        if self.landing is None:
            return written
        for channel in self.world.channel_list:
            if channel.kind != "pos_files":
                continue
            if isinstance(self.landing, dict):
                folder = self.landing.get(channel.channel_id)
            else:
                folder = Path(self.landing) / channel.channel_id
            if folder is None:
                continue
            file_faults = [f for f in self.faults.faults if f.fault in FILE_FAULTS]
            written += pos_files.drop(self.world, channel, Path(folder), self.clock(), file_faults)
        return written

    def state_for(self, channel_id: str) -> dict:
        with self.lock:
            return self.kind_state.setdefault(channel_id, {})

    def handle(self, request: Request) -> Response:
        try:
            if request.path.startswith("/_simulator/"):
                return self._control(request)
            match = ROUTE.match(request.path)
            if not match:
                return Response.of(404, {"errors": "Not Found"})
            channel = self.world.channels.get(match["channel"])
            kind = KIND_OF_PREFIX[match["prefix"]]
            if channel is None or channel.kind != kind:
                return Response.of(404, {"errors": "Not Found"})
            handler = self.handlers[kind]
            ctx = Context(self, channel, self.clock())
            return handler.handle(ctx, request, match["rest"] or "/")
        except Exception:  # the simulator must answer like a server, not crash the thread
            log.exception("simulator error on %s %s", request.method, request.path)
            return Response.of(500, {"errors": "Internal Server Error (simulator)"})

    def draw_fault(self, ctx: Context, stream: str, page: int) -> Fault | None:
        fault = self.faults.draw(ctx.channel.channel_id, stream, page)
        if fault is not None and fault.fault == "slow":
            wallclock.sleep(fault.seconds)
            return None
        return fault

    def _control(self, request: Request) -> Response:
        path = request.path
        if path == "/_simulator/health":
            return Response.of(
                200,
                {
                    "status": "ok",
                    "seed": self.world.seed,
                    "now": self.clock().isoformat(),
                    "world": [self.world.spec.start.isoformat(), self.world.spec.end.isoformat()],
                    "channels": {c.channel_id: c.kind for c in self.world.channel_list},
                },
            )
        if path == "/_simulator/clock" and request.method == "POST":
            raw = _json_or_none(request.body)
            raw = raw.get("now") if isinstance(raw, dict) else "invalid"
            try:
                now = datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw else None
            except (AttributeError, ValueError):
                return Response.of(400, {"errors": f"now must be ISO 8601, got {raw!r}"})
            if now is not None and now.tzinfo is None:
                return Response.of(400, {"errors": "now must carry a UTC offset"})
            self.set_clock(now)
            return Response.of(200, {"now": self.clock().isoformat()})
        if path == "/_simulator/faults":
            if request.method == "DELETE":
                self.clear_faults()
            elif request.method == "POST":
                body = _json_or_none(request.body)
                try:
                    fault = Fault(**body) if isinstance(body, dict) else None
                except (TypeError, FaultError) as exc:
                    return Response.of(400, {"errors": str(exc)})
                if fault is None or (
                    fault.channel_id != "*" and fault.channel_id not in self.world.channels
                ):
                    return Response.of(400, {"errors": "need a known channel_id and a fault"})
                try:
                    self.add_fault(fault)
                except FaultError as exc:
                    return Response.of(400, {"errors": str(exc)})
            return Response.of(200, {"faults": self.faults.listing()})
        return Response.of(404, {"errors": "Not Found"})


def _json_or_none(body: bytes):
    try:
        return json.loads(body or b"{}")
    except json.JSONDecodeError:
        return None


class Handler(BaseHTTPRequestHandler):
    server: SimulatorHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # route access logs to logging, not stderr
        log.debug("simulator: " + fmt, *args)

    def date_time_string(self, timestamp=None):
        """The Date header tells the simulated time, as a channel's tells its own: clients
        stamp snapshots with it."""
        if timestamp is None:
            timestamp = self.server.app.clock().timestamp()
        return super().date_time_string(timestamp)

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            method=method,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        response = self.server.app.handle(request)
        self.send_response(response.status)
        headers = {"Content-Type": "application/json", **response.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_DELETE(self):
        self._serve("DELETE")


class SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, app: SimulatorApp):
        super().__init__(address, Handler)
        self.app = app


class Simulator:
    """The simulator in a background thread: `with Simulator(world) as sim: sim.url`."""

    def __init__(
        self,
        world: World,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: list[Fault] | None = None,
        landing=None,
        reference=None,
    ):
        self.app = SimulatorApp(world, faults, landing, reference)
        self.httpd = SimulatorHTTPServer((host, port), self.app)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, daemon=True, name="channel-simulator"
        )

    @property
    def state(self) -> SimulatorApp:  # kept for callers of the first version
        return self.app

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def base_url(self, channel_id: str) -> str:
        channel = self.app.world.channels[channel_id]
        return channel_base_url(self.url, channel.kind, channel_id)

    def shop_url(self, channel_id: str) -> str:
        return self.base_url(channel_id)

    def set_clock(self, now: datetime | None) -> None:
        self.app.set_clock(now)

    def add_fault(self, channel_id: str, fault: str, page: int | None = None, **options) -> Fault:
        spec = Fault(channel_id=channel_id, fault=fault, page=page, **options)
        self.app.add_fault(spec)
        return spec

    def clear_faults(self) -> None:
        self.app.clear_faults()

    def start(self) -> Simulator:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.app.world.restore_refunds()  # a world shared with later simulators is as made

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def world_end_for_serving(world_end: date) -> date:
    """A served world reaches at least tomorrow, so wall-clock time always has data."""
    return max(world_end, datetime.now(UTC).date() + timedelta(days=1))


def landing_dirs(config: ChannelsConfig) -> dict[str, Path]:
    """Where each pos_files channel's exports land (landing_path, relative to the project)."""
    from omnichannel import paths

    return {
        c.channel_id: (paths.project_root() / c.landing_path).resolve()
        for c in config.channels
        if c.kind == "pos_files"
    }

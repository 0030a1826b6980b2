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
- GET  /_simulator/health, POST /_simulator/clock {"now": ISO|null} (the world's time) or
  {"advance": seconds} (API time, with simulated_time: a connector's wait),
  GET|POST|DELETE /_simulator/faults (see `faults.py`)
File kinds (files) are drops into landing folders, written on every clock change
(`files/`). Prefixes and credentials per kind: `kinds.py`.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time as wallclock
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from omnichannel import paths
from omnichannel.channels.clock import ADVANCE_HEADER
from omnichannel.config import ChannelsConfig
from omnisim.faults import FILE_FAULTS, WORLD_FAULTS, Fault, FaultBook, FaultError
from omnisim.files import reference
from omnisim.kinds import BY_PREFIX, ROUTE, SIMULATED, channel_base_url, connector_credentials
from omnisim.protocol import Context, Request, Response
from omnisim.spec import simulated_ids, spec_from_config
from omnisim.world import World

log = logging.getLogger(__name__)


def world_from_config(
    seed: int, config: ChannelsConfig, end: date | None = None, **overrides
) -> World:
    return World(spec_from_config(seed, config, end=end, **overrides))


class SimulatorApp:
    def __init__(
        self,
        world: World,
        faults: list[Fault] | None = None,
        landing=None,
        reference=None,
        simulated_time: bool = False,
    ):
        self.world = world
        self.now: datetime | None = None  # None: wall-clock time
        # one channel's own clock, set by a run of that channel (runs of several channels
        # at once each read their channel as at their own interval's end)
        self.channel_now: dict[str, datetime] = {}
        # API time, on which the throttle buckets restore: wall-clock seconds, or (simulated
        # time) seconds that the connectors' waits advance (POST /_simulator/clock
        # {"advance": s}). The world's clock (`now`) is set apart from it: a run reads the
        # world as at its interval's end, however long it waited on the limits.
        self.simulated_time = simulated_time
        self.api_seconds = 0.0
        self.faults = FaultBook(world.seed)
        self.touched: dict[int, int] = {}
        # file channels' landing folders: a dict channel_id -> folder, or one root for all
        self.landing = landing
        self.reference = reference  # folder for the brand's reference files, or None
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

    def clock(self, channel_id: str | None = None) -> datetime:
        return self.channel_now.get(channel_id) or self.now or datetime.now(UTC)

    def api_time(self) -> float:
        return self.api_seconds if self.simulated_time else wallclock.monotonic()

    def advance(self, seconds: float) -> None:
        """A connector waited `seconds` on the simulated clock."""
        with self.lock:
            self.api_seconds += seconds

    def set_clock(self, now: datetime | None, channel_id: str | None = None) -> None:
        """The world's time, or (with channel_id) one channel's until the world's is set."""
        if channel_id is None:
            self.now = now
            self.channel_now.clear()
        elif now is None:
            self.channel_now.pop(channel_id, None)
        else:
            self.channel_now[channel_id] = now
        self.drop_files(channel_id)

    def drop_files(self, only: str | None = None) -> list[Path]:
        """Write the file drops due by now (reference files, store exports) into their
        landing folders: every channel's at its clock, or `only` that channel's."""
        written = []
        if self.reference is not None and only is None:
            written += reference.drop(self.world, Path(self.reference), self.clock())
        if self.landing is None:
            return written
        for channel in self.world.channel_list:
            drop = SIMULATED[channel.kind].drop
            if drop is None or only not in (None, channel.channel_id):
                continue
            if isinstance(self.landing, dict):
                folder = self.landing.get(channel.channel_id)
            else:
                folder = Path(self.landing) / channel.channel_id
            if folder is None:
                continue
            file_faults = [f for f in self.faults.faults if f.fault in FILE_FAULTS]
            now = self.clock(channel.channel_id)
            written += drop(self.world, channel, Path(folder), now, file_faults)
        return written

    def state_for(self, channel_id: str) -> dict:
        with self.lock:
            return self.kind_state.setdefault(channel_id, {})

    def handle(self, request: Request) -> Response:
        try:
            # a client's waits since its last request (the library's clock sends them):
            # API time advances by them before the request is answered
            advance = request.headers.get(ADVANCE_HEADER.lower())
            if advance is not None and self.simulated_time:
                try:
                    seconds = float(advance)
                except ValueError:
                    seconds = math.nan
                if not math.isfinite(seconds) or seconds < 0:
                    return Response.of(400, {"errors": f"{ADVANCE_HEADER}: {advance!r}"})
                self.advance(seconds)
            if request.path.startswith("/_simulator/"):
                return self._control(request)
            match = ROUTE.match(request.path)
            if not match:
                return Response.of(404, {"errors": "Not Found"})
            channel = self.world.channels.get(match["channel"])
            kind = BY_PREFIX[match["prefix"]]
            if channel is None or channel.kind != kind.kind:
                return Response.of(404, {"errors": "Not Found"})
            ctx = Context(self, channel, self.clock(channel.channel_id))
            return kind.app.handle(ctx, request, match["rest"] or "/")
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
                    "api_seconds": self.api_seconds if self.simulated_time else None,
                    "world": [self.world.spec.start.isoformat(), self.world.spec.end.isoformat()],
                    "channels": {c.channel_id: c.kind for c in self.world.channel_list},
                },
            )
        if path == "/_simulator/clock" and request.method == "POST":
            raw = _json_or_none(request.body)
            if isinstance(raw, dict) and "advance" in raw:
                return self._advance(raw["advance"])
            channel_id = raw.get("channel") if isinstance(raw, dict) else None
            if channel_id is not None and channel_id not in self.world.channels:
                return Response.of(400, {"errors": f"unknown channel {channel_id!r}"})
            raw = raw.get("now") if isinstance(raw, dict) else "invalid"
            try:
                now = datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw else None
            except (AttributeError, ValueError):
                return Response.of(400, {"errors": f"now must be ISO 8601, got {raw!r}"})
            if now is not None and now.tzinfo is None:
                return Response.of(400, {"errors": "now must carry a UTC offset"})
            self.set_clock(now, channel_id)
            return Response.of(200, {"now": self.clock(channel_id).isoformat()})
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

    def _advance(self, seconds) -> Response:
        if not self.simulated_time:
            return Response.of(409, {"errors": "this simulator runs on wall-clock time"})
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
            return Response.of(400, {"errors": f"advance takes seconds >= 0, got {seconds!r}"})
        self.advance(float(seconds))
        return Response.of(200, {"api_seconds": self.api_seconds})


def _json_or_none(body: bytes):
    try:
        return json.loads(body or b"{}")
    except json.JSONDecodeError:
        return None


class Handler(BaseHTTPRequestHandler):
    server: SimulatorHTTPServer
    protocol_version = "HTTP/1.1"
    # headers and body go out in separate writes: with Nagle's algorithm the body waits for
    # the client's delayed ACK of the headers, ~40 ms on every request of a kept-alive
    # connection (most of a connector's wall time against the simulator)
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # route access logs to logging, not stderr
        log.debug("simulator: " + fmt, *args)

    def date_time_string(self, timestamp=None):
        """The Date header tells the simulated time, as a channel's tells its own: clients
        stamp snapshots with it."""
        if timestamp is None:
            match = ROUTE.match(urlsplit(self.path).path)  # the channel's own clock
            timestamp = self.server.app.clock(match and match["channel"]).timestamp()
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
        simulated_time: bool = False,
    ):
        self.app = SimulatorApp(world, faults, landing, reference, simulated_time)
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

    def credentials(self, channel):
        """A connector's credentials for a configured channel, pointing at this simulator."""
        return connector_credentials(channel, self.url)

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
    """Where each simulated file channel's drops land (landing_path, relative to the
    project); the brand's own files channels are not written to."""
    played = simulated_ids(config)
    return {
        c.channel_id: (paths.project_root() / c.landing_path).resolve()
        for c in config.channels
        if SIMULATED[c.kind].drop is not None and c.channel_id in played
    }

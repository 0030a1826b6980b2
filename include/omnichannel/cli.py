"""`omni`: the one command-line entry point."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from datetime import date

from omnichannel import __version__

TRUTH_TABLES = ("daily", "sku_daily", "inventory", "replenishments", "fx", "catalogue")


def _cmd_warehouse(args) -> int:
    from omnichannel import warehouse

    if args.action == "start":
        warehouse.start()
        print(json.dumps(warehouse.status()))
    elif args.action == "stop":
        print("stopped" if warehouse.stop() else "not running (or external)")
    elif args.action == "status":
        status = warehouse.status()
        print(json.dumps(status))
        return 0 if status["running"] else 3
    elif args.action == "url":
        print(warehouse.url())
    elif args.action == "bi-url":
        from omnichannel.bi import reader_url

        print(reader_url())
    return 0


def _cmd_demo(args) -> int:
    from omnichannel.demo import ledger_balances, run_demo, summary

    result = run_demo(days=args.days, seed=args.seed, reset=args.reset, faults=args.faults)
    print(summary(result))
    if args.faults:  # the mart differs by design; every row must still be accounted for
        return 0 if ledger_balances() else 1
    return 1 if result.mismatches else 0


def _world_spec(args, end: date | None = None):
    from omnichannel.config import load_channels
    from omnisim.spec import spec_from_config

    knobs = {k: getattr(args, k) for k in ("days", "skus", "customers") if getattr(args, k)}
    return spec_from_config(args.seed, load_channels(), end=end, **knobs)


def _world(args, end: date | None = None):
    from omnisim.world import World

    return World(_world_spec(args, end))


def _faults(args) -> list:
    from omnisim.faults import Fault
    from omnisim.spec import fault_profile

    faults = fault_profile() if args.faults else []
    return faults + [Fault.parse(text) for text in args.fault or []]


def _reference(args, config):
    from pathlib import Path

    from omnichannel.reference import reference_dir

    return Path(args.landing) / "reference" if args.landing else reference_dir(config)


def _landing(args, config) -> dict:
    from pathlib import Path

    from omnisim.server import landing_dirs

    dirs = landing_dirs(config)
    if args.landing:  # one root for all pos_files channels: <root>/<channel_id>
        return {channel_id: Path(args.landing) / channel_id for channel_id in dirs}
    return dirs


def _cmd_simulate(args) -> int:
    from omnichannel.config import load_channels

    if args.action == "faults":
        from omnisim import faults

        print(faults.__doc__)
        return 0
    if args.action == "truth":
        from omnisim.truth import truth_table

        if args.end < args.start:
            print("error: --end is before --start", file=sys.stderr)
            return 2
        world = _world(args, end=args.end if not args.days else None)
        sys.stdout.write(truth_table(world, args.table, args.start, args.end))
        return 0
    from datetime import UTC, datetime

    from omnisim.server import (
        Simulator,
        world_end_for_serving,
    )

    config = load_channels()
    if args.action == "files":
        from omnisim.server import SimulatorApp

        until = datetime.combine(args.end, datetime.min.time(), UTC)
        app = SimulatorApp(
            _world(args, end=args.end),
            _faults(args),
            _landing(args, config),
            reference=_reference(args, config),
        )
        app.now = until
        written = app.drop_files()
        print(f"{len(written)} files written for days before {args.end}")
        return 0
    started = time.monotonic()
    world = _world(args, end=world_end_for_serving(_world_spec(args).end))
    simulator = Simulator(
        world,
        host=args.host,
        port=args.port,
        faults=_faults(args),
        landing=_landing(args, config),
        reference=_reference(args, config),
    ).start()
    simulator.app.drop_files()
    print(
        f"channel simulator (seed {args.seed}, {world.spec.start} .. {world.spec.end}, "
        f"{len(world.orders):,} orders, built in {time.monotonic() - started:.1f}s) "
        f"on {simulator.url}",
        flush=True,
    )
    for channel in world.channel_list:
        where = (
            _landing(args, config).get(channel.channel_id)
            if channel.kind == "pos_files"
            else simulator.base_url(channel.channel_id)
        )
        print(f"  {channel.channel_id:<16} {channel.kind:<12} {where}", flush=True)
    for fault in simulator.app.faults.listing():
        print(f"  fault: {fault}", flush=True)
    try:
        while True:
            time.sleep(60)
            simulator.app.drop_files()  # on wall-clock time, exports appear every morning
    except KeyboardInterrupt:
        simulator.stop()
    return 0


def _cmd_quarantine(args) -> int:
    import json

    from omnichannel import runtime, warehouse
    from omnichannel.load import quarantine, schema

    runtime.apply()
    with warehouse.connect(autocommit=True) as conn:
        schema.ensure_base(conn)
        if args.action == "list":
            rows = quarantine.list_batches(conn, args.channel)
            print(f"{'batch':>7}  {'channel/stream':<28} {'status':<10} {'open':>6} "
                  f"{'released':>8}  reasons")  # fmt: skip
            for r in rows:
                where = f"{r['channel_id']}/{r['stream']}"
                print(f"{r['batch_id']:>7}  {where:<28} {r['status']:<10} {r['open']:>6} "
                      f"{r['released']:>8}  {r['reasons']}")  # fmt: skip
            if not rows:
                print("quarantine is empty")
            return 0
        if args.batch is None:
            raise ValueError(f"quarantine {args.action} needs a batch id")
        if args.action == "show":
            for r in quarantine.show_batch(conn, args.batch, args.limit):
                state = f"released to batch {r['released_to']}" if r["released_at"] else "open"
                print(f"{r['record_key']} (page {r['page_no']}, record {r['record_no']}): {state}")
                for reason in r["reasons"]:
                    column = f"({reason['column']})" if reason.get("column") else ""
                    print(f"    {reason['expectation']}{column}: "
                          f"{json.dumps(reason.get('observed'), default=str)[:300]}")  # fmt: skip
                if args.records and r["record"]:
                    print(f"    record: {json.dumps(r['record'], default=str)}")
            return 0
        batch = conn.execute(
            "select channel_id from ops.load_batches where batch_id = %s", (args.batch,)
        ).fetchone()
    if batch is None:
        raise LookupError(f"batch {args.batch} is not in ops.load_batches")
    from omnichannel.config import load_channels
    from omnichannel.pipeline import replay

    published = replay(load_channels().get(batch[0]), args.batch, args.accept, args.by)
    print(
        f"batch {published.batch_id} replayed batch {args.batch}: "
        f"{published.rows_published} rows published, "
        f"{published.rows_quarantined} quarantined again"
    )
    return 0


def _cmd_reference(args) -> int:
    from pathlib import Path

    from omnichannel.config import load_channels
    from omnichannel.reference import load_reference, reference_dir

    folder = Path(args.path) if args.path else reference_dir(load_channels())
    loaded = load_reference(folder)
    print(f"{folder}: {loaded.products} products, {loaded.fx_rates} FX rates loaded")
    return 0


def _cmd_forecast(args) -> int:
    from tqdm import tqdm

    from omnichannel.forecast.run import run

    stages = 3 if args.action == "run" else 2
    with tqdm(total=stages, desc="forecast", unit="step", leave=False) as bar:

        def progress(stage: str) -> None:
            bar.set_description(stage)
            bar.update(1)

        summary = run(
            horizon=args.horizon,
            origins=args.origins,
            write=args.action == "run",
            progress=progress,
        )
    print(summary.text())
    if args.action == "run" and summary.run_id:
        print("next: dbt build --select tag:forecast (the forecast_demand DAG does it)")
    return 0


def _cmd_alerts(args) -> int:
    from omnichannel import alerts, warehouse

    if args.action == "deliver":
        print(f"{alerts.deliver_pending()} messages sent")
        return 0
    if args.action == "digest":
        print(f"{alerts.send_digest()} digest messages sent")
        return 0
    if args.action == "list":
        with warehouse.connect() as conn:
            statuses = alerts.OPEN if not args.all else ("open", "acknowledged", "resolved")
            rows = alerts.list_alerts(conn, statuses)
        for a in rows:
            where = "/".join(x for x in (a["channel_id"], a["stream"]) if x) or a["dag_id"] or "-"
            print(
                f"#{a['alert_id']:<5} {a['severity']:<8} {a['kind']:<12} {where:<28} "
                f"x{a['occurrences']:<3} {a['status']:<12} {a['message']}"
            )
        print(f"{len(rows)} alerts")
        return 0
    if args.id is None or not args.by:
        raise SystemExit(f"omni alerts {args.action} needs an alert id and --by NAME")
    change = alerts.acknowledge if args.action == "ack" else alerts.close
    with warehouse.connect() as conn:
        done = change(conn, args.id, args.by)
        conn.commit()
    if not done:
        raise SystemExit(f"alert {args.id}: no such open alert")
    print(f"alert {args.id} {'acknowledged' if args.action == 'ack' else 'resolved'} by {args.by}")
    return 0


def _cmd_dq_docs(args) -> int:
    from pathlib import Path

    from omnichannel import paths, runtime, warehouse
    from omnichannel.load import schema
    from omnichannel.quality import docs

    runtime.apply()
    out = Path(args.out) if args.out else paths.local_dir() / "dq-docs"
    with warehouse.connect(autocommit=True) as conn:
        schema.ensure_base(conn)
        index = docs.build(conn, out)
    print(f"GX Data Docs: {index}")
    return 0


def _cmd_extract(args) -> int:
    """Run a connector for a span of days outside Airflow, through the same library code."""
    from omnichannel import runtime
    from omnichannel.config import load_channels
    from omnichannel.kinds import extracted_streams
    from omnichannel.pipeline import day_intervals, run_interval

    runtime.apply()
    channel = load_channels().get(args.channel_id)
    streams = [args.stream] if args.stream else list(extracted_streams(channel))
    unknown = [s for s in streams if s not in extracted_streams(channel)]
    if unknown:
        print(f"error: {channel.channel_id} has no extracted stream {unknown}", file=sys.stderr)
        return 2
    credentials = _credentials(channel, args.simulator)
    failed = 0
    for interval in day_intervals(channel, args.start, args.end):
        day = interval.start.astimezone(channel.tz).date()
        for stream in streams:
            try:
                batch = run_interval(channel, stream, interval, credentials, run_id="omni-extract")
                print(
                    f"{day} {stream}: batch {batch.batch_id} {batch.status}, "
                    f"{batch.rows_received} received, {batch.rows_published} published"
                )
            except Exception as exc:  # report and go on with the next stream
                failed += 1
                print(f"{day} {stream}: FAILED {exc}", file=sys.stderr)
    return 1 if failed else 0


def _credentials(channel, simulator_url: str | None):

    if simulator_url:
        from omnisim.kinds import connector_credentials

        return connector_credentials(channel, simulator_url)
    from omnichannel.orchestration import credentials_for

    return credentials_for(channel)  # the Airflow connection (AIRFLOW_CONN_* works too)


def _cmd_dbt_parse(_args) -> int:
    from omnichannel import runtime

    runtime.apply()
    print(runtime.dbt_parse())
    return 0


def _cmd_deploy(args) -> int:
    from omnichannel import deploy, metabase, runtime

    runtime.apply()
    if args.action == "metabase":
        database_id = metabase.setup(metabase.Settings.from_env())
        print(f"Metabase reads the marts as bi_reader (database {database_id})")
        return 0
    deploy.init()
    print("stack initialised: warehouse roles, tables, pools, connections, dbt manifest")
    return 0


def _cmd_env(args) -> int:
    """Print the environment for Airflow/dbt as shell exports (used by `make airflow`)."""
    import shlex

    from omnichannel import runtime

    env = runtime.apply()
    if args.simulator:
        from omnichannel.config import load_channels
        from omnisim.kinds import airflow_connections

        env.update(airflow_connections(load_channels().channels, args.simulator))
    if args.migrate:
        runtime.migrate_airflow_db()
        runtime.dbt_parse()
    for key, value in sorted(env.items()):
        print(f"export {key}={shlex.quote(value)}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="omni", description=__doc__)
    p.add_argument("--version", action="version", version=__version__)
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)

    w = sub.add_parser("warehouse", help="the embedded PostgreSQL (or OMNI_WAREHOUSE_URL)")
    w.add_argument("action", choices=["start", "stop", "status", "url", "bi-url"])
    w.set_defaults(func=_cmd_warehouse)

    d = sub.add_parser("demo", help="run the pipeline through Airflow on simulated days")
    d.add_argument("--days", type=int, default=7)
    d.add_argument("--seed", type=int, default=42)
    d.add_argument(
        "--reset",
        action="store_true",
        help="drop what the pipeline wrote first (after another seed or `make airflow`)",
    )
    d.add_argument(
        "--faults",
        action="store_true",
        help="switch on the simulator's fault profile (rate limits, 5xx, duplicates, bad rows)",
    )
    d.set_defaults(func=_cmd_demo)

    s = sub.add_parser(
        "simulate",
        help="the channel simulator",
        description="serve: every channel's API (pos_files: exports into landing folders); "
        "truth: ground truth as CSV; files: write the store exports up to --end; "
        "faults: the documented faults",
    )
    s.add_argument("action", choices=["serve", "truth", "files", "faults"])
    s.add_argument("--seed", type=int, default=42)
    s.add_argument("--start", type=date.fromisoformat, default=date(2026, 10, 1))
    s.add_argument("--end", type=date.fromisoformat, default=date(2026, 10, 7))
    s.add_argument("--table", choices=TRUTH_TABLES, default="daily", help="truth table")
    s.add_argument("--days", type=int, help="world size: simulated days (simulator.yml)")
    s.add_argument("--skus", type=int, help="world size: catalogue SKUs")
    s.add_argument("--customers", type=int, help="world size: customer base")
    s.add_argument(
        "--faults", action="store_true", help="switch on the fault profile of simulator.yml"
    )
    s.add_argument(
        "--fault",
        action="append",
        metavar="SPEC",
        help="one fault, channel:fault[:key=value,...], e.g. amazon_de:rate_limit:count=3",
    )
    s.add_argument(
        "--landing", metavar="DIR", help="pos_files exports under DIR/<channel_id> instead"
    )
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8765)
    s.set_defaults(func=_cmd_simulate)

    e = sub.add_parser("env", help="print Airflow/dbt environment as shell exports")
    e.add_argument("--migrate", action="store_true", help="also migrate Airflow DB, parse dbt")
    e.add_argument(
        "--simulator",
        metavar="URL",
        help="also Airflow connections sending every channel to the simulator at URL",
    )
    e.set_defaults(func=_cmd_env)

    x = sub.add_parser(
        "extract",
        help="run a channel's connector for local days START..END outside Airflow",
    )
    x.add_argument("channel_id")
    x.add_argument("--stream", help="one stream (default: every extracted stream)")
    x.add_argument("--start", type=date.fromisoformat, required=True)
    x.add_argument("--end", type=date.fromisoformat, required=True)
    x.add_argument(
        "--simulator", metavar="URL", help="read from the channel simulator at URL instead"
    )
    x.set_defaults(func=_cmd_extract)

    q = sub.add_parser(
        "quarantine",
        help="review quarantined rows and re-publish them",
        description="list: batches with quarantined rows; show BATCH: the rows and why; "
        "replay BATCH: publish the open rows again through the gate (after a fix), or "
        "with --accept without it (an explicit decision, recorded with --by)",
    )
    q.add_argument("action", choices=["list", "show", "replay"])
    q.add_argument("batch", type=int, nargs="?")
    q.add_argument("--channel", help="list: one channel instance")
    q.add_argument("--limit", type=int, default=50, help="show: at most this many rows")
    q.add_argument("--records", action="store_true", help="show: the rows' columns too")
    q.add_argument("--accept", action="store_true", help="replay: publish without the gate")
    q.add_argument("--by", default=os.environ.get("USER", "ops"), help="replay: who decided")
    q.set_defaults(func=_cmd_quarantine)

    dd = sub.add_parser(
        "dq-docs", help="build GX Data Docs (static HTML) from the gate's latest results"
    )
    dd.add_argument("--out", help="output folder (default .local/dq-docs)")
    dd.set_defaults(func=_cmd_dq_docs)

    r = sub.add_parser(
        "reference", help="load the product master and FX rates (products.csv, fx_rates.csv)"
    )
    r.add_argument("action", choices=["load"])
    r.add_argument("--path", help="folder of the files (default: reference_path in channels.yml)")
    r.set_defaults(func=_cmd_reference)

    f = sub.add_parser(
        "forecast",
        help="demand forecasts per SKU × channel: run (backtest, forecast, write) or backtest",
    )
    f.add_argument("action", choices=["run", "backtest"])
    f.add_argument("--horizon", type=int, default=28, help="days to forecast (default 28)")
    f.add_argument("--origins", type=int, default=4, help="weekly backtest origins (default 4)")
    f.set_defaults(func=_cmd_forecast)

    a = sub.add_parser(
        "alerts", help="ops alerts: list, ack, resolve, deliver pending, send the digest"
    )
    a.add_argument("action", choices=["list", "ack", "resolve", "deliver", "digest"])
    a.add_argument("id", nargs="?", type=int, help="alert id (ack, resolve)")
    a.add_argument("--by", help="who acknowledges or resolves (ack, resolve)")
    a.add_argument("--all", action="store_true", help="list resolved alerts too")
    a.set_defaults(func=_cmd_alerts)

    dp = sub.add_parser("dbt-parse", help="write the dbt manifest cosmos renders from")
    dp.set_defaults(func=_cmd_dbt_parse)

    dep = sub.add_parser(
        "deploy",
        help="production stack: init (docker compose's airflow-init), metabase (the BI "
        "tool's admin and the marts as bi_reader)",
    )
    dep.add_argument("action", choices=["init", "metabase"])
    dep.set_defaults(func=_cmd_deploy)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "great_expectations"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return args.func(args)
    except Exception as exc:  # a clear one-line error for the CLI user, details with -v
        if args.verbose:
            raise
        print(f"omni {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

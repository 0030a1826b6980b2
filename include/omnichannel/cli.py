"""`omni`: the one command-line entry point."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from datetime import date

from omnichannel import __version__


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
    return 0


def _cmd_demo(args) -> int:
    from omnichannel.demo import run_demo, summary

    result = run_demo(days=args.days, seed=args.seed, reset=args.reset)
    print(summary(result))
    return 1 if result.mismatches else 0


def _world(seed: int):
    from omnichannel.config import load_channels
    from omnichannel.simulator.server import world_from_config

    return world_from_config(seed, load_channels())


def _cmd_simulate(args) -> int:
    if args.action == "truth":
        from omnichannel.simulator.truth import daily_truth, truth_csv

        if args.end < args.start:
            print("error: --end is before --start", file=sys.stderr)
            return 2
        sys.stdout.write(truth_csv(daily_truth(_world(args.seed), args.start, args.end)))
        return 0
    from omnichannel.simulator.server import Simulator

    simulator = Simulator(_world(args.seed), host=args.host, port=args.port).start()
    print(f"channel simulator (seed {args.seed}) on {simulator.url}", flush=True)
    for channel_id in simulator.state.world.channels:
        print(f"  {channel_id}: {simulator.shop_url(channel_id)}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        simulator.stop()
    return 0


def _cmd_dbt_parse(_args) -> int:
    from omnichannel import runtime

    runtime.apply()
    print(runtime.dbt_parse())
    return 0


def _cmd_env(args) -> int:
    """Print the environment for Airflow/dbt as shell exports (used by `make airflow`)."""
    import shlex

    from omnichannel import runtime

    env = runtime.apply()
    if args.simulator:
        from omnichannel.config import load_channels

        env.update(runtime.simulator_connections(load_channels().channels, args.simulator))
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
    w.add_argument("action", choices=["start", "stop", "status", "url"])
    w.set_defaults(func=_cmd_warehouse)

    d = sub.add_parser("demo", help="run the pipeline through Airflow on simulated days")
    d.add_argument("--days", type=int, default=7)
    d.add_argument("--seed", type=int, default=42)
    d.add_argument(
        "--reset",
        action="store_true",
        help="drop what the pipeline wrote first (after another seed or `make airflow`)",
    )
    d.set_defaults(func=_cmd_demo)

    s = sub.add_parser("simulate", help="the channel simulator")
    s.add_argument("action", choices=["serve", "truth"])
    s.add_argument("--seed", type=int, default=42)
    s.add_argument("--start", type=date.fromisoformat, default=date(2026, 10, 1))
    s.add_argument("--end", type=date.fromisoformat, default=date(2026, 10, 7))
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

    dp = sub.add_parser("dbt-parse", help="write the dbt manifest cosmos renders from")
    dp.set_defaults(func=_cmd_dbt_parse)
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

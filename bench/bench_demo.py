"""The demo pipeline at length: `omni demo`'s path for 90 days × every configured channel
and stream, through the real DAGs, on the simulated clock.

In one run:

1. the baseline, the per-day driver: an extract run per channel and day, then the
   transform and forecast runs, every day (what the demo did before catch-up runs), on
   `--baseline-days` days, scaled to `--days`;
2. the demo's path: one catch-up run per channel over all days but the last (each
   stream's tasks mapped over chunks of days, one batch per stream and day), one
   transform, then the last day as a daily run would go.

Both start from a reset warehouse, after set-up (venv, Airflow metadata database, dbt
parse: `make demo` once). Both end with the truth check; a mismatch fails the benchmark.

    .venv/bin/python bench/bench_demo.py [--days 90] [--baseline-days 7] [--seed 42]

It drops and rebuilds the pipeline schemas of the warehouse it points at (the demo's).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from omnichannel import warehouse
from omnichannel.cli.demo import DemoResult, run_demo
from omnichannel.cli.progress import Output, Progress


def ledger_figures() -> dict:
    with warehouse.connect() as conn:
        [(batches, rows, calls, waited)] = conn.execute(
            """select count(*), coalesce(sum(rows_received), 0), coalesce(sum(api_calls), 0),
                      coalesce(sum(api_wait_seconds), 0)
               from ops.load_batches"""
        ).fetchall()
    return {"batches": batches, "rows": rows, "calls": calls, "waited": float(waited)}


def timed(output: Output, label: str, **options) -> tuple[DemoResult, dict, float]:
    output.say(label)
    started = time.monotonic()
    result = run_demo(reset=True, progress=Progress(output), **options)
    seconds = time.monotonic() - started
    if result.mismatches:
        raise SystemExit(f"{label}: the marts differ from the truth: {result.mismatches[:3]}")
    return result, ledger_figures(), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--baseline-days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    log_path = warehouse.local_dir() / "logs" / f"bench-demo-{stamp}.log"
    with Output(log_path, verbose=False) as output:  # Airflow's, dbt's, GX's logs: the file
        output.say(f"logs in {log_path}")
        report(output, args)


def report(output: Output, args) -> None:
    print = output.say  # noqa: A001  (the terminal, past the log redirection)
    base, base_ledger, base_seconds = timed(
        output,
        f"baseline: per-day driver, {args.baseline_days} days",
        days=args.baseline_days,
        seed=args.seed,
        history_days=0,
        daily_days=args.baseline_days,
    )
    demo, demo_ledger, demo_seconds = timed(
        output,
        f"demo: catch-up + 1 daily day, {args.days} days",
        days=args.days,
        seed=args.seed,
        history_days=0,
        daily_days=1,
    )
    scaled = base_seconds * args.days / args.baseline_days
    print("")
    print(f"{'path':<52}{'days':>6}{'batches':>9}{'rows':>10}{'seconds':>9}{'s/day':>7}")
    for label, days, ledger, seconds in (
        ("baseline: per-day driver", args.baseline_days, base_ledger, base_seconds),
        (f"baseline scaled to {args.days} days", args.days, None, scaled),
        (
            "demo: catch-up runs, one transform, last day daily",
            args.days,
            demo_ledger,
            demo_seconds,
        ),
    ):
        batches = f"{ledger['batches']:>9,}" if ledger else f"{'':>9}"
        rows = f"{ledger['rows']:>10,}" if ledger else f"{'':>10}"
        print(f"{label:<52}{days:>6}{batches}{rows}{seconds:>9.0f}{seconds / days:>7.2f}")
    print("")
    print(
        f"demo: {demo_seconds / 60:.1f} min for {args.days} days (target ≤ 5 min), "
        f"{scaled / demo_seconds:.1f}× faster than the per-day driver scaled; truth check "
        f"passed for {len(demo.truth)} channel-days"
    )
    print(
        f"channel APIs in the demo: {demo_ledger['calls']:,} calls, "
        f"{demo_ledger['waited'] / 3600:.1f} h waiting on their rate limits (simulated clock)"
    )


if __name__ == "__main__":
    main()

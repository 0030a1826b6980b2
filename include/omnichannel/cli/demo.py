"""`omni demo`: the pipeline for a span of simulated days, through the real Airflow DAGs.

Here (and in `simulate`) the CLI wires the simulator to the library.

The simulator runs in this process; its clock is set to the end of each interval before
that interval's DAG run, so every run sees the channel as it was at that moment (orders
change later: fulfilment, cancellations, refunds). Runs go through `dag.test()`, which
creates real DAG runs in the Airflow metadata database.
"""

from __future__ import annotations

import os
import time as clock
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import typer

from omnichannel import runtime, warehouse
from omnichannel.airflow.runs import load_dags, run_dag
from omnichannel.config import ChannelsConfig, load_channels
from omnichannel.kinds import extracted_channels
from omnichannel.load.ledger import every_batch_balances
from omnichannel.pipeline import local_day_interval
from omnichannel.reference import reference_dir
from omnisim.kinds import airflow_connections
from omnisim.server import Simulator, landing_dirs, world_from_config
from omnisim.spec import fault_profile
from omnisim.truth import TruthRow, daily_truth


@dataclass(frozen=True)
class DemoResult:
    first_day: date
    last_day: date
    truth: list[TruthRow]
    mart: dict[tuple[str, date], tuple[int, Decimal, Decimal]]
    seconds: float
    faults: bool = False

    @property
    def mismatches(self) -> list[str]:
        out = []
        for row in self.truth:
            got = self.mart.get((row.channel_id, row.order_date))
            want = (row.orders_count, row.gmv, row.net_revenue)
            if got != want:
                out.append(f"{row.channel_id} {row.order_date}: mart {got} != truth {want}")
        return out


def demo_span(config: ChannelsConfig, days: int) -> tuple[date, date]:
    first = min(c.start_date for c in config.channels)
    return first, first + timedelta(days=days - 1)


def run_demo(
    days: int,
    seed: int,
    echo=print,
    reset: bool = False,
    faults: bool = False,
    transform: bool = True,
) -> DemoResult:
    """The pipeline through the real DAGs on simulated days. With `faults`, the simulator's
    fault profile (simulator.yml) is on: the gate quarantines bad rows or holds a batch,
    which fails that run of the extract DAG without stopping the demo, and the mart then
    differs from the truth by what is in quarantine."""
    started = clock.monotonic()
    config = load_channels()
    first, last = demo_span(config, days)
    echo(f"warehouse: {warehouse.status()['url']}")
    runtime.apply()
    if reset:
        echo("reset: dropping " + ", ".join(warehouse.PIPELINE_SCHEMAS))
        warehouse.reset()
    runtime.migrate_airflow_db()
    runtime.dbt_parse()
    world = world_from_config(
        seed, config, end=max(last + timedelta(days=1), first + timedelta(days=119))
    )
    extracted = extracted_channels(config)
    profile = fault_profile() if faults else None
    reference = reference_dir(config)
    with Simulator(
        world, landing=landing_dirs(config), faults=profile, reference=reference
    ) as simulator:
        os.environ.update(airflow_connections(config.channels, simulator.url))
        dags = load_dags()
        for n in range((last - first).days + 1):
            day = first + timedelta(days=n)
            for channel in extracted:
                if day < channel.start_date:
                    continue
                end = local_day_interval(channel, day).end
                simulator.set_clock(end)
                echo(f"extract  {channel.channel_id} {day} (simulator clock {end.isoformat()})")
                # dag.test() takes the interval that ends at the logical date it is given
                if not run_dag(dags[f"extract_{channel.channel_id}"], end, may_fail=faults):
                    echo(
                        f"         {channel.channel_id} {day}: a batch held (omni quarantine list)"
                    )
        if transform:
            echo("transform dbt (cosmos)")
            run_dag(dags["transform_dbt"], None)
            echo("forecast demand, replenishment plan")
            run_dag(dags["forecast_demand"], None)
    ids = {c.channel_id for c in extracted}
    truth = [row for row in daily_truth(world, first, last) if row.channel_id in ids]
    return DemoResult(first, last, truth, read_mart(), clock.monotonic() - started, faults)


def read_mart() -> dict[tuple[str, date], tuple[int, Decimal, Decimal]]:
    """The daily KPIs per channel and day (empty before the first transform)."""
    with warehouse.connect() as conn:
        [(built,)] = conn.execute("select to_regclass('marts.mart_channel_daily_kpis')")
        if built is None:
            return {}
        rows = conn.execute(
            "select channel_id, order_date, orders_count, gmv, net_revenue "
            "from marts.mart_channel_daily_kpis"
        ).fetchall()
    return {(r[0], r[1]): (r[2], r[3], r[4]) for r in rows}


def summary(result: DemoResult) -> str:
    with warehouse.connect() as conn:
        rows = conn.execute(
            """select channel_id, currency, sum(orders_count), sum(gmv), sum(net_revenue),
                      round(sum(gmv - discounts) / nullif(sum(orders_count), 0), 2)
               from marts.mart_channel_daily_kpis
               where order_date between %s and %s
               group by channel_id, currency order by channel_id""",
            (result.first_day, result.last_day),
        ).fetchall()
        batches = conn.execute(
            "select status, count(*) from ops.load_batches group by status order by status"
        ).fetchall()
        quality = conn.execute(
            """select coalesce(sum(rows_received), 0), coalesce(sum(rows_published), 0),
                      coalesce(sum(rows_quarantined), 0),
                      count(*) filter (where rows_received
                                       <> rows_published + coalesce(rows_quarantined, 0))
               from ops.load_batches where status in ('published', 'held')"""
        ).fetchone()
    lines = [
        f"KPIs {result.first_day} .. {result.last_day} (channel's local days)",
        f"{'channel':<14}{'cur':<5}{'orders':>8}{'GMV':>14}{'net revenue':>14}{'AOV':>9}",
    ]
    for channel_id, currency, orders, gmv, net, aov in rows:
        lines.append(
            f"{channel_id:<14}{currency:<5}{orders:>8}{gmv:>14,.2f}{net:>14,.2f}{aov:>9,.2f}"
        )
    if not result.mismatches:
        check = "mart equals `omni simulate truth` for every channel and day"
    elif result.faults:
        check = (
            f"faults on: {len(result.mismatches)} channel-days differ from the truth by "
            "what the gate held back (see quarantine below)"
        )
    else:
        check = "MISMATCH:\n  " + "\n  ".join(result.mismatches)
    lines += [
        f"check: {check}",
        "batches: " + ", ".join(f"{status} {count}" for status, count in batches),
        f"rows: {quality[0]:,} received = {quality[1]:,} published + {quality[2]:,} "
        f"quarantined ({'every batch adds up' if not quality[3] else f'{quality[3]} do NOT'})",
        f"took {result.seconds:.0f}s",
        "",
        "where to look:",
        '  psql "$(.venv/bin/omni warehouse url)" \\',
        "       -c 'select * from marts.mart_channel_daily_kpis order by 1, 2'",
        "  tables: raw.<kind>__<stream>, ops.load_batches, ops.dq_results, ops.schema_drift, "
        "quarantine.records, ops.alerts",
        "  .venv/bin/omni quarantine list    # rows the quality gate held back, and why",
        "  make dq-docs    # GX Data Docs of the latest gate results (.local/dq-docs)",
        "  make airflow    # Airflow UI on http://127.0.0.1:8080 with these DAG runs",
    ]
    return "\n".join(lines)


def cmd_demo(
    days: int = typer.Option(7, help="simulated days"),
    seed: int = typer.Option(42, help="the world's seed"),
    reset: bool = typer.Option(
        False, "--reset", help="drop what the pipeline wrote first (after another seed)"
    ),
    faults: bool = typer.Option(
        False,
        "--faults",
        help="switch on the simulator's fault profile (rate limits, 5xx, duplicates, bad rows)",
    ),
) -> None:
    """Run the pipeline through the real Airflow DAGs on simulated days, then check the
    marts against the simulator's truth."""
    result = run_demo(days=days, seed=seed, reset=reset, faults=faults)
    typer.echo(summary(result))
    # with faults the mart differs by design, but every row must still be accounted for
    balanced = every_batch_balances()
    if not balanced or (result.mismatches and not faults):
        raise typer.Exit(1)


COMMANDS = (cmd_demo,)

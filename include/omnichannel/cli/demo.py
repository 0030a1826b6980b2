"""`omni demo`: the pipeline for a span of simulated days, through the real Airflow DAGs.

Here (and in `simulate`) the CLI wires the simulator to the library.

The simulator runs in this process; its clock is set to the end of each interval before
that interval's DAG run, so every run sees the channel as it was at that moment (orders
change later: fulfilment, cancellations, refunds). Runs go through `dag.test()`, which
creates real DAG runs in the Airflow metadata database.
"""

from __future__ import annotations

import multiprocessing
import os
import time as clock
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import typer

from omnichannel import runtime, warehouse
from omnichannel.airflow.runs import load_dags, run_dag, sync_dags
from omnichannel.channels import clock as clocks
from omnichannel.cli.progress import Output, Progress, last_batch_id
from omnichannel.config import ChannelsConfig, load_channels
from omnichannel.kinds import extracted_channels, extracted_streams
from omnichannel.load.ledger import every_batch_balances
from omnichannel.pipeline import local_day_interval, prepare_all
from omnichannel.reference import reference_dir
from omnisim.kinds import airflow_connections
from omnisim.server import Simulator, landing_dirs, world_from_config
from omnisim.spec import fault_profile, simulated_ids
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


# days the world is simulated before the channels' start_date, loaded by the catch-up: the
# forecast backtest needs its horizon (28 days) plus two weeks of training before an origin
HISTORY_DAYS = 21


def demo_span(config: ChannelsConfig, days: int, history_days: int = 0) -> tuple[date, date]:
    """The first and last local day the demo loads: `history_days` before the channels'
    first start_date, then `days` from it."""
    opened = min(c.start_date for c in config.channels)
    return opened - timedelta(days=history_days), opened + timedelta(days=days - 1)


def run_demo(
    days: int,
    seed: int,
    progress: Progress | None = None,
    reset: bool = False,
    faults: bool = False,
    transform: bool = True,
    daily_days: int = 1,
    history_days: int = HISTORY_DAYS,
    workers: int = 2,
    resume: bool = True,
) -> DemoResult:
    """The pipeline through the real DAGs on simulated days: a catch-up run per channel
    instance over the span but its last `daily_days` (one batch per stream and day, as a
    backfill would), one transform, then the last days as daily runs would go (an extract
    run per channel and day, the incremental transform, forecasts).

    The simulator runs on simulated time: every interval is read as at its end, and the
    connectors' waits on the rate limits advance simulated time instead of sleeping (the
    ledger keeps what they waited: what the same work costs against the channels). With
    `faults`, the simulator's fault profile (simulator.yml) is on: the gate quarantines
    bad rows or holds a batch, which fails that extract run without stopping the demo,
    and the mart then differs from the truth by what is in quarantine."""
    started = clock.monotonic()
    progress = progress or Progress()
    config = load_channels()
    first, last = demo_span(config, days, history_days)
    progress.say(f"warehouse: {warehouse.status()['url']}")
    runtime.apply()
    if reset:
        progress.say("reset: dropping " + ", ".join(warehouse.PIPELINE_SCHEMAS))
        warehouse.reset()
    runtime.migrate_airflow_db()
    runtime.dbt_parse()
    world = world_from_config(
        seed,
        config,
        end=max(last + timedelta(days=1), first + timedelta(days=119)),
        history_days=history_days,
    )
    extracted = extracted_channels(config)
    for own in sorted({c.channel_id for c in extracted} - simulated_ids(config)):
        progress.say(f"{own}: the brand's own files (not simulated): read from its landing "
                     "place, left out of the truth check")  # fmt: skip
    profile = fault_profile() if faults else None
    reference = reference_dir(config)
    daily = [last - timedelta(days=n) for n in reversed(range(min(daily_days, days)))]
    with (
        Simulator(
            world,
            landing=landing_dirs(config),
            faults=profile,
            reference=reference,
            simulated_time=True,
        ) as simulator,
        runtime.environment_overrides(
            {**airflow_connections(config.channels, simulator.url), clocks.ENV: simulator.url}
        ),
    ):
        dags = load_dags()
        prepare_all(config)  # the ledger exists before the first run is watched
        catch_up_last = (daily[0] if daily else last + timedelta(days=1)) - timedelta(days=1)
        runs = []
        for channel in extracted:
            since = max(first, channel.start_date - timedelta(days=history_days))
            loaded = _loaded_through(channel) if resume else None
            if loaded is not None:  # a second demo goes on from where the first ended
                since = max(since, loaded + timedelta(days=1))
            if catch_up_last < since:
                continue
            # no clock set here: each batch's run sets its channel's to the interval's end
            end = local_day_interval(channel, catch_up_last).end
            conf = {"from_date": since.isoformat(), "to_date": catch_up_last.isoformat()}
            batches = len(extracted_streams(channel)) * ((catch_up_last - since).days + 1)
            runs.append((channel, end, conf, batches))
        _catch_up(dags, runs, faults, progress, workers)
        # the world's clock where the catch-up ends (the reference files: FX rates up to
        # then), caught up in this run or an earlier one
        simulator.set_clock(max(local_day_interval(c, catch_up_last).end for c in extracted))
        if transform and catch_up_last >= first:
            _transform(dags, progress)
        for day in daily:
            for channel in extracted:
                if day < channel.start_date:
                    continue
                end = local_day_interval(channel, day).end
                simulator.set_clock(end)
                streams = len(extracted_streams(channel))
                with progress.extract(str(day), channel.channel_id, streams):
                    _extract(dags, channel, end, faults)
            if transform:
                _transform(dags, progress)
    ids = {c.channel_id for c in extracted}
    truth = [row for row in daily_truth(world, first, last) if row.channel_id in ids]
    return DemoResult(first, last, truth, read_mart(), clock.monotonic() - started, faults)


def _loaded_through(channel) -> date | None:
    """The last local day every stream of the channel has published (None: not loaded).
    Reading published days of the same world again changes nothing (a test does it), but
    costs minutes, and near the world's first day it trips the volume band: that day's
    batch is small beside the days after it, whose lookback reads three days of orders."""
    streams = extracted_streams(channel)
    with warehouse.connect() as conn:
        row = conn.execute(
            """select min(last) from (
                   select max(interval_start) as last from ops.load_batches
                   where channel_id = %s and stream = any(%s) and replay_of is null
                     and status in ('published', 'skipped')
                   group by stream) as s
               having count(*) = %s""",
            (channel.channel_id, list(streams), len(streams)),
        ).fetchone()
    return row[0].astimezone(channel.tz).date() if row else None


def _catch_up(dags: dict, runs: list, faults: bool, progress: Progress, workers: int) -> None:
    """The channels' catch-up runs, `workers` at a time, each channel on its own simulated
    clock (in processes of their own: dag.test runs its tasks in the calling process)."""
    since = last_batch_id()
    if workers <= 1 or len(runs) <= 1:
        for channel, end, conf, batches in runs:
            with progress.extract("catch-up", channel.channel_id, batches, since):
                _extract(dags, channel, end, faults, conf)
        return
    sync_dags()  # before two processes' first dag.test() would, at once
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no threads forked
    with ProcessPoolExecutor(workers, mp_context=spawn, initializer=_worker_start) as pool:
        started = [
            (channel, batches, pool.submit(_worker_run, channel.channel_id, end, faults, conf))
            for channel, end, conf, batches in runs
        ]
        for channel, batches, future in started:  # progress lines in the channels' order
            with progress.extract("catch-up", channel.channel_id, batches, since):
                future.result()


_WORKER_DAGS: dict = {}


def _worker_start() -> None:
    _die_with_parent()
    runtime.apply()
    _WORKER_DAGS.update(load_dags())


def _die_with_parent() -> None:
    """A worker ends with the demo (killed, not interrupted: Ctrl-C reaches the whole
    process group), instead of going on with a channel's runs against a simulator that is
    gone. SIGKILL: Airflow's task runner catches SIGTERM and goes on with the next task.
    (Linux; elsewhere the worker ends after its run.)"""
    import contextlib
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _worker_run(channel_id: str, end, faults: bool, conf: dict) -> None:
    run_dag(_WORKER_DAGS[f"extract_{channel_id}"], end, faults, conf)


def _extract(dags: dict, channel, end, faults: bool, conf: dict | None = None) -> None:
    """An extract run of a channel (dag.test takes the interval that ends at the logical
    date it is given; `conf` asks for a catch-up). With faults, a held batch fails the run
    without stopping the demo (the progress line counts it). A daily run says so: in one
    process, dag.test() keeps an earlier run's conf in the DAG's params."""
    daily = {"from_date": None, "to_date": None}
    run_dag(dags[f"extract_{channel.channel_id}"], end, faults, conf or daily)


def _transform(dags: dict, progress: Progress) -> None:
    with progress.step("transform  dbt: one build, a task per model"):
        run_dag(dags["transform_dbt"], None)
    with progress.step("forecast   demand, replenishment plan"):
        run_dag(dags["forecast_demand"], None)


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
        [(calls, waited)] = conn.execute(
            "select coalesce(sum(api_calls), 0), coalesce(sum(api_wait_seconds), 0) "
            "from ops.load_batches"
        ).fetchall()
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
        f"channel APIs: {calls:,} calls, {_duration(waited)} waiting on their rate limits "
        f"(simulated clock; against the channels the extracts take at least that long)",
        f"took {result.seconds:.0f}s",
        "",
        "where to look:",
        "  make bi         # the dashboards (Superset) on http://127.0.0.1:8088; its first run",
        "                  # installs it and prints the admin's password",
        "  .venv/bin/omni metrics query --metrics gmv,orders --group-by channel,metric_time__week",
        '  psql "$(.venv/bin/omni warehouse url)" \\',
        "       -c 'select * from marts.mart_channel_daily_kpis order by 1, 2'",
        "  tables: raw.<kind>__<stream>, ops.load_batches, ops.dq_results, ops.schema_drift, "
        "quarantine.records, ops.alerts",
        "  .venv/bin/omni quarantine list    # rows the quality gate held back, and why",
        "  make dq-docs    # GX Data Docs of the latest gate results (.local/dq-docs)",
        "  make airflow    # Airflow UI on http://127.0.0.1:8080 with these DAG runs",
    ]
    return "\n".join(lines)


def _duration(seconds) -> str:
    seconds = int(round(float(seconds)))
    hours, rest = divmod(seconds, 3600)
    return (
        f"{hours}h {rest // 60:02d}m {rest % 60:02d}s"
        if hours
        else f"{rest // 60}m {rest % 60:02d}s"
    )


def cmd_demo(
    days: int = typer.Option(28, help="simulated days from the channels' start_date"),
    seed: int = typer.Option(42, help="the world's seed"),
    history: int = typer.Option(
        HISTORY_DAYS, help="days of history before them, loaded by the catch-up run"
    ),
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
    marts against the simulator's truth. Airflow's, dbt's and GX's logs go to a file under
    .local/logs (VERBOSE=1: on the terminal)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    log_path = warehouse.local_dir() / "logs" / f"demo-{stamp}.log"
    verbose = os.environ.get("VERBOSE", "") not in ("", "0")
    with Output(log_path, verbose) as output:
        if not output.verbose:
            output.say(f"omni demo: {history}+{days} days, seed {seed}; logs in {log_path}")
        try:
            result = run_demo(
                days=days,
                seed=seed,
                progress=Progress(output),
                reset=reset,
                faults=faults,
                history_days=history,
            )
        except Exception:
            if not output.verbose:
                output.say("failed; the log's last lines:")
                for line in output.tail():
                    output.say("  " + line[:300])
                output.say(f"the whole log: {log_path}")
            raise
        output.say(summary(result))
    # with faults the mart differs by design, but every row must still be accounted for
    balanced = every_batch_balances()
    if not balanced or (result.mismatches and not faults):
        raise typer.Exit(1)


COMMANDS = (cmd_demo,)

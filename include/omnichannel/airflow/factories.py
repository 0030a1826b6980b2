"""DAG factories called by the thin files in dags/: one extract DAG per channel instance,
the transform, forecast and monitor DAGs. They share one set of defaults (`_dag`).

Nothing here touches the network or the warehouse at import or DAG-parse time; tasks call
the library (omnichannel.pipeline) at run time.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

import pendulum
from airflow.sdk import (
    DAG,
    Asset,
    AssetAny,
    AssetOrTimeSchedule,
    CronDataIntervalTimetable,
    CronTriggerTimetable,
    Param,
    TriggerRule,
    task,
    task_group,
)
from airflow.sdk.exceptions import AirflowFailException

from omnichannel.airflow.dbt import dbt_task_group
from omnichannel.airflow.hook import credentials_for
from omnichannel.airflow.notifiers import RUN_CALLBACKS, TASK_CALLBACKS
from omnichannel.config import ChannelConfig, ChannelsConfig
from omnichannel.kinds import KINDS, extracted_streams
from omnichannel.runtime import pool_name

log = logging.getLogger(__name__)

DEFAULT_ARGS = {
    "owner": "data-platform",
    **TASK_CALLBACKS,
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
}
EPOCH = pendulum.datetime(2026, 1, 1, tz="UTC")


def _dag(dag_id: str, *, retries: int | None = None, **arguments) -> DAG:
    """A DAG with the defaults every DAG of ours shares: no catch-up on its own, one run
    at a time, alerts on failure, retries with backoff."""
    defaults = {**DEFAULT_ARGS, **({"retries": retries} if retries is not None else {})}
    return DAG(
        dag_id=dag_id,
        start_date=arguments.pop("start_date", EPOCH),
        catchup=False,
        max_active_runs=1,
        **RUN_CALLBACKS,
        default_args=defaults,
        **arguments,
    )


def raw_asset(kind: str, stream: str) -> Asset:
    """The Asset a publish updates: one raw table per channel kind × stream."""
    table = f"{kind}__{stream}"
    return Asset(name=f"raw.{table}", uri=f"omni://warehouse/raw/{table}", group="raw")


# a catch-up run's days per mapped task: a task instance costs the scheduler and the
# executor far more than one day's batch of most streams (a process per task under the
# Local and Celery executors), and 90 days × 15 streams × 3 stages is 4,050 of them a day
DAYS_PER_TASK = 7


def build_extract_dag(channel: ChannelConfig) -> DAG:
    """One DAG per channel instance. A run makes one batch per stream and interval: its
    data interval, or one per local day when triggered with from_date/to_date to catch up
    (each stream's task group is then mapped over chunks of days_per_task days, its tasks
    working through their chunk's days in order)."""
    start = pendulum.instance(datetime.combine(channel.start_date, time(0)), tz=channel.timezone)
    with _dag(
        f"extract_{channel.channel_id}",
        description=f"Extract {', '.join(extracted_streams(channel))} from "
        f"{KINDS[channel.kind].title} instance {channel.channel_id} into raw, gated by "
        "Great Expectations",
        schedule=CronDataIntervalTimetable(channel.schedule, timezone=channel.timezone),
        start_date=start,
        params={
            "from_date": Param(
                None,
                type=["null", "string"],
                format="date",
                description="Catch up from this local day (with to_date): one batch per day",
            ),
            "to_date": Param(
                None, type=["null", "string"], format="date", description="Last local day"
            ),
            "days_per_task": Param(
                DAYS_PER_TASK,
                type="integer",
                minimum=1,
                description="Catching up: days each mapped task instance works through",
            ),
        },
        tags=["extract", channel.kind, channel.channel_id],
        doc_md=__doc__,
    ) as dag:

        @task(task_id="intervals", retries=0)
        def intervals(**context) -> list[list[dict]]:
            from omnichannel.pipeline import Interval, run_intervals

            interval = Interval(context["data_interval_start"], context["data_interval_end"])
            params = context["params"]
            chosen = [i.as_dict() for i in run_intervals(
                channel, interval, params["from_date"], params["to_date"]
            )]  # fmt: skip
            size = int(params.get("days_per_task") or DAYS_PER_TASK)
            return [chosen[n : n + size] for n in range(0, len(chosen), size)]

        chunks = intervals()
        for stream in extracted_streams(channel):
            _stream_tasks(channel, stream).expand(chunk=chunks)
    return dag


def _stream_tasks(channel: ChannelConfig, stream: str):
    """A stream's three stages over one chunk of intervals (one, except in a catch-up run).
    The gate holds a bad day without stopping the chunk's other days; publish then
    publishes what the gate passed, and fails naming what it did not."""

    @task_group(group_id=stream, tooltip=f"{stream}: extract → landing → gate → raw")
    def stages(chunk: list[dict]):
        @task(task_id="extract_and_land", pool=pool_name(channel.channel_id))
        def extract_and_land(chunk: list[dict], **context) -> list[int]:
            from omnichannel.pipeline import Interval, extract_chunk

            windows = [Interval.from_dict(window) for window in chunk]
            return extract_chunk(
                channel, stream, windows, credentials_for(channel), run_id=context["run_id"]
            )

        @task(task_id="gate", retries=0)
        def gate(batch_ids: list[int]) -> list[int]:
            from omnichannel.pipeline import BatchHeld
            from omnichannel.pipeline import gate as run

            held = []
            for batch_id in batch_ids:
                try:
                    run(channel, stream, batch_id)
                except BatchHeld as exc:
                    held.append(exc)
            if held:  # the data will not change on retry; quarantine holds the rows
                raise AirflowFailException("; ".join(map(str, held))) from held[0]
            return batch_ids

        # runs after a failed gate too: the chunk's days the gate passed are published
        @task(
            task_id="publish",
            outlets=[raw_asset(channel.kind, stream)],
            trigger_rule=TriggerRule.ALL_DONE,
        )
        def publish(batch_ids: list[int] | None) -> list[dict]:
            from omnichannel.pipeline import UpstreamFailed, publish_gated

            if batch_ids is None:
                message = "nothing to publish: extract_and_land failed"
                raise AirflowFailException(message) from UpstreamFailed(message)
            published, refused = publish_gated(channel, stream, batch_ids)
            if refused:
                message = (
                    f"published {len(published)} of {len(batch_ids)} batches; not published: "
                    + ", ".join(f"{batch_id} ({status})" for batch_id, status in refused.items())
                )
                raise AirflowFailException(message) from UpstreamFailed(message)
            return [{"batch_id": b.batch_id, "rows_published": b.rows_published} for b in published]

        landed = extract_and_land(chunk)
        gate(landed) >> publish(landed)

    return stages


# updated when transform_dbt has rebuilt the marts; the forecast DAG is scheduled on it
MARTS_ASSET = Asset(name="marts", uri="omni://warehouse/marts", group="marts")


# transform_dbt's weekly run (Sundays 03:00 UTC) tests every row; the runs raw
# publications trigger test what they published (dbt macro get_where_subquery)
FULL_TEST_CRON = "0 3 * * 0"


def build_transform_dag(config: ChannelsConfig) -> DAG:
    """dbt whenever any raw table is published (what changed since the last build), and
    once a week (every model, every row tested)."""
    assets = sorted({(c.kind, s) for c in config.channels for s in extracted_streams(c)})
    schedule = AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(FULL_TEST_CRON, timezone="UTC"),
        assets=AssetAny(*(raw_asset(kind, stream) for kind, stream in assets)),
    )
    with _dag(
        "transform_dbt",
        retries=1,
        description="dbt staging → marts, run when raw tables are published",
        schedule=schedule,
        params={
            "test_all_rows": Param(
                False,
                type="boolean",
                description="Test every row of the marts, not only those published since "
                "the last run (scheduled weekly runs always do)",
            )
        },
        tags=["transform", "dbt"],
    ) as dag:

        @task(task_id="prepare_raw_tables")
        def prepare_raw_tables() -> None:
            """Raw tables of every configured stream exist (empty until first published),
            so dbt can build the models of a channel not extracted yet."""
            from omnichannel.pipeline import prepare_all

            prepare_all(config)

        @task(task_id="load_reference")
        def load_reference() -> dict:
            """The product master and FX rates the marts map and convert with."""
            from omnichannel.reference import load_reference, reference_dir

            loaded = load_reference(reference_dir(config))
            return {"products": loaded.products, "fx_rates": loaded.fx_rates}

        dbt = dbt_task_group("dbt", exclude=["tag:forecast"], only_changed=True)

        @task(task_id="marts_published", outlets=[MARTS_ASSET])
        def marts_published() -> None:
            """Marks the marts Asset updated: the forecast DAG runs on it."""

        prepare_raw_tables() >> load_reference() >> dbt >> marts_published()
    return dag


def build_forecast_dag() -> DAG:
    """Forecast demand when the marts are rebuilt, then the forecast marts."""
    with _dag(
        "forecast_demand",
        retries=1,
        description="demand forecasts, backtest and replenishment plan, after the marts",
        schedule=MARTS_ASSET,
        tags=["forecast", "dbt"],
    ) as dag:

        @task(task_id="forecast")
        def forecast(horizon: int = 28) -> dict:
            """Backtest, choose a model per SKU × channel, write the run's forecasts."""
            from omnichannel.forecast.run import run

            summary = run(horizon=horizon, progress=log.info)
            log.info("%s", summary.text())
            return {"run_id": summary.run_id, "series": summary.series}

        @task(task_id="stockout_alerts")
        def stockout_alerts() -> int:
            """Business alerts: SKUs projected to run out within their lead time."""
            from omnichannel.alerts.sources import check_stockouts

            return check_stockouts()

        @task(task_id="gmv_band_alerts")
        def gmv_band_alerts() -> list[str]:
            """Business alerts: a channel's daily GMV outside its seasonal band."""
            from omnichannel.alerts.sources import check_gmv_band

            return check_gmv_band()

        dbt = dbt_task_group("dbt", select=["tag:forecast"])
        forecast() >> dbt >> stockout_alerts()
        dbt >> gmv_band_alerts()
    return dag


def build_monitor_dag(config: ChannelsConfig) -> DAG:
    """Hourly: stream freshness against each stream's freshness_hours; daily digest."""
    with _dag(
        "monitor_alerts",
        description="freshness SLAs per channel × stream, alert delivery and the daily digest",
        schedule="@hourly",
        tags=["alerts", "monitoring"],
    ) as dag:

        @task(task_id="check_freshness")
        def check_freshness() -> list[str]:
            """Stale streams open a freshness alert; fresh ones resolve theirs."""
            from omnichannel.alerts.sources import check_freshness

            return check_freshness(config)

        @task(task_id="sweep_stale_batches")
        def sweep_stale_batches() -> list[int]:
            """Batches a crash left unfinished: failed, partitions dropped (see ledger)."""
            from omnichannel import warehouse
            from omnichannel.load import ledger, schema

            with warehouse.connect(autocommit=True) as conn:
                schema.ensure_base(conn)
                return ledger.sweep_stale(conn)

        @task(task_id="deliver_pending")
        def deliver_pending() -> int:
            """Announce alerts a failed delivery left behind."""
            from omnichannel.alerts import deliver_pending

            return deliver_pending()

        @task(task_id="daily_digest")
        def daily_digest(**context) -> int:
            """Once a day (the 07:00 UTC run): the alerts still open, in one message."""
            from omnichannel.alerts import send_digest

            logical = context.get("logical_date") or pendulum.now("UTC")
            return send_digest() if logical.hour == 7 else 0

        sweep_stale_batches() >> check_freshness() >> deliver_pending() >> daily_digest()
    return dag

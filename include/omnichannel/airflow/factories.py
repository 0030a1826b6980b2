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
    TaskGroup,
    task,
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


def build_extract_dag(channel: ChannelConfig) -> DAG:
    """One DAG per channel instance. A run makes one batch per stream and interval: its
    data interval, or one per local day when triggered with from_date/to_date to catch up
    (the stream tasks are mapped over the intervals)."""
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
        },
        tags=["extract", channel.kind, channel.channel_id],
        doc_md=__doc__,
    ) as dag:

        @task(task_id="intervals", retries=0)
        def intervals(**context) -> list[dict]:
            from omnichannel.pipeline import Interval, run_intervals

            interval = Interval(context["data_interval_start"], context["data_interval_end"])
            params = context["params"]
            chosen = run_intervals(channel, interval, params["from_date"], params["to_date"])
            return [i.as_dict() for i in chosen]

        windows = intervals()
        for stream in extracted_streams(channel):
            _stream_tasks(channel, stream, windows)
    return dag


def _stream_tasks(channel: ChannelConfig, stream: str, windows) -> None:
    with TaskGroup(group_id=stream, tooltip=f"{stream}: extract → landing → gate → raw"):

        @task(task_id="extract_and_land", pool=pool_name(channel.channel_id))
        def extract_and_land(window: dict, **context) -> int:
            from omnichannel.pipeline import Interval
            from omnichannel.pipeline import extract_and_land as run

            return run(
                channel,
                stream,
                Interval.from_dict(window),
                credentials_for(channel),
                run_id=context["run_id"],
            )

        @task(task_id="gate", retries=0)
        def gate(batch_id: int) -> int:
            from omnichannel.pipeline import BatchHeld
            from omnichannel.pipeline import gate as run

            try:
                run(channel, stream, batch_id)
            except BatchHeld as exc:
                # the data will not change on retry; quarantine holds the rows
                raise AirflowFailException(str(exc)) from exc
            return batch_id

        @task(task_id="publish", outlets=[raw_asset(channel.kind, stream)])
        def publish(batch_id: int) -> dict:
            from omnichannel.pipeline import publish_batch

            batch = publish_batch(channel, stream, batch_id)
            return {"batch_id": batch.batch_id, "rows_published": batch.rows_published}

        # mapped: one task instance per interval (one, except in a catch-up run)
        batches = extract_and_land.expand(window=windows)
        publish.expand(batch_id=gate.expand(batch_id=batches))


# updated when transform_dbt has rebuilt the marts; the forecast DAG is scheduled on it
MARTS_ASSET = Asset(name="marts", uri="omni://warehouse/marts", group="marts")


# transform_dbt's weekly run (Sundays 03:00 UTC) tests every row; the runs raw
# publications trigger test what they published (dbt macro get_where_subquery)
FULL_TEST_CRON = "0 3 * * 0"


def build_transform_dag(config: ChannelsConfig) -> DAG:
    """dbt (through cosmos) whenever any raw table is published, and once a week."""
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

        dbt = dbt_task_group("dbt", exclude=["tag:forecast"])

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

"""Airflow wiring: DAG factories called by the thin files in dags/.

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
from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException

from omnichannel import paths
from omnichannel.channels.base import Credentials
from omnichannel.config import ChannelConfig, ChannelsConfig
from omnichannel.kinds import extracted_streams
from omnichannel.runtime import pool_name

log = logging.getLogger(__name__)


def _on_failure(context) -> None:
    from omnichannel.alert_sources import task_failed

    task_failed(context)


def _on_success(context) -> None:
    from omnichannel.alert_sources import task_succeeded

    task_succeeded(context)


DEFAULT_ARGS = {
    "owner": "data-platform",
    # a task that fails for good opens (or counts on) an alert; passing again resolves it
    "on_failure_callback": _on_failure,
    "on_success_callback": _on_success,
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
}


def _on_dag_failure(context) -> None:
    from omnichannel.alert_sources import dag_run_failed

    dag_run_failed(context)


def _on_dag_success(context) -> None:
    from omnichannel.alert_sources import dag_run_succeeded

    dag_run_succeeded(context)


# a run that fails with no failed task to say why (a timeout) is an alert of its own
RUN_CALLBACKS = {"on_failure_callback": _on_dag_failure, "on_success_callback": _on_dag_success}
DBT_PROFILE = "omnichannel"
DBT_TARGET = "warehouse"


def raw_asset(kind: str, stream: str) -> Asset:
    """The Asset a publish updates: one raw table per channel kind × stream."""
    table = f"{kind}__{stream}"
    return Asset(name=f"raw.{table}", uri=f"omni://warehouse/raw/{table}", group="raw")


def credentials_for(channel: ChannelConfig) -> Credentials:
    """Base URL and secret from the channel's Airflow connection, else the configured URL."""
    from airflow.sdk import BaseHook

    try:
        conn = BaseHook.get_connection(channel.connection_id)
    except AirflowNotFoundException:
        log.warning(
            "no Airflow connection %r; using base_url %s without a secret",
            channel.connection_id,
            channel.base_url,
        )
        return Credentials(channel.base_url)
    host = conn.host or channel.base_url
    if "://" not in host:
        port = f":{conn.port}" if conn.port else ""
        host = f"{conn.schema or 'https'}://{host}{port}"
    return Credentials(host, conn.password or "", conn.login or "", conn.extra_dejson or {})


def build_extract_dag(channel: ChannelConfig) -> DAG:
    """One DAG per channel instance. A run makes one batch per stream and interval: its
    data interval, or one per local day when triggered with from_date/to_date to catch up
    (the stream tasks are mapped over the intervals)."""
    start = pendulum.instance(datetime.combine(channel.start_date, time(0)), tz=channel.timezone)
    with DAG(
        dag_id=f"extract_{channel.channel_id}",
        description=f"Extract {', '.join(extracted_streams(channel))} from {channel.kind} "
        f"instance {channel.channel_id} into raw, gated by Great Expectations",
        schedule=CronDataIntervalTimetable(channel.schedule, timezone=channel.timezone),
        start_date=start,
        catchup=False,
        max_active_runs=1,
        **RUN_CALLBACKS,
        default_args=DEFAULT_ARGS,
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
    with DAG(
        dag_id="transform_dbt",
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
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        **RUN_CALLBACKS,
        default_args={**DEFAULT_ARGS, "retries": 1},
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

        dbt = _dbt_task_group("dbt", exclude=["tag:forecast"])

        @task(task_id="marts_published", outlets=[MARTS_ASSET])
        def marts_published() -> None:
            """Marks the marts Asset updated: the forecast DAG runs on it."""

        prepare_raw_tables() >> load_reference() >> dbt >> marts_published()
    return dag


def build_forecast_dag() -> DAG:
    """Forecast demand when the marts are rebuilt, then the forecast marts."""
    with DAG(
        dag_id="forecast_demand",
        description="demand forecasts, backtest and replenishment plan, after the marts",
        schedule=MARTS_ASSET,
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        **RUN_CALLBACKS,
        default_args={**DEFAULT_ARGS, "retries": 1},
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
            from omnichannel.alert_sources import check_stockouts

            return check_stockouts()

        @task(task_id="gmv_band_alerts")
        def gmv_band_alerts() -> list[str]:
            """Business alerts: a channel's daily GMV outside its seasonal band."""
            from omnichannel.alert_sources import check_gmv_band

            return check_gmv_band()

        dbt = _dbt_task_group("dbt", select=["tag:forecast"])
        forecast() >> dbt >> stockout_alerts()
        dbt >> gmv_band_alerts()
    return dag


def build_monitor_dag(config: ChannelsConfig) -> DAG:
    """Hourly: stream freshness against each stream's freshness_hours; daily digest."""
    with DAG(
        dag_id="monitor_alerts",
        description="freshness SLAs per channel × stream, alert delivery and the daily digest",
        schedule="@hourly",
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        **RUN_CALLBACKS,
        default_args=DEFAULT_ARGS,
        tags=["alerts", "monitoring"],
    ) as dag:

        @task(task_id="check_freshness")
        def check_freshness() -> list[str]:
            """Stale streams open a freshness alert; fresh ones resolve theirs."""
            from omnichannel.alert_sources import check_freshness

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


# Every dbt invocation of a DAG run (cosmos runs one per model, with the run's id in
# AIRFLOW_CTX_DAG_RUN_ID) shares the run's test window: the first notes it before any model
# is rebuilt (dbt macro remember_test_window). Weekly (cron) runs and runs triggered with
# test_all_rows test every row. Environment, not dbt vars: vars that change with every
# run would cost each task a full parse of the project.
DBT_RUN_ENV = {
    "OMNI_DBT_TEST_ALL_ROWS": (
        "{{ params.get('test_all_rows', False) or dag_run.run_type == 'scheduled' }}"
    ),
}


def _dbt_task_group(group_id: str, select=None, exclude=None):
    from cosmos import (
        DbtTaskGroup,
        ExecutionConfig,
        ExecutionMode,
        InvocationMode,
        LoadMode,
        ProfileConfig,
        ProjectConfig,
        RenderConfig,
        TestBehavior,
    )

    project = paths.dbt_project_dir()
    manifest = paths.dbt_target_dir() / "manifest.json"
    if not manifest.exists():
        raise FileNotFoundError(f"{manifest} is missing: run `omni dbt-parse` (make does it)")
    return DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            project, manifest_path=manifest, install_dbt_deps=False, partial_parse=True
        ),
        profile_config=ProfileConfig(
            profile_name=DBT_PROFILE,
            target_name=DBT_TARGET,
            profiles_yml_filepath=project / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.DBT_RUNNER,
            dbt_executable_path=_dbt_executable(),
        ),
        # BUILD: one `dbt build` per model, so a failing test fails that model's task
        # and no model downstream of it is published. Tests spanning several models
        # (reconciliations) get a task of their own after all their parents.
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.BUILD,
            should_detach_multiple_parents_tests=True,
            select=select or [],
            exclude=exclude or [],
        ),
        operator_args={"install_deps": False, "env": DBT_RUN_ENV},
    )


def _dbt_executable() -> str:
    from omnichannel.runtime import venv_bin

    return venv_bin("dbt")

"""Every DAG imports cleanly, without touching network or database at parse time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from omnichannel import paths

pytestmark = pytest.mark.dags

# Parse the DAG folder in a fresh interpreter where any socket connection or database
# connection raises: DAG files must only read config and call the library.
PARSE_WITHOUT_IO = textwrap.dedent("""
    import json, socket, sys
    import psycopg

    def refuse(*args, **kwargs):
        raise RuntimeError("I/O at DAG parse time")

    socket.socket.connect = refuse
    socket.create_connection = refuse
    psycopg.connect = refuse
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=sys.argv[1])
    print(json.dumps({
        "errors": {k: str(v) for k, v in bag.import_errors.items()},
        "dags": {
            dag_id: {
                "tags": sorted(dag.tags),
                "timetable": type(dag.timetable).__name__,
                "timezone": str(getattr(dag.timetable, "timezone", "")),
                "tasks": {t.task_id: t.retries for t in dag.tasks},
                "max_active_runs": dag.max_active_runs,
            }
            for dag_id, dag in bag.dags.items()
        },
    }))
""")


@pytest.fixture(scope="module")
def parsed():
    env = {**os.environ, "OMNI_WAREHOUSE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    result = subprocess.run(
        [sys.executable, "-c", PARSE_WITHOUT_IO, str(paths.dags_dir())],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_dags_import_without_errors_or_io(parsed):
    assert parsed["errors"] == {}


def test_one_extract_dag_per_channel_instance_and_the_transform_dag(parsed, channels):
    from omnichannel.kinds import extracted_channels

    # channels whose kind has no connector yet are simulated but not extracted
    expected = {f"extract_{c.channel_id}" for c in extracted_channels(channels)}
    expected |= {"transform_dbt", "forecast_demand", "monitor_alerts"}
    assert set(parsed["dags"]) == expected


def test_every_dag_has_tags_and_bounded_concurrency(parsed):
    for dag_id, dag in parsed["dags"].items():
        assert dag["tags"], dag_id
        assert dag["max_active_runs"] == 1, dag_id


def test_tasks_retry_except_the_gate_and_the_interval_plan(parsed):
    for dag_id, dag in parsed["dags"].items():
        for task_id, retries in dag["tasks"].items():
            if task_id.endswith(".gate"):
                assert retries == 0, "a held batch does not change on retry"
            elif task_id == "intervals":
                assert retries == 0, "bad run parameters do not change on retry"
            else:
                assert retries >= 1, f"{dag_id}.{task_id}"


def test_extract_runs_on_the_channels_local_day(parsed, channels):
    from omnichannel.kinds import extracted_channels, extracted_streams

    for channel in extracted_channels(channels):
        dag = parsed["dags"][f"extract_{channel.channel_id}"]
        assert dag["timetable"] == "CronDataIntervalTimetable"
        assert channel.timezone in dag["timezone"]
        assert set(extracted_streams(channel)) <= set(channel.streams)
        for stream in extracted_streams(channel):
            assert {f"{stream}.extract_and_land", f"{stream}.gate", f"{stream}.publish"} <= set(
                dag["tasks"]
            )


def test_transform_is_scheduled_on_any_raw_asset(channels):
    from airflow.sdk import AssetAny

    from omnichannel.airflow.factories import build_transform_dag, raw_asset

    condition = build_transform_dag(channels).timetable.asset_condition
    assert isinstance(condition, AssetAny)
    from omnichannel.kinds import extracted_streams

    want = {raw_asset(c.kind, s).uri for c in channels.channels for s in extracted_streams(c)}
    assert {asset.uri for asset in condition.objects} == want


def test_the_forecast_runs_on_the_marts_the_transform_publishes(channels):
    """transform_dbt ends by updating the marts Asset, which schedules forecast_demand;
    the forecast marts are built by forecast_demand only, after the forecast."""
    from omnichannel.airflow.factories import MARTS_ASSET, build_forecast_dag, build_transform_dag

    transform = build_transform_dag(channels)
    last = transform.get_task("marts_published")
    assert [o.uri for o in last.outlets] == [MARTS_ASSET.uri]
    assert not last.downstream_list and "dbt.mart_channel_daily_kpis_model_build" in {
        t.task_id for t in last.get_flat_relatives(upstream=True)
    }
    assert not any("forecast" in t for t in transform.task_ids if t.startswith("dbt."))
    forecast = build_forecast_dag()
    assert forecast.timetable.asset_condition.uri == MARTS_ASSET.uri
    dbt_tasks = {t for t in forecast.task_ids if t.startswith("dbt.")}
    assert {
        "dbt.mart_demand_forecast_model_build",
        "dbt.mart_forecast_accuracy_model_build",
        "dbt.mart_replenishment_plan_model_build",
    } <= dbt_tasks
    assert all(forecast.get_task(t) in forecast.get_task("forecast").get_flat_relatives(
        upstream=False) for t in dbt_tasks)  # fmt: skip


def test_publications_test_their_rows_and_the_weekly_run_tests_every_row(channels):
    """Runs raw publications trigger test what they published; the weekly cron run and a
    run triggered with test_all_rows test every row (OMNI_DBT_TEST_ALL_ROWS, which dbt's
    macro test_all_rows reads, set by the run's one dbt build)."""
    from types import SimpleNamespace

    from omnichannel.airflow.dbt import test_all_rows
    from omnichannel.airflow.factories import build_transform_dag

    dag = build_transform_dag(channels)
    assert type(dag.timetable.timetable).__name__ == "CronTriggerTimetable"
    assert dag.timetable.timetable.expression == "0 3 * * 0"
    rendered = {
        (run_type, all_rows): test_all_rows(
            {"params": {"test_all_rows": all_rows}, "dag_run": SimpleNamespace(run_type=run_type)}
        )
        for run_type, all_rows in (
            ("asset_triggered", False),
            ("scheduled", False),
            ("manual", True),
            ("manual", False),
        )
    }
    assert rendered == {
        ("asset_triggered", False): False,
        ("scheduled", False): True,
        ("manual", True): True,
        ("manual", False): False,
    }


def test_one_dbt_build_then_a_task_per_model_wired_as_dbts_graph(channels):
    """transform_dbt runs one `dbt build` of its selection; each model's task follows the
    models it selects from (so a failed model's descendants are upstream_failed), a test
    on several models has a task after all of them, and no forecast model is in it."""
    import json

    from omnichannel import paths
    from omnichannel.airflow.factories import build_transform_dag

    dag = build_transform_dag(channels)
    manifest = json.loads((paths.dbt_target_dir() / "manifest.json").read_text())
    models = {
        n["name"]: n for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and "forecast" not in n["tags"]
    }  # fmt: skip
    tasks = {t.task_id: t for t in dag.tasks if t.task_id.startswith("dbt.")}
    assert {f"dbt.{name}_model_build" for name in models} | {"dbt.build"} <= set(tasks)
    fct = tasks["dbt.fct_orders_model_build"]
    parents = {
        manifest["nodes"][p]["name"] for p in models["fct_orders"]["depends_on"]["nodes"]
        if p.startswith("model.")
    }  # fmt: skip
    assert {t.removeprefix("dbt.").removesuffix("_model_build") for t in fct.upstream_task_ids} \
        == parents  # fmt: skip
    gmv = tasks["dbt.assert_mart_gmv_reconciles_with_orders_test"]
    assert len(gmv.upstream_task_ids) > 1
    roots = [t for t in tasks.values() if t.upstream_task_ids == {"dbt.build"}]
    assert roots and all(not manifest_parents(models, t) for t in roots)


def manifest_parents(models: dict, task) -> list[str]:
    name = task.task_id.removeprefix("dbt.").removesuffix("_model_build")
    node = models.get(name)
    return [p for p in node["depends_on"]["nodes"] if p.startswith("model.")] if node else []

"""Alerts from real DAG runs: a task that fails for good opens exactly one alert and sends
one message to each route; failing again counts on it silently; passing resolves it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from omnichannel import alerts, warehouse
from tests.helpers.airflow import extract_with_a_malformed_page
from tests.helpers.warehouse import query

pytestmark = pytest.mark.dags


def test_an_extract_task_failing_for_good_alerts_once_and_recovers(
    clean_warehouse, channels, world, receivers, routed
):
    with extract_with_a_malformed_page(world, channels) as (dag, end, simulator):
        assert str(dag.test(logical_date=end).state).endswith("failed")
        rows = query("select kind, occurrences, status, dag_id, task_id, run_id from ops.alerts")
        assert len(rows) == 1  # one failure, one alert (with the run that failed)
        kind, occurrences, status, dag_id, task_id, run_id = rows[0]
        assert (kind, occurrences, status) == ("data_quality", 1, "open")
        assert (dag_id, task_id) == (dag.dag_id, "orders.extract_and_land") and run_id
        assert len(receivers.slack) == 1 and len(receivers.mail) == 1
        assert "page 2: malformed page" in receivers.slack[0]["text"]

        assert str(dag.test(logical_date=end).state).endswith("failed")
        assert query("select occurrences, status from ops.alerts") == [(2, "open")]
        assert len(receivers.slack) == 1 and len(receivers.mail) == 1

        # a run-level alert (a run that failed with no failed task, e.g. a timeout), already
        # announced, is resolved by the DAG's own success callback
        with warehouse.connect() as conn:
            run_alert = alerts.raise_alert(
                conn,
                alerts.Alert(
                    "pipeline", "critical", alerts.fingerprint("pipeline", dag.dag_id, "run"),
                    f"{dag.dag_id}: the run failed", dag_id=dag.dag_id,
                ),
            )  # fmt: skip
            conn.execute(
                "update ops.alerts set notified_at = now() where alert_id = %s", [run_alert]
            )
            conn.commit()
        simulator.clear_faults()
        assert str(dag.test(logical_date=end).state).endswith("success")
    assert query("select occurrences, status from ops.alerts order by alert_id") == [
        (2, "resolved"),
        (1, "resolved"),
    ]
    assert len(receivers.slack) == 1


def test_any_other_task_failure_is_a_pipeline_alert_resolved_by_success(
    clean_warehouse, config, receivers, routed
):
    from omnichannel.alerts.sources import task_failed, task_succeeded
    from omnichannel.pipeline import prepare_all

    prepare_all(config)
    ti = SimpleNamespace(dag_id="transform_dbt", task_id="dbt.fct_orders_model_build",
                         run_id="scheduled__2026-10-02", try_number=3, map_index=-1)  # fmt: skip
    context = {"ti": ti, "exception": RuntimeError("relation raw.shopify__orders is locked")}
    task_failed(context)
    task_failed(context)
    rows = query("select kind, severity, occurrences, status, message from ops.alerts")
    assert [r[:4] for r in rows] == [("pipeline", "critical", 2, "open")]
    assert "transform_dbt.dbt.fct_orders_model_build failed: RuntimeError" in rows[0][4]
    assert len(receivers.slack) == 1 and len(receivers.mail) == 1
    task_succeeded({"ti": ti})
    assert query("select status from ops.alerts") == [("resolved",)]


def test_a_run_failing_without_a_task_alert_is_an_alert_of_its_own(
    clean_warehouse, config, receivers, routed
):
    from omnichannel.alerts.sources import dag_run_failed, dag_run_succeeded, task_failed
    from omnichannel.pipeline import prepare_all

    prepare_all(config)
    # a run whose failed task raised its alert: no second one for the run
    ti = SimpleNamespace(dag_id="forecast_demand", task_id="forecast", run_id="r1",
                         try_number=2, map_index=-1)  # fmt: skip
    task_failed({"ti": ti, "exception": RuntimeError("boom")})
    dag_run_failed({"dag_run": SimpleNamespace(dag_id="forecast_demand", run_id="r1"),
                    "reason": "task_failure"})  # fmt: skip
    assert query("select fingerprint from ops.alerts") == [("pipeline:forecast_demand:forecast",)]
    # a run that timed out with no task failure: one alert, one message; the next good run
    # resolves it
    receivers.clear()
    for run_id in ("r2", "r3"):  # two runs in a row time out: one alert, counted twice
        run = SimpleNamespace(dag_id="transform_dbt", run_id=run_id)
        dag_run_failed({"dag_run": run, "reason": "timed_out"})
    [(occurrences, status, message)] = query(
        "select occurrences, status, message from ops.alerts where fingerprint = %s",
        "pipeline:transform_dbt:run",
    )
    assert (occurrences, status) == (2, "open") and message.endswith(": timed_out")
    assert len(receivers.slack) == 1 and "timed_out" in receivers.slack[0]["text"]
    dag_run_succeeded({"dag_run": SimpleNamespace(dag_id="transform_dbt", run_id="r4")})
    assert query(
        "select status from ops.alerts where fingerprint = 'pipeline:transform_dbt:run'"
    ) == [("resolved",)]

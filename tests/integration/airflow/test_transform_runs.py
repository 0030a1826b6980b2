"""transform_dbt as a real DAG run: one dbt build, and a task per model whose state is what
the build did to that model."""

from __future__ import annotations

import pytest

from omnichannel import warehouse
from omnichannel.airflow.runs import load_dags
from tests.helpers.pipeline import FIRST, run_day

pytestmark = pytest.mark.dags

BAD_STATUS_TEST = "accepted_values_stg_woocommerce__orders_status"


def test_a_failing_data_test_fails_its_models_task_by_name_and_stops_its_descendants(
    clean_warehouse, config, simulator
):
    run_day(simulator, config, FIRST)
    with warehouse.connect() as conn:  # a status WooCommerce does not have, on one order
        conn.execute(
            "update raw.woocommerce__orders set status = 'gremlin' "
            "where ctid = (select ctid from raw.woocommerce__orders limit 1)"
        )
    dag = load_dags()["transform_dbt"]
    for task in dag.tasks:
        task.retries = 0  # the data does not change on retry
    run = dag.test()
    states = {ti.task_id: getattr(ti.state, "value", ti.state) for ti in run.get_task_instances()}
    assert str(run.state).endswith("failed")
    assert states["dbt.build"] == "success"  # dbt ran; what it found is in the model tasks
    assert states["dbt.stg_woocommerce__orders_model_build"] == "failed"
    # what depends on the failing model does not run; the rest of the project does
    for model in ("int_orders_unioned", "fct_orders", "mart_channel_daily_kpis"):
        assert states[f"dbt.{model}_model_build"] == "upstream_failed", model
    assert states["marts_published"] == "upstream_failed"
    for model in ("stg_shopify__orders", "stg_amazon_sp__orders", "dim_channels"):
        assert states[f"dbt.{model}_model_build"] == "success", model
    # the failing task names the test (its alert carries the task's error)
    with warehouse.connect() as conn:
        [(message,)] = conn.execute(
            "select message from ops.alerts where fingerprint like %s",
            ("%stg_woocommerce__orders_model_build%",),
        ).fetchall()
    assert BAD_STATUS_TEST in message and "stg_woocommerce__orders" in message
    with warehouse.connect() as conn:  # dbt did not rebuild what depends on it either
        [(built,)] = conn.execute("select to_regclass('marts.fct_orders')").fetchall()
    assert built is None

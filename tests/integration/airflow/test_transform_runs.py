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


def test_a_run_after_one_stream_published_builds_only_what_depends_on_it(
    clean_warehouse, config, simulator
):
    from datetime import timedelta

    from omnichannel.pipeline import local_day_interval, run_interval
    from tests.helpers.pipeline import credentials

    run_day(simulator, config, FIRST)
    dag = load_dags()["transform_dbt"]
    for task in dag.tasks:
        task.retries = 0
    first = dag.test()
    assert str(first.state).endswith("success")
    # the next day of one stream only: GA4 traffic (and the day's FX rates, which the
    # simulator drops in the reference folder when its clock moves)
    ga4 = config.get("ga4_shopify_us")
    interval = local_day_interval(ga4, FIRST + timedelta(days=1))
    simulator.set_clock(interval.end)
    run_interval(ga4, "traffic", interval, credentials(simulator, ga4))
    second = dag.test()
    assert str(second.state).endswith("success")
    states = {ti.task_id: ti.xcom_pull(task_ids=ti.task_id) for ti in second.get_task_instances()
              if ti.task_id.endswith("_model_build")}  # fmt: skip
    built = {task_id.removeprefix("dbt.").removesuffix("_model_build")
             for task_id, state in states.items() if state != "unchanged"}  # fmt: skip
    assert {"stg_ga4__traffic", "int_traffic_unioned", "mart_channel_daily_kpis",
            "dim_date"} <= built  # fmt: skip
    unchanged = {
        "stg_shopify__orders",
        "stg_amazon_sp__orders",
        "stg_files__sales",
        "int_orders_unioned",
        "fct_inventory_daily",
        "stg_reference__products",
    }
    assert not built & unchanged
    with warehouse.connect() as conn:
        builds = conn.execute(
            "select status, selection, reason from ops.transform_builds order by build_id"
        ).fetchall()
    assert [status for status, _, _ in builds] == ["success", "success"]
    assert builds[0][1] is None and "no earlier build passed" in builds[0][2]
    assert builds[1][1] == ["source:ga4.ga4__traffic+", "source:reference.fx_rates+",
                            "tag:every_run"]  # fmt: skip
    # the marts read as a full build would leave them: GA4 sessions of the second day
    with warehouse.connect() as conn:
        [(sessions,)] = conn.execute(
            "select coalesce(sum(sessions), 0) from marts.mart_channel_daily_kpis "
            "where order_date = %s",
            (FIRST + timedelta(days=1),),
        ).fetchall()
    assert sessions > 0

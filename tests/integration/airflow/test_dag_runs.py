"""Real Airflow DAG runs (dag.test) against the simulator and the test warehouse."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from omnichannel import runtime, warehouse
from omnichannel.airflow.runs import load_dags, local_midnight
from omnichannel.cli.demo import run_demo
from omnichannel.load.ledger import every_batch_balances
from omnisim.kinds import airflow_connections
from tests.helpers.airflow import extract_with_a_malformed_page

pytestmark = pytest.mark.dags


def test_demo_through_airflow_matches_truth_and_is_idempotent(clean_warehouse):
    first = run_demo(days=2, seed=5, history_days=0)
    assert first.mismatches == []
    assert len(first.truth) == 4 * 2  # four selling channels, two days
    assert all(row.orders_count > 0 for row in first.truth)
    with warehouse.connect() as conn:
        # the forecast DAG ran after the marts: forecasts of every series with sales (if
        # cancelled since) and a replenishment plan (2 days of history: window averages)
        sold, forecast, plan, models = conn.execute(
            """select (select count(distinct (channel_id, sku)) from marts.fct_sales_daily
                       where sku is not null),
                      (select count(distinct (channel_id, sku)) from marts.mart_demand_forecast
                       where channel_id != 'all' and horizon_day = 28),
                      (select count(*) from marts.mart_replenishment_plan),
                      (select array_agg(distinct model) from marts.mart_demand_forecast)"""
        ).fetchone()
    assert sold > 0 and forecast == sold and plan > 0
    assert set(models) == {"window_average", "sum_of_channels"}
    with warehouse.connect() as conn:
        runs = conn.execute(
            """select channel_id, count(distinct run_id), count(distinct interval_start),
                      sum(api_calls) > 0, bool_and(api_wait_seconds >= 0)
               from ops.load_batches group by channel_id order by channel_id"""
        ).fetchall()
    # both paths: a catch-up run over the first day, a daily run for the second; the
    # connectors' calls and waits (on the simulated clock) are in the ledger
    assert [r[1:3] for r in runs] == [(2, 2)] * 5
    assert [r[3] for r in runs] == [True, True, None, True, True]  # files: no API
    raw = raw_content()
    # the same days again through the extract DAGs: raw (what the marts are built from)
    # does not change; the transform itself is idempotent by construction (dbt tables)
    second = run_demo(days=2, seed=5, transform=False, history_days=0, resume=False)
    assert second.mart == first.mart and raw_content() == raw
    with warehouse.connect() as conn:
        statuses = conn.execute(
            "select stream like '%inventory', status, count(*) from ops.load_batches "
            "group by 1, 2 order by 1, 2"
        ).fetchall()
        by_run = conn.execute(
            "select run_id like 'manual__%', count(*) from ops.load_batches group by 1"
        ).fetchall()
    # the second pass re-read every stream; a stock snapshot already read is kept
    # (skipped), since a past day's stock cannot be read again
    assert statuses == [(False, "published", 13 * 2 * 2), (True, "published", 2 * 2),
                        (True, "skipped", 2 * 2)]  # fmt: skip
    assert by_run == [(True, 15 * 2 * 2)]  # 15 streams, 2 days, twice: all from DAG runs


def raw_content() -> dict:
    from omnichannel.kinds import KINDS

    out = {}
    with warehouse.connect() as conn:
        for kind in KINDS.values():
            for spec in kind.streams.values():
                out[spec.table] = conn.execute(
                    f"select md5(coalesce(string_agg(payload::text, '|' order by payload::text), ''))"  # noqa: E501
                    f" from raw.{spec.table}"  # noqa: S608
                ).fetchone()[0]
    return out


def test_a_demo_with_faults_on_accounts_for_every_row(clean_warehouse, monkeypatch):
    from omnisim.faults import Fault
    from omnisim.spec import fault_profile

    # the profile's bad rows are random (2%); one sure bad row on every first page of
    # Shopify orders makes the quarantine path certain
    sure = Fault("shopify_us", "bad_row", stream="orders", page=1, variant="negative_quantity")
    monkeypatch.setattr("omnichannel.cli.demo.fault_profile", lambda: [*fault_profile(), sure])
    # extraction and the gate only: the transform of a faulty load is the slice tests' job
    result = run_demo(days=2, seed=11, faults=True, transform=False, history_days=0)
    assert every_batch_balances()
    with warehouse.connect() as conn:
        [(received, quarantined)] = conn.execute(
            "select sum(rows_received), sum(coalesce(rows_quarantined, 0)) "
            "from ops.load_batches where status in ('published', 'held')"
        ).fetchall()
        alerts = conn.execute("select count(*) from ops.alerts").fetchone()[0]
    assert received > 0 and quarantined > 0 and alerts > 0
    assert result.faults and result.mart == {}


def test_malformed_page_fails_the_extract_task_and_publishes_nothing(
    clean_warehouse, channels, world
):
    with extract_with_a_malformed_page(world, channels) as (dag, end, _):
        run = dag.test(logical_date=end)
    assert str(run.state).endswith("failed")
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    assert states["orders.extract_and_land"].endswith("failed")
    assert not states["orders.publish"].endswith("success")
    with warehouse.connect() as conn:
        [(status, error)] = conn.execute(
            "select status, error from ops.load_batches where stream = 'orders'"
        ).fetchall()
        others = conn.execute(
            "select distinct status from ops.load_batches where stream <> 'orders'"
        ).fetchall()
        published = conn.execute("select count(*) from raw.shopify__orders").fetchone()[0]
    assert status == "failed"
    assert "channel 'shopify_us', stream 'orders', page 2: malformed page" in error
    assert published == 0
    assert others == [("published",)]  # the channel's other streams are not held up


def test_every_channel_has_a_pool_that_its_extract_tasks_use(channels):
    from airflow.models.pool import Pool

    dags = load_dags()
    for channel in channels.channels:
        pool = Pool.get_pool(runtime.pool_name(channel.channel_id))
        assert pool is not None and pool.slots == 1, channel.channel_id
        dag = dags[f"extract_{channel.channel_id}"]
        extracts = [t for t in dag.tasks if t.task_id.endswith("extract_and_land")]
        assert extracts and {t.pool for t in extracts} == {pool.pool}


def catch_up(dag, shop, world, days: int, per_task: int, fault: dict | None = None):
    """A catch-up run of shopify_us over its first `days` days, `per_task` days a task."""
    from omnisim.server import Simulator

    first = shop.start_date
    last = first + timedelta(days=days - 1)
    end = local_midnight(last + timedelta(days=1), shop)
    with Simulator(world) as simulator:
        os.environ.update(airflow_connections([shop], simulator.url))
        simulator.set_clock(end)
        if fault:
            simulator.add_fault(shop.channel_id, **fault)
        conf = {"from_date": first.isoformat(), "to_date": last.isoformat()}
        return dag.test(logical_date=end, run_conf={**conf, "days_per_task": per_task})


def test_a_catch_up_run_maps_each_stream_over_chunks_of_days(clean_warehouse, channels, world):
    shop = channels.get("shopify_us")
    run = catch_up(load_dags()[f"extract_{shop.channel_id}"], shop, world, 3, per_task=2)
    assert str(run.state).endswith("success")
    mapped = [ti for ti in run.get_task_instances() if ti.task_id == "orders.publish"]
    assert sorted(ti.map_index for ti in mapped) == [0, 1]  # days 1-2, day 3
    with warehouse.connect() as conn:
        batches = conn.execute(
            """select stream, count(*), count(distinct interval_start), min(status), max(status)
               from ops.load_batches group by stream order by stream"""
        ).fetchall()
    # still one batch per stream and day. The stock of the two earlier days cannot be read
    # any more: those snapshots, read after their day, are kept in quarantine (skipped)
    assert batches == [
        ("inventory", 3, 3, "published", "skipped"),
        *((s, 3, 3, "published", "published") for s in ("orders", "products")),
    ]
    # each day reads from its own start less the lookback: the chunk's earlier day covered
    # what is before (its batch, not yet published, had not moved the watermark)
    lookback = timedelta(hours=shop.lookback_hours)
    with warehouse.connect() as conn:
        windows = conn.execute(
            """select interval_start, cursor_from from ops.load_batches
               where stream = 'orders' order by interval_start"""
        ).fetchall()
    assert [cursor_from for _, cursor_from in windows] == [start - lookback for start, _ in windows]


def test_a_day_held_in_a_chunk_fails_gate_and_publish_but_not_the_other_days(
    clean_warehouse, channels, world
):
    shop = channels.get("shopify_us")
    dag = load_dags()[f"extract_{shop.channel_id}"]
    for each in dag.tasks:
        each.retries = 0
    # the first orders page is read with a renamed field, once: the chunk's first day
    drift = {"fault": "schema_drift", "variant": "renamed_field", "stream": "orders",
             "page": 1, "count": 1}  # fmt: skip
    run = catch_up(dag, shop, world, 3, per_task=3, fault=drift)
    assert str(run.state).endswith("failed")
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    assert states["orders.gate"].endswith("failed") and states["orders.publish"].endswith("failed")
    assert states["products.publish"].endswith("success")
    with warehouse.connect() as conn:
        orders = conn.execute(
            """select batch_id, status from ops.load_batches where stream = 'orders'
               order by interval_start"""
        ).fetchall()
    assert [status for _, status in orders] == ["held", "published", "published"]
    # one failure, one alert: the gate's hold (resolved by the chunk's next good day, as
    # a good load does), then the gate task's failure; publish's failure adds none
    with warehouse.connect() as conn:
        alerts = conn.execute(
            "select fingerprint, status, task_id from ops.alerts where stream = 'orders' "
            "order by alert_id"
        ).fetchall()
    assert alerts == [
        ("dq:hold:shopify_us:orders", "resolved", None),
        ("pipeline:extract_shopify_us:orders.gate", "open", "orders.gate"),
    ]

"""Backfill through Airflow itself: `airflow backfill create`, then a real scheduler, api-server
and LocalExecutor run the backfill's DAG runs against the simulator and the test warehouse."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from omnichannel import runtime, warehouse
from omnichannel.airflow.runs import local_midnight
from omnisim.kinds import airflow_connections
from omnisim.server import Simulator
from omnisim.truth import daily_truth
from tests.helpers.workers import airflow_test_database

pytestmark = pytest.mark.dags

DAG_ID = "extract_shopify_us"
TIMEOUT = 420  # seconds for the scheduler to run every task of the backfill


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _airflow(*args: str, env: dict) -> str:
    airflow = str(Path(sys.executable).with_name("airflow"))
    result = subprocess.run(
        [airflow, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, f"airflow {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _metadata(statement: str, params=()) -> list[tuple]:
    url = warehouse._with_database(warehouse.url(), airflow_test_database())
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(statement, params)
        return cur.fetchall() if cur.description else []


@pytest.fixture
def services_env(channels, world, tmp_path):
    """Environment of the Airflow services: the test databases, the simulator's
    connections, one JWT secret shared by the scheduler and the api-server."""
    runtime.migrate_airflow_db()
    runtime.ensure_pools()
    runtime.dbt_parse()
    port = _free_port()
    with Simulator(world) as simulator:
        env = {
            **os.environ,
            **airflow_connections(channels.channels, simulator.url),
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": "backfill-test-secret",
            "AIRFLOW__API__SECRET_KEY": "backfill-test-secret",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__CORE__PARALLELISM": "4",
        }
        yield env, simulator, port, tmp_path


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    airflow = str(Path(sys.executable).with_name("airflow"))
    handle = log.open("w")
    return subprocess.Popen(
        [airflow, *args], env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )


def test_airflow_backfill_runs_the_extract_dag_for_each_interval(
    services_env, clean_warehouse, channels, world
):
    env, simulator, port, logs = services_env
    shop = channels.get("shopify_us")
    first = shop.start_date + timedelta(days=1)
    days = [first, first + timedelta(days=1)]
    # backfilled as of the end of the last day: orders updated later belong to later runs
    simulator.set_clock(local_midnight(days[-1] + timedelta(days=1), shop))
    _airflow("dags", "reserialize", env=env)
    # only this DAG runs: no scheduled run of its own (catchup is off; the backfill creates
    # the runs), and the dbt DAG waits
    _metadata(
        """update dag set is_paused = (dag_id <> %(dag)s),
                  next_dagrun_create_after = case when dag_id = %(dag)s then null
                                                  else next_dagrun_create_after end""",
        {"dag": DAG_ID},
    )
    _metadata("delete from backfill_dag_run")
    _metadata("delete from dag_run where dag_id = %s", (DAG_ID,))
    _metadata("delete from backfill")
    start = local_midnight(days[0], shop).isoformat()
    end = local_midnight(days[-1], shop).isoformat()
    out = _airflow(
        "backfill", "create", "--dag-id", DAG_ID, "--from-date", start, "--to-date", end,
        "--max-active-runs", "1", env=env,
    )  # fmt: skip
    runs = _metadata("select run_id from dag_run where dag_id = %s", (DAG_ID,))
    assert len(runs) == len(days), out
    services = [
        _start(["api-server", "--port", str(port)], env, logs / "api-server.log"),
        _start(["scheduler"], env, logs / "scheduler.log"),
    ]
    try:
        states = _wait_for_runs(services)
    finally:
        for process in services:
            os.killpg(process.pid, 15)
        for process in services:
            process.wait(timeout=60)
    assert states == ["success"] * len(days), _logs(logs)

    with warehouse.connect() as conn:
        batches = conn.execute(
            """select stream, status, run_id from ops.load_batches
               where channel_id = %s order by stream, interval_start""",
            (shop.channel_id,),
        ).fetchall()
        orders = dict(
            conn.execute(
                """select (created_at at time zone %s)::date, count(*) from raw.shopify__orders
                   where channel_id = %s group by 1""",
                (shop.timezone, shop.channel_id),
            ).fetchall()
        )
    streams = {"orders", "products", "inventory"}
    assert {b[0] for b in batches} == streams
    assert len(batches) == len(streams) * len(days)
    # a backfill cannot read a past day's stock: the earlier day's snapshot, read a day
    # after its interval, is kept in quarantine (skipped); the last day's is published
    assert {b[1] for b in batches if b[0] != "inventory"} == {"published"}
    assert [b[1] for b in batches if b[0] == "inventory"] == ["skipped", "published"]
    assert all(b[2].startswith("backfill__") for b in batches)
    truth = {
        row.order_date: row.orders_count
        for row in daily_truth(world, days[0], days[-1])
        if row.channel_id == shop.channel_id
    }
    assert {day: orders.get(day) for day in days} == truth


def _wait_for_runs(services) -> list[str]:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        states = [
            s
            for (s,) in _metadata(
                "select state from dag_run where dag_id = %s order by logical_date", (DAG_ID,)
            )
        ]
        if states and all(s in ("success", "failed") for s in states):
            return states
        if any(p.poll() is not None for p in services):
            return [f"a service exited: {[p.returncode for p in services]}"]
        time.sleep(2)
    return states


def _logs(folder: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(folder.glob("*.log")))

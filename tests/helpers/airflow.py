"""Real DAG runs against the simulator, for the tests of what they do when a page fails."""

from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import timedelta

import pytest

from omnichannel.airflow.runs import load_dags, local_midnight
from omnisim.kinds import airflow_connections


@contextmanager
def extract_with_a_malformed_page(world, channels):
    """shopify_us's extract DAG without retries (the fault is permanent here: retrying
    only takes time), its connection on a simulator whose second orders page is cut off,
    the clock at the end of the channel's third day. Yields (dag, logical date, simulator)."""
    from omnisim.server import Simulator

    shop = channels.get("shopify_us")
    dag = load_dags()[f"extract_{shop.channel_id}"]
    for task in dag.tasks:
        task.retries = 0
    end = local_midnight(shop.start_date + timedelta(days=2), shop)
    with Simulator(world) as simulator:
        os.environ.update(airflow_connections([shop], simulator.url))
        simulator.set_clock(end)
        simulator.add_fault(shop.channel_id, "malformed_page", page=2, stream="orders")
        yield dag, end, simulator


@pytest.fixture(scope="session")
def airflow_ready():
    """This worker's Airflow metadata database migrated and the dbt manifest cosmos
    renders from written, whatever test that runs DAGs a worker happens to run first
    (the conftests of the folders that run DAGs use it, autouse)."""
    from omnichannel import runtime

    runtime.migrate_airflow_db()
    runtime.dbt_parse()

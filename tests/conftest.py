"""Test set-up: a real PostgreSQL (the embedded one, or OMNI_WAREHOUSE_URL's server) with
databases of its own for the tests, so that `make test` never touches the demo's data.

The environment is set in pytest_configure, before any test module imports Airflow.

Under pytest-xdist (`make test` runs `pytest -n auto`) each worker has databases, an
AIRFLOW_HOME, a dbt manifest and a dbt target of its own (`_gw0`, `_gw1`, ...); the tests
of one module stay on one worker (their module fixtures load data once), and the Airflow
tests (DAG runs with the demo's landing folders, the UI) all run on one worker.
`pytest -p no:xdist` runs everything in one process, as before.
"""

from __future__ import annotations

import dataclasses
import os

import psycopg
import pytest
from psycopg import sql

from tests.helpers.browser import chromium  # noqa: F401 - the headless browser fixture
from tests.helpers.dbt import reference_path
from tests.helpers.receivers import receivers, routed  # noqa: F401 - alert receivers fixtures
from tests.helpers.warehouse import reset_warehouse
from tests.helpers.workers import TEST_AIRFLOW_DATABASE, TEST_DATABASE, worker_suffix

# one worker: they share the demo's landing folders and Airflow home
AIRFLOW_GROUP = (
    "tests/integration/airflow/",
    "tests/integration/alerts/test_page_in_a_browser.py",
    "tests/integration/bi/",
)


SERIAL_ONLY = (
    "restarts the PostgreSQL server other workers use: `make test` runs it after them, "
    "alone (pytest -p no:xdist -m restarts_server)"
)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Keep each module's tests on one worker, and every Airflow test on the same one; a
    test that restarts the shared server does not run beside other workers."""
    for item in items:
        if worker_suffix() and item.get_closest_marker("restarts_server"):
            item.add_marker(pytest.mark.skip(reason=SERIAL_ONLY))
        if item.get_closest_marker("xdist_group") is None:
            path = item.nodeid.split("::")[0]
            group = "airflow" if path.startswith(AIRFLOW_GROUP) else path
            item.add_marker(pytest.mark.xdist_group(group))
            _group_node_id(config, item, group)


def _group_node_id(config, item, group: str) -> None:
    """The `@group` suffix loadgroup schedules by. xdist 3.8 writes it to `item._nodeid`,
    which pytest 9.2's `nodeid` no longer reads (it reads `_id`), so without this every
    test is scheduled alone and a module's fixtures are set up on every worker."""
    from _pytest.nodeid import NodeId

    if config.getoption("loadgroup", False) and isinstance(getattr(item, "_id", None), NodeId):
        item._id = NodeId.parse(f"{item.nodeid}@{group}")


def _recreate(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


def _ensure(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


def pytest_configure(config):
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")
    from omnichannel import warehouse

    pipeline_url = warehouse.start()
    if os.environ.get("PYTEST_XDIST_WORKER") is None and getattr(
        config.option, "numprocesses", None
    ):
        return  # the xdist controller runs no tests (it started the warehouse for its workers)
    suffix = worker_suffix()
    database, airflow_database = TEST_DATABASE + suffix, TEST_AIRFLOW_DATABASE + suffix
    if warehouse.external_url():  # a server of the user's: its URL may create databases
        _recreate(pipeline_url, database)
        _ensure(pipeline_url, airflow_database)
    else:  # the embedded one: the admin creates them, owned by the pipeline's role
        os.environ.setdefault("OMNI_WAREHOUSE_ADMIN_URL", warehouse.admin_url())
        warehouse.create_owned_database(database, recreate=True, bi_reader=True)
        warehouse.create_owned_database(airflow_database)
    if suffix:  # workers do not share Airflow's home or the manifest cosmos renders from
        os.environ["AIRFLOW_HOME"] = str(warehouse.local_dir() / f"test-airflow{suffix}")
        os.environ["OMNI_DBT_TARGET_DIR"] = str(warehouse.local_dir() / f"dbt-manifest{suffix}")
    os.environ["OMNI_WAREHOUSE_URL"] = warehouse._with_database(pipeline_url, database)
    # the tests' simulators write the brand's reference files here, not into the demo's
    os.environ["OMNI_REFERENCE_PATH"] = str(
        warehouse.local_dir() / "test-reference" / str(os.getpid())
    )
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = warehouse.sqlalchemy_url(airflow_database)
    from omnichannel import runtime

    runtime.apply()


@pytest.fixture(scope="session")
def channels():
    from omnichannel.config import load_channels

    return load_channels()


@pytest.fixture(scope="session")
def shop(channels):
    return channels.get("shopify_us")


@pytest.fixture(scope="session")
def world(channels):
    from omnisim.server import world_from_config

    return world_from_config(7, channels)


@pytest.fixture
def simulator(world):
    from omnisim.server import Simulator

    with Simulator(world, reference=reference_path()) as sim:
        yield sim


@pytest.fixture
def clean_warehouse():
    """Empty library tables and marts of the test database."""
    reset_warehouse()
    yield


@pytest.fixture(scope="module")
def config(channels, tmp_path_factory):
    """The default channels, with the stores' exports in a temporary landing folder."""
    return dataclasses.replace(
        channels,
        channels=tuple(
            dataclasses.replace(c, landing_path=str(tmp_path_factory.mktemp(c.channel_id)))
            if c.kind == "files"
            else c
            for c in channels.channels
        ),
    )

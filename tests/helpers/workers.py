"""Which test process this is: under pytest-xdist each worker has databases, an Airflow
home, a dbt manifest and a dbt target of its own."""

from __future__ import annotations

import os

TEST_DATABASE = "omni_test"

TEST_AIRFLOW_DATABASE = "airflow_test"


def worker_suffix() -> str:
    """`_gw0`, `_gw1`, ... in a pytest-xdist worker, empty in a single process."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"_{worker}" if worker else ""


def airflow_test_database() -> str:
    """The Airflow metadata database of this test process."""
    return TEST_AIRFLOW_DATABASE + worker_suffix()


def dbt_target() -> str:
    """The dbt target folder of this test process (manifest, partial parse, run results)."""
    from omnichannel import paths

    return str(paths.local_dir() / f"dbt-test-target{worker_suffix()}")

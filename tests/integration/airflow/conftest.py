"""Every test here runs or parses the real DAGs: this worker's Airflow metadata database is
migrated and the dbt manifest cosmos renders from is written first, whatever test of the
folder a worker happens to run first."""

import pytest

from tests.helpers.airflow import airflow_ready  # noqa: F401


@pytest.fixture(scope="session", autouse=True)
def _airflow(airflow_ready):  # noqa: F811
    pass

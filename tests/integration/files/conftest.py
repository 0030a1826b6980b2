"""The layouts here run the real DAGs, on whichever worker runs this module: the same
session set-up as tests/integration/airflow (Airflow's metadata database, dbt manifest)."""

import pytest

from tests.helpers.airflow import airflow_ready  # noqa: F401


@pytest.fixture(scope="session", autouse=True)
def _airflow(airflow_ready):  # noqa: F811
    pass

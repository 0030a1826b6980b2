"""Every test here runs or parses the real DAGs: this worker's Airflow metadata database is
migrated and the dbt manifest cosmos renders from is written first, whatever test of the
folder a worker happens to run first."""

import pytest

from omnichannel import runtime


@pytest.fixture(scope="session", autouse=True)
def airflow_ready():
    runtime.migrate_airflow_db()
    runtime.dbt_parse()

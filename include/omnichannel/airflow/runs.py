"""Running the real DAGs in this process (`dag.test()`): the demo, benchmarks and tests.

`dag.test()` creates real DAG runs in the Airflow metadata database, with every task's
state and log, without a scheduler.
"""

from __future__ import annotations

import logging
import time as clock
from datetime import date, datetime, time

log = logging.getLogger(__name__)


class DagRunError(RuntimeError):
    pass


def local_midnight(day: date, channel) -> datetime:
    return datetime.combine(day, time(0), channel.tz)


def load_dags() -> dict:
    from airflow.dag_processing.dagbag import DagBag

    from omnichannel import paths

    bag = DagBag(dag_folder=str(paths.dags_dir()))
    if bag.import_errors:
        raise DagRunError(f"DAG import errors: {bag.import_errors}")
    return bag.dags


def run_dag(
    dag, logical_date: datetime | None, may_fail: bool = False, conf: dict | None = None
) -> bool:
    started = clock.monotonic()
    run = dag.test(logical_date=logical_date, run_conf=conf)
    state = str(getattr(run, "state", "unknown"))
    log.info("%s %s: %s in %.1fs", dag.dag_id, logical_date, state, clock.monotonic() - started)
    if state.endswith("success"):
        return True
    if not may_fail:
        failed = sorted(
            ti.task_id
            for ti in run.get_task_instances()
            if getattr(ti.state, "value", ti.state) == "failed"
        )
        raise DagRunError(
            f"DAG run {dag.dag_id} ({logical_date}) ended {state}"
            + (f", failed: {', '.join(failed)}" if failed else "")
            + "; see the task logs or `make airflow`"
        )
    return False

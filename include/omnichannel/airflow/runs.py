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


def sync_dags() -> None:
    """Write every DAG (and the Assets they name) to the metadata database, as each
    `dag.test()` does first: done once before runs in several processes, whose first
    `dag.test()` calls would otherwise insert the same Assets at once (a unique violation
    on a new metadata database)."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
    from airflow.utils.session import create_session

    manager = DagBundlesManager()
    with create_session() as session:
        manager.sync_bundles_to_db(session=session)
    for bundle in manager.get_all_dag_bundles():
        if not bundle.is_initialized:
            bundle.initialize()
        bag = BundleDagBag(dag_folder=bundle.path, bundle_path=bundle.path, bundle_name=bundle.name)
        sync_bag_to_db(bag, bundle.name, bundle.version)


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

"""dbt under Airflow at dbt's own speed: one `dbt build` per DAG run, and a task per model
whose state is that model's result in the build.

Why not one dbt invocation per model (cosmos' local mode, which we ran before): each paid
dbt's start-up (~1 s on 2 cores) and Airflow's task overhead, so transform_dbt took several
times a plain `dbt build`. Why not cosmos 1.15's watcher mode, built for this: in a task
group its producer is not upstream of the model sensors, and `dag.test()` (the demo, the
tests, the benchmarks) runs ready tasks in any order with triggers inline, so a sensor can
wait for a producer that never starts; it also refuses TestBehavior.BUILD, its failing
test sensor does not name the test, and it is still marked experimental. So:

- `build` runs `dbt build` on the selection in-process (dbtRunner), once. dbt itself stops
  what depends on a model whose build or tests failed (it skips them). The task fails
  only if dbt could not run at all; every node's result goes to XCom.
- `<model>_model_build` (one per model, wired as the dbt graph) turns the model's result
  into its state: success; failed naming the model's error or its failing tests; and
  Airflow marks everything downstream of a failed model `upstream_failed` (not run).
  A test on several models gets a task of its own after all of them (`<test>_test`).
- A model task that dbt skipped (its upstream failed in the build, then was retried or
  cleared and succeeded), or one retried or cleared itself, builds its model alone
  (`dbt build --select <model>`), as cosmos' watcher falls back to.

Selection (`select`/`exclude`) follows dbt's syntax (cosmos' manifest selector renders the
tasks; dbt selects the same nodes to build). With `only_changed` (transform_dbt), a run
triggered by publications builds the models downstream of what changed since the last
build that passed (omnichannel.changes); the other model tasks succeed as "unchanged".
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path

from omnichannel import paths, runtime

log = logging.getLogger(__name__)

DBT_TARGET = "warehouse"
BUILD_TASK = "build"
FAILED = ("error", "fail")
UNCHANGED = "unchanged"  # not selected: nothing it reads changed since the last build


def test_all_rows(context) -> bool:
    """Every dbt invocation of a DAG run shares the run's test window: the first notes it
    before any model is rebuilt (dbt macro remember_test_window). Weekly (cron) runs and runs
    triggered with test_all_rows test every row; a run triggered by raw publications tests
    what they published."""
    params = context.get("params") or {}
    run = context.get("dag_run")
    return bool(params.get("test_all_rows", False)) or getattr(run, "run_type", None) == "scheduled"


def dbt_task_group(group_id: str, select=None, exclude=None, only_changed: bool = False):
    """The task group of one DAG's dbt nodes: `build`, then a task per model."""
    from airflow.sdk import TaskGroup

    select, exclude = list(select or []), list(exclude or [])
    if only_changed and select:
        raise ValueError("only_changed narrows the whole project: give exclude, not select")
    models, shared_tests = selected_graph(tuple(select), tuple(exclude))
    with TaskGroup(group_id=group_id, tooltip="one dbt build; a task per model") as group:
        nodes = sorted([*models, *shared_tests])
        build = _build_task(select, exclude, nodes if only_changed else None)
        tasks = {uid: _model_task(group_id, uid, name) for uid, (name, _) in models.items()}
        for uid, (_, parents) in models.items():
            upstream = [tasks[p] for p in parents if p in tasks]
            for task in upstream or [build]:
                task >> tasks[uid]
        for uid, (name, parents) in shared_tests.items():
            test = _model_task(group_id, uid, name, suffix="_test")
            for parent in parents:
                tasks[parent] >> test
    return group


def selected_graph(select: tuple, exclude: tuple) -> tuple[dict, dict]:
    """Models of the selection, {unique_id: (name, parent model ids)}, and the tests that
    span several of them, {unique_id: (name, parent model ids)}, from the manifest."""
    nodes = _manifest_nodes(select, exclude)
    models = {
        uid: (node["name"], [p for p in node["depends_on"]["nodes"] if p.startswith("model.")])
        for uid, node in nodes.items()
        if node["resource_type"] == "model"
    }
    shared = {}
    for uid, node in _manifest()["nodes"].items():
        if node["resource_type"] != "test":
            continue
        parents = sorted({p for p in node["depends_on"]["nodes"] if p in models})
        if len(parents) > 1:
            shared[uid] = (node["name"], parents)
    return models, shared


def _manifest() -> dict:
    manifest = paths.dbt_target_dir() / "manifest.json"
    if not manifest.exists():
        raise FileNotFoundError(f"{manifest} is missing: run `omni dbt-parse` (make does it)")
    return _read_manifest(str(manifest), manifest.stat().st_mtime_ns)


@lru_cache(maxsize=2)
def _read_manifest(path: str, mtime_ns: int) -> dict:
    """Read once per version of the file: a long-lived process sees `omni dbt-parse`'s new
    manifest (the modification time is part of the key)."""
    return json.loads(Path(path).read_text())


def _manifest_nodes(select: tuple, exclude: tuple) -> dict:
    """The manifest's nodes that dbt's selection syntax picks (cosmos' selector)."""
    from cosmos.constants import DbtResourceType
    from cosmos.dbt.graph import DbtNode
    from cosmos.dbt.selector import select_nodes

    project = paths.dbt_project_dir()
    raw = _manifest()["nodes"]
    nodes = {
        uid: DbtNode(
            unique_id=uid,
            resource_type=DbtResourceType(node["resource_type"]),
            depends_on=node["depends_on"].get("nodes", []),
            path_base=project,
            original_file_path=Path(node["original_file_path"]),
            package_name=node.get("package_name"),
            tags=node.get("tags", []),
            config=node.get("config", {}),
            fqn=node.get("fqn"),
        )
        for uid, node in raw.items()
        if node["resource_type"] in ("model", "test", "seed", "snapshot")
    }
    chosen = select_nodes(project, nodes, list(select) or None, list(exclude) or None)
    return {uid: raw[uid] for uid in chosen}


def _build_task(select: list[str], exclude: list[str], nodes: list[str] | None):
    from airflow.sdk import task

    @task(task_id=BUILD_TASK)
    def build(**context) -> dict:
        """`dbt build` of the selection, once; each node's result to XCom. With `nodes`
        (only what changed), the nodes it did not select are "unchanged"."""
        if nodes is None:
            return run_build(_selection_args(select, exclude), context)
        return build_changed(exclude, nodes, context)

    return build()


def _selection_args(select: list[str], exclude: list[str]) -> list[str]:
    return [
        *(["--select", *select] if select else []),
        *(["--exclude", *exclude] if exclude else []),
    ]


def build_changed(exclude: list[str], nodes: list[str], context) -> dict:
    """Build what changed since the last build that passed (or everything: see
    omnichannel.changes), and note the build for the next run to compare with."""
    from omnichannel import changes, warehouse
    from omnichannel.load import schema

    checksum = project_checksum()
    run = context.get("dag_run")
    with warehouse.connect(autocommit=True) as conn:
        schema.ensure_base(conn)
        plan = changes.plan(conn, checksum, test_all_rows(context))
        build_id = changes.begin(conn, str(getattr(run, "run_id", "")), checksum, plan)
    log.info("dbt build: %s", plan.reason)
    passed = False
    try:
        result = run_build(_selection_args(plan.select or [], exclude), context)
        passed = not any(describe(uid, outcome) for uid, outcome in result.items())
    finally:
        with warehouse.connect(autocommit=True) as conn:
            changes.finish(conn, build_id, passed)
    unchanged = {"status": UNCHANGED, "failed_tests": []}
    return {uid: result.get(uid, unchanged) for uid in nodes} | result


def project_checksum() -> str:
    """What the dbt project is, as far as a build goes: every node's code, config and
    parents, and every macro (not the parse's timestamps)."""
    import hashlib

    manifest = _manifest()
    parts = {
        uid: [node.get("checksum"), node.get("config"), node.get("depends_on")]
        for uid, node in manifest["nodes"].items()
    }
    parts |= {uid: [m.get("macro_sql")] for uid, m in manifest.get("macros", {}).items()}
    parts |= {uid: [src.get("config")] for uid, src in manifest.get("sources", {}).items()}
    document = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(document.encode()).hexdigest()


def _model_task(group_id: str, uid: str, name: str, suffix: str = "_model_build"):
    from airflow.sdk import task
    from airflow.sdk.exceptions import AirflowFailException

    @task(task_id=f"{name}{suffix}")
    def model(**context) -> str:
        """This node's result in the run's `dbt build` (or its own build, when dbt skipped it
        or this task runs again)."""
        ti = context["ti"]
        outcome = (ti.xcom_pull(task_ids=f"{group_id}.{BUILD_TASK}") or {}).get(uid)
        if outcome is not None and outcome["status"] == UNCHANGED and ti.try_number == 1:
            log.info("%s: not built, nothing it reads changed since the last build", name)
            return UNCHANGED
        if outcome is None or outcome["status"] == "skipped" or ti.try_number > 1:
            why = "this task runs again" if ti.try_number > 1 else "not built in the run's build"
            log.info("%s: building it alone (%s)", name, why)
            outcome = run_build(["--select", name], context).get(uid) or {"status": "skipped"}
        problem = describe(name, outcome)
        if problem is None:
            return outcome["status"]
        if outcome.get("failed_tests") and not outcome.get("error"):
            raise AirflowFailException(problem)  # the data fails its tests: no retry helps
        raise RuntimeError(problem)  # an error (a lock timeout, the server): retried

    return model()


def describe(name: str, outcome: dict) -> str | None:
    """None for a node that built and passed its tests; else what went wrong, naming the
    failing tests."""
    lines = []
    if outcome.get("error"):
        lines.append(f"dbt: {name} failed: {outcome['error']}")
    for test in outcome.get("failed_tests", []):
        lines.append(f"dbt test {test['name']} failed on {name}: {test['message']}")
    if not lines and outcome.get("status") == "skipped":
        lines.append(f"dbt: {name} was not built")
    return "\n".join(lines) or None


def run_build(args: list[str], context) -> dict:
    """`dbt build` in this process (dbtRunner), the run's test window shared; returns
    {unique_id: {status, error, failed_tests, seconds}} of the models and shared tests."""
    from dbt.cli.main import dbtRunner

    project = paths.dbt_project_dir()
    target = (
        paths.dbt_target_dir()
        / "runs"
        / str(context.get("dag").dag_id if context.get("dag") else "dbt")
    )
    command = [
        "build",
        "--project-dir", str(project),
        "--profiles-dir", str(project),
        "--target", DBT_TARGET,
        "--target-path", str(target),
        *args,
    ]  # fmt: skip
    with runtime.environment_overrides({"OMNI_DBT_TEST_ALL_ROWS": str(test_all_rows(context))}):
        result = dbtRunner().invoke(command)
    if result.exception is not None or result.result is None:
        raise RuntimeError(f"dbt build did not run: {result.exception}")
    return outcomes(result.result.results)


def outcomes(results) -> dict:
    """Per model, and per test spanning several models, what the build did: a test on
    one model adds to its model's failed_tests when it fails."""
    manifest_nodes = _manifest()["nodes"]
    out: dict[str, dict] = {}
    for r in results:
        node = r.node
        status = str(getattr(r.status, "value", r.status))
        if node.resource_type not in ("model", "test", "unit_test"):
            continue
        parents = {
            p for p in manifest_nodes.get(node.unique_id, {}).get("depends_on", {}).get("nodes", [])
            if p.startswith("model.")
        }  # fmt: skip
        if node.resource_type == "model" or (node.resource_type == "test" and len(parents) > 1):
            entry = out.setdefault(node.unique_id, {"failed_tests": []})
            entry.update(status=status, seconds=round(r.execution_time or 0.0, 2))
            if status in FAILED and node.resource_type == "model":
                entry["error"] = (r.message or "")[:2000]
        if node.resource_type != "model" and status in FAILED:
            owner = node.unique_id if len(parents) > 1 else next(iter(parents), None)
            entry = out.setdefault(owner, {"status": "success", "failed_tests": []})
            entry["failed_tests"].append(
                {"name": node.name, "message": (r.message or status)[:500]}
            )
    return out

"""dbt under Airflow: the cosmos task group the transform and forecast DAGs run."""

from __future__ import annotations

from omnichannel import paths

DBT_PROFILE = "omnichannel"
DBT_TARGET = "warehouse"

# Every dbt invocation of a DAG run (cosmos runs one per model, with the run's id in
# AIRFLOW_CTX_DAG_RUN_ID) shares the run's test window: the first notes it before any model
# is rebuilt (dbt macro remember_test_window). Weekly (cron) runs and runs triggered with
# test_all_rows test every row. Environment, not dbt vars: vars that change with every
# run would cost each task a full parse of the project.
DBT_RUN_ENV = {
    "OMNI_DBT_TEST_ALL_ROWS": (
        "{{ params.get('test_all_rows', False) or dag_run.run_type == 'scheduled' }}"
    ),
}


def dbt_task_group(group_id: str, select=None, exclude=None):
    from cosmos import (
        DbtTaskGroup,
        ExecutionConfig,
        ExecutionMode,
        InvocationMode,
        LoadMode,
        ProfileConfig,
        ProjectConfig,
        RenderConfig,
        TestBehavior,
    )

    project = paths.dbt_project_dir()
    manifest = paths.dbt_target_dir() / "manifest.json"
    if not manifest.exists():
        raise FileNotFoundError(f"{manifest} is missing: run `omni dbt-parse` (make does it)")
    return DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            project, manifest_path=manifest, install_dbt_deps=False, partial_parse=True
        ),
        profile_config=ProfileConfig(
            profile_name=DBT_PROFILE,
            target_name=DBT_TARGET,
            profiles_yml_filepath=project / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.DBT_RUNNER,
            dbt_executable_path=_dbt_executable(),
        ),
        # BUILD: one `dbt build` per model, so a failing test fails that model's task
        # and no model downstream of it is published. Tests spanning several models
        # (reconciliations) get a task of their own after all their parents.
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.BUILD,
            should_detach_multiple_parents_tests=True,
            select=select or [],
            exclude=exclude or [],
        ),
        operator_args={"install_deps": False, "env": DBT_RUN_ENV},
    )


def _dbt_executable() -> str:
    from omnichannel.runtime import venv_bin

    return venv_bin("dbt")

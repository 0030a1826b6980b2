"""dbt against the test warehouse, with the world's reference files loaded."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, time
from pathlib import Path

from omnichannel import paths, warehouse
from tests.helpers.workers import dbt_target


def reference_path() -> Path:
    """Where this test process's simulators write the brand's reference files."""
    return Path(os.environ["OMNI_REFERENCE_PATH"])


def load_world_reference(world) -> None:
    """The brand's reference files of `world` (product master, FX rates to its last day),
    written and loaded as the transform DAG's load_reference task does."""
    from omnichannel.reference import load_reference
    from omnisim.files import reference

    reference.drop(world, reference_path(), datetime.combine(world.dates[-1], time(12)))
    load_reference(reference_path())


def dbt_build(world, *args: str) -> None:
    """`dbt build` (extra arguments: `args`) after loading the reference files of `world`."""
    from omnichannel.config import load_channels
    from omnichannel.pipeline import prepare_all

    prepare_all(load_channels())  # raw tables of channels this test does not load
    load_world_reference(world)
    result = run_dbt("build", *args)
    assert result.returncode == 0, result.stdout[-3000:]


def run_dbt(command: str, *args: str, env=None) -> subprocess.CompletedProcess:
    """One dbt command against the test warehouse (`env`: more environment variables),
    its output captured."""
    project = paths.dbt_project_dir()
    dbt = str(Path(sys.executable).with_name("dbt"))
    return subprocess.run(
        [dbt, command, "--project-dir", str(project), "--profiles-dir", str(project),
         "--target-path", dbt_target(), *args],
        env={**os.environ, **warehouse.dbt_env(), **(env or {})}, capture_output=True, text=True,
    )  # fmt: skip

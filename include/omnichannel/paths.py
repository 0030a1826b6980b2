"""Where things live on disk. OMNI_HOME overrides the project root (e.g. in containers)."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    override = os.environ.get("OMNI_HOME")
    if override:
        return Path(override).resolve()
    # include/omnichannel/paths.py -> project root is two levels above the package
    return Path(__file__).resolve().parents[2]


def local_dir() -> Path:
    """Machine-local state: embedded PostgreSQL, AIRFLOW_HOME, logs. Never committed."""
    return Path(os.environ.get("OMNI_LOCAL_DIR", project_root() / ".local")).resolve()


def config_dir() -> Path:
    return Path(os.environ.get("OMNI_CONFIG_DIR", project_root() / "include" / "config"))


def dbt_project_dir() -> Path:
    return project_root() / "dbt_project"


def dbt_target_dir() -> Path:
    """Where the dbt manifest cosmos renders from is written: OMNI_DBT_TARGET_DIR, so the
    project itself can be mounted read-only in a container. (Not DBT_TARGET_PATH: every dbt
    task would then write its artefacts into the one shared folder.)"""
    override = os.environ.get("OMNI_DBT_TARGET_DIR")
    return Path(override) if override else dbt_project_dir() / "target"


def dags_dir() -> Path:
    return project_root() / "dags"


def plugins_dir() -> Path:
    return project_root() / "plugins"

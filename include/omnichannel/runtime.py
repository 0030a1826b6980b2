"""Process environment for Airflow and dbt in the embedded default set-up.

Everything is derived from the warehouse URL and the project layout; variables the user
already set win, so the same commands work against an existing PostgreSQL or Airflow DB.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from omnichannel import paths, warehouse

log = logging.getLogger(__name__)


def airflow_home() -> Path:
    return Path(os.environ.get("AIRFLOW_HOME") or paths.local_dir() / "airflow")


def environment() -> dict[str, str]:
    """Defaults for Airflow and dbt; a variable already set in the environment wins."""
    include = str(paths.project_root() / "include")
    defaults = {
        "OMNI_HOME": str(paths.project_root()),
        "AIRFLOW_HOME": str(airflow_home()),
        "AIRFLOW__CORE__DAGS_FOLDER": str(paths.dags_dir()),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(paths.plugins_dir()),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": warehouse.sqlalchemy_url(warehouse.AIRFLOW_DATABASE),
        "GX_ANALYTICS_ENABLED": "false",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **warehouse.dbt_env(),
    }
    env = {key: os.environ.get(key, value) for key, value in defaults.items()}
    # task processes import the library from include/ even without the editable install
    pythonpath = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([include, *[p for p in pythonpath if p != include]])
    return env


def apply() -> dict[str, str]:
    """Start the warehouse and export the environment into this process."""
    warehouse.start()
    env = environment()
    os.environ.update(env)
    airflow_home().mkdir(parents=True, exist_ok=True)
    return env


@contextmanager
def environment_overrides(values: dict[str, str]):
    """Variables set for what runs inside the block, put back as they were afterwards (a
    later run in the same process must not see them)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def venv_bin(name: str) -> str:
    """A console script of this environment: beside the interpreter in a virtualenv, on
    PATH in the Airflow image (a user install under ~/.local/bin)."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def migrate_airflow_db() -> None:
    """`airflow db migrate`, skipped when this Airflow version already migrated this DB."""
    from importlib.metadata import version

    db_url = os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    stamp = hashlib.sha256(f"{version('apache-airflow-core')}|{db_url}".encode()).hexdigest()
    marker = airflow_home() / ".migrated"
    if marker.exists() and marker.read_text() == stamp and _airflow_db_present():
        ensure_pools()
        return
    log.info("migrating the Airflow metadata database")
    subprocess.run(
        [venv_bin("airflow"), "db", "migrate"],
        check=True,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
    )
    marker.write_text(stamp)
    ensure_pools()


def ensure_pools() -> None:
    """One Airflow pool per channel instance (`pool_<channel_id>`, `concurrency` slots):
    however many runs are active (catch-up, backfills), a channel's API sees at most that
    many extract tasks at a time, so its rate limit holds across runs."""
    from omnichannel.config import load_channels

    pools = {
        pool_name(c.channel_id): {
            "slots": int(c.options.get("concurrency", 1)),
            "description": f"API calls to channel {c.channel_id} ({c.kind})",
            "include_deferred": False,
        }
        for c in load_channels().channels
    }
    document = json.dumps(pools, sort_keys=True)
    # per metadata database (the tests use their own); a hash: the URL holds a password
    stamp = hashlib.sha256(
        f"{os.environ.get('AIRFLOW__DATABASE__SQL_ALCHEMY_CONN', '')}\n{document}".encode()
    ).hexdigest()
    marker = airflow_home() / ".pools"
    if marker.exists() and marker.read_text() == stamp and _airflow_db_present():
        return
    path = airflow_home() / "pools.json"
    path.write_text(document)
    subprocess.run(
        [venv_bin("airflow"), "pools", "import", str(path)],
        check=True,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
    )
    marker.write_text(stamp)


def pool_name(channel_id: str) -> str:
    return f"pool_{channel_id}"


def _airflow_db_present() -> bool:
    import psycopg

    if os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "").startswith("sqlite"):
        return True
    try:
        with psycopg.connect(warehouse.url(warehouse.AIRFLOW_DATABASE)) as conn:
            return bool(conn.execute("select to_regclass('public.alembic_version')").fetchone()[0])
    except psycopg.Error:
        return False


def dbt_parse() -> Path:
    """Write manifest.json (cosmos renders the DAG from it) into paths.dbt_target_dir()."""
    project = paths.dbt_project_dir()
    target = paths.dbt_target_dir()
    manifest = target / "manifest.json"
    sources = sorted(
        p
        for p in project.rglob("*")
        if p.is_file() and "target" not in p.parts and "logs" not in p.parts
    )
    digest = hashlib.sha256()
    for path in sources:
        digest.update(str(path.relative_to(project)).encode())
        digest.update(path.read_bytes())
    marker = target / ".sources.sha256"
    if manifest.exists() and marker.exists() and marker.read_text() == digest.hexdigest():
        return manifest
    subprocess.run(
        [
            venv_bin("dbt"),
            "parse",
            "--quiet",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
        ],
        check=True,
        # both beside the manifest: the project may be read-only (the production image)
        env={**os.environ, "DBT_TARGET_PATH": str(target), "DBT_LOG_PATH": str(target / "logs")},
    )
    marker.write_text(digest.hexdigest())
    return manifest

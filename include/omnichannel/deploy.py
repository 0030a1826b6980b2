"""What the production stack's init service does (`omni deploy init`, docker-compose.yml's
`airflow-init`), after the image's entrypoint has migrated Airflow's metadata database and
created the admin user. Every step is idempotent: the service runs on each `up`.

1. Warehouse roles: the pipeline's own role (the user of OMNI_WAREHOUSE_URL) owns the
   warehouse database but is no superuser; `bi_reader` may only read `marts`. Done with the
   server's admin account (OMNI_WAREHOUSE_ADMIN_URL), which nothing else uses.
2. The pipeline's tables (ledger, landing, raw, quarantine, ops, forecast) and bi_reader's
   grants, as the pipeline's role, so it owns what it creates.
3. Airflow: one pool per channel (rate limits), and the `omni_warehouse` connection (for
   SQL in the UI and operators of your own).
4. The dbt manifest cosmos renders the transform DAG from (OMNI_DBT_TARGET_DIR).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile

from omnichannel import runtime, warehouse
from omnichannel.warehouse import roles

log = logging.getLogger(__name__)

WAREHOUSE_CONNECTION = "omni_warehouse"
PLACEHOLDER = "change-me"  # .env.example's value for every secret


def init(admin_url: str | None = None) -> None:
    from omnichannel.config import load_channels
    from omnichannel.pipeline import prepare_all

    check_settings(os.environ)
    admin_url = admin_url or os.environ.get("OMNI_WAREHOUSE_ADMIN_URL")
    if admin_url:
        roles.ensure_warehouse_roles(admin_url, warehouse.url(), warehouse.bi_password())
    else:
        log.info("OMNI_WAREHOUSE_ADMIN_URL not set: the warehouse roles are left as they are")
    prepare_all(load_channels())
    log.info("warehouse tables and bi_reader's grants in place")
    runtime.ensure_pools()
    import_connections({WAREHOUSE_CONNECTION: warehouse_connection(warehouse.url())})
    log.info("Airflow pools and the %s connection in place", WAREHOUSE_CONNECTION)
    manifest = runtime.dbt_parse()
    log.info("dbt manifest: %s", manifest)


def check_settings(environ) -> None:
    """Refuse to start a stack whose .env still holds the template's placeholders."""
    left = sorted(name for name, value in environ.items() if value == PLACEHOLDER)
    if left:
        raise ValueError(f"replace {PLACEHOLDER!r} in .env: {', '.join(left)}")


def warehouse_connection(url: str) -> dict:
    """An Airflow connection (import format) for a libpq URL."""
    parts = warehouse.url_parts(url)
    return {
        "conn_type": "postgres",
        "host": parts.host,
        "port": parts.port,
        "login": parts.user,
        "password": parts.password,
        "schema": parts.database,
    }


def import_connections(connections: dict[str, dict]) -> None:
    """`airflow connections import --overwrite`: created, or updated to these values."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as file:
        os.chmod(file.name, 0o600)  # it holds passwords; removed when closed
        json.dump(connections, file)
        file.flush()
        subprocess.run(
            [runtime.venv_bin("airflow"), "connections", "import", "--overwrite", file.name],
            check=True,
            env=os.environ.copy(),
            stdout=subprocess.DEVNULL,
        )

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

import base64
import hashlib
import hmac
import json
import logging
import os
import subprocess
import tempfile

import psycopg
from psycopg import sql

from omnichannel import bi, runtime, warehouse

log = logging.getLogger(__name__)

WAREHOUSE_CONNECTION = "omni_warehouse"
PLACEHOLDER = "change-me"  # .env.example's value for every secret


def init(admin_url: str | None = None) -> None:
    from omnichannel.config import load_channels
    from omnichannel.pipeline import prepare_all

    check_settings(os.environ)
    admin_url = admin_url or os.environ.get("OMNI_WAREHOUSE_ADMIN_URL")
    if admin_url:
        ensure_warehouse_roles(admin_url, warehouse.url(), bi.password())
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


def ensure_warehouse_roles(admin_url: str, owner_url: str, bi_password: str) -> None:
    """The owner role of `owner_url` (login, no superuser) owning its database, and the
    bi_reader login role. Passwords are (re)set from the given URLs: rotating a secret is
    changing it in .env and running init again."""
    owner = warehouse.url_parts(owner_url)
    role, password, database = owner.user, owner.password, owner.database
    if not role:
        raise ValueError("OMNI_WAREHOUSE_URL names no user")
    if role in (warehouse.url_parts(admin_url).user, bi.ROLE):
        # it would lose its superuser rights, or the pipeline would run as the BI reader
        raise ValueError(f"the pipeline's role {role!r} must be a role of its own")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        _ensure_login_role(conn, role, password)
        _ensure_login_role(conn, bi.ROLE, bi_password)
        if not conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone():
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
        conn.execute(
            sql.SQL("alter database {} owner to {}").format(
                sql.Identifier(database), sql.Identifier(role)
            )
        )
        # bi_reader connects, and reads only what `marts` grants it (bi.ensure_bi_reader)
        conn.execute(
            sql.SQL("revoke all on database {} from public").format(sql.Identifier(database))
        )
        conn.execute(
            sql.SQL("grant connect on database {} to {}").format(
                sql.Identifier(database), sql.Identifier(bi.ROLE)
            )
        )
        # a BI query that runs away, or a transaction left open in a SQL editor, would hold
        # the lock dbt's table swap waits for
        for setting, value in bi.SESSION_LIMITS.items():
            conn.execute(
                sql.SQL("alter role {} set {} = {}").format(
                    sql.Identifier(bi.ROLE), sql.Identifier(setting), sql.Literal(value)
                )
            )


def _ensure_login_role(conn: psycopg.Connection, role: str, password: str) -> None:
    row = conn.execute("select rolpassword from pg_authid where rolname = %s", (role,)).fetchone()
    attributes = "login nosuperuser nocreatedb nocreaterole"
    if row and password_matches(row[0], password):
        # unchanged: keep the stored verifier (a new one would differ only by its salt)
        conn.execute(sql.SQL("alter role {} with " + attributes).format(sql.Identifier(role)))
        return
    verb = "alter" if row else "create"
    conn.execute(
        sql.SQL(verb + " role {} with " + attributes + " password {}").format(
            sql.Identifier(role), sql.Literal(password)
        )
    )


def password_matches(verifier: str | None, password: str) -> bool:
    """Whether a SCRAM-SHA-256 verifier of pg_authid (RFC 5802/7677) is this password's:
    `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, base64 parts."""
    if not verifier or not verifier.startswith("SCRAM-SHA-256$"):
        return False
    try:
        _, params, keys = verifier.split("$")
        iterations, salt = params.split(":")
        _, server_key = keys.split(":")
        salted = hashlib.pbkdf2_hmac(
            "sha256", password.encode(), base64.b64decode(salt), int(iterations)
        )
    except ValueError:
        return False
    expected = hmac.new(salted, b"Server Key", "sha256").digest()
    return hmac.compare_digest(expected, base64.b64decode(server_key))


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

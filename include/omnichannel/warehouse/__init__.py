"""Warehouse connection settings and the embedded PostgreSQL of the default set-up.

OMNI_WAREHOUSE_URL (a libpq URL) points everything at an existing server. When it is unset,
a private PostgreSQL 16 (from the `pgserver` wheel) runs under .local/pgdata, listening on
127.0.0.1 only, with generated passwords kept in .local/warehouse.json (mode 600). As on a
server of your own (docs/operations.md), the pipeline's role `omni` owns its databases but
is no superuser; the superuser `omni_admin` only creates roles and databases.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import psycopg
from psycopg import sql

from omnichannel.paths import local_dir
from omnichannel.warehouse import roles

log = logging.getLogger(__name__)
DEFAULT_PORT = 54329
SYSTEM_USER = "pgserver"  # postgres refuses to run as root; pgserver's convention
DATABASE = "omni"
AIRFLOW_DATABASE = "airflow"
ADMIN_USER = "omni_admin"


class WarehouseError(RuntimeError):
    pass


@dataclass(frozen=True)
class EmbeddedState:
    port: int
    user: str  # the pipeline's role (no superuser)
    password: str
    database: str
    admin_user: str = ""  # the server's superuser; empty in a state made before it existed
    admin_password: str = ""

    def url(self, database: str | None = None) -> str:
        return (
            f"postgresql://{self.user}:{quote(self.password)}@127.0.0.1:{self.port}/"
            f"{database or self.database}"
        )

    def admin_url(self, database: str = "postgres") -> str:
        user, password = (
            (self.admin_user, self.admin_password)
            if self.admin_user
            else (self.user, self.password)
        )
        return f"postgresql://{user}:{quote(password)}@127.0.0.1:{self.port}/{database}"


def external_url() -> str | None:
    return os.environ.get("OMNI_WAREHOUSE_URL") or None


def pgdata() -> Path:
    return local_dir() / "pgdata"


def _state_file() -> Path:
    return local_dir() / "warehouse.json"


def _read_state() -> EmbeddedState | None:
    try:
        return EmbeddedState(**json.loads(_state_file().read_text()))
    except FileNotFoundError:
        return None


def url(database: str | None = None) -> str:
    """The warehouse libpq URL (psql accepts it). Raises if the embedded one was never set up."""
    external = external_url()
    if external:
        return _with_database(external, database) if database else external
    state = _read_state()
    if state is None:
        raise WarehouseError(
            "embedded warehouse not set up: run `omni warehouse start` (or set OMNI_WAREHOUSE_URL)"
        )
    return state.url(database)


def admin_url(database: str = "postgres") -> str:
    """A superuser's URL, for creating roles and databases (set-up and tests only):
    OMNI_WAREHOUSE_ADMIN_URL, or the embedded server's admin."""
    given = os.environ.get("OMNI_WAREHOUSE_ADMIN_URL")
    if given:
        return _with_database(given, database)
    state = _read_state()
    if state is None:
        raise WarehouseError("no admin URL: set OMNI_WAREHOUSE_ADMIN_URL")
    return state.admin_url(database)


def _with_database(libpq_url: str, database: str) -> str:
    parts = urlsplit(libpq_url)
    return parts._replace(path=f"/{database}").geturl()


def connect(**kwargs) -> psycopg.Connection:
    return psycopg.connect(url(), **kwargs)


def _bin(name: str) -> str:
    return str(_pgserver_bin_path() / name)


def _pgserver_bin_path() -> Path:
    import warnings

    with warnings.catch_warnings():
        # pgserver's package import probes XDG_RUNTIME_DIR, which we do not use
        warnings.simplefilter("ignore")
        from pgserver._commands import POSTGRES_BIN_PATH
    return POSTGRES_BIN_PATH


def _run_as_owner(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    user = SYSTEM_USER if os.geteuid() == 0 else None
    return subprocess.run(args, check=True, capture_output=True, text=True, user=user, **kwargs)


def _prepare_root_ownership(data: Path) -> None:
    """As root, let the unprivileged system user reach the binaries and own the data dir."""
    import pwd
    import stat

    POSTGRES_BIN_PATH = _pgserver_bin_path()  # noqa: N806
    from pgserver.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(SYSTEM_USER)
    ensure_prefix_permissions(data)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    read, execute = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
    ensure_folder_permissions(POSTGRES_BIN_PATH, read | execute)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read)
    entry = pwd.getpwnam(SYSTEM_USER)
    os.chown(data, entry.pw_uid, entry.pw_gid)


def _free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise WarehouseError("no free TCP port on 127.0.0.1")


def _init_embedded() -> EmbeddedState:
    data = pgdata()
    data.mkdir(parents=True, exist_ok=True)
    data.chmod(0o700)
    state = EmbeddedState(
        port=_free_port(int(os.environ.get("OMNI_WAREHOUSE_PORT", DEFAULT_PORT))),
        user="omni",
        password=secrets.token_urlsafe(18),
        database=DATABASE,
        admin_user=ADMIN_USER,
        admin_password=secrets.token_urlsafe(18),
    )
    if os.geteuid() == 0:
        _prepare_root_ownership(data)
    # read by the system user during initdb only, then removed: a folder of its own that
    # only it may enter, never a world-readable file
    private = Path(tempfile.mkdtemp(prefix="omni-initdb-"))
    pwfile = private / "pwfile"
    pwfile.write_text(state.admin_password + "\n")
    pwfile.chmod(0o600)
    if os.geteuid() == 0:
        import pwd

        entry = pwd.getpwnam(SYSTEM_USER)
        for path in (private, pwfile):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    try:
        _run_as_owner(
            [
                _bin("initdb"),
                "-D",
                str(data),
                "-U",
                state.admin_user,
                "--pwfile",
                str(pwfile),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        )
    except subprocess.CalledProcessError as exc:
        raise WarehouseError(f"initdb failed:\n{exc.stderr}") from exc
    finally:
        shutil.rmtree(private, ignore_errors=True)
    _write_state(state)
    return state


def _write_state(state: EmbeddedState) -> None:
    write_private(_state_file(), json.dumps(state.__dict__))


def write_private(path: Path, text: str) -> None:
    """A file only its owner may read (it holds a secret), never readable in between."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode otherwise
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def _is_running(data: Path) -> bool:
    user = SYSTEM_USER if os.geteuid() == 0 else None  # pg_ctl refuses to run as root
    result = subprocess.run(
        [_bin("pg_ctl"), "-D", str(data), "status"], capture_output=True, user=user
    )
    return result.returncode == 0


def start() -> str:
    """Start (or reuse) the warehouse and make sure its databases exist. Idempotent."""
    if external_url():
        ensure_databases()
        return url()
    local_dir().mkdir(parents=True, exist_ok=True)
    state = _read_state()
    if state is None or not (pgdata() / "PG_VERSION").exists():
        state = _init_embedded()
    if not _is_running(pgdata()):
        log_file = pgdata() / "server.log"
        options = (
            f"-c listen_addresses=127.0.0.1 -p {state.port} "
            f"-c unix_socket_directories='' -c max_connections=200 {_tuning()}"
        )
        try:
            _run_as_owner(
                [
                    _bin("pg_ctl"),
                    "-D",
                    str(pgdata()),
                    "-l",
                    str(log_file),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            )
        except subprocess.CalledProcessError as exc:
            tail = log_file.read_text()[-2000:] if log_file.exists() else ""
            raise WarehouseError(
                f"could not start the embedded PostgreSQL:\n{exc.stderr}\n{tail}"
            ) from exc
    _wait_until_ready(state.admin_url())
    if state.admin_user:
        _ensure_roles(state)
    else:
        # initdb's own user cannot lose its superuser rights: only a new warehouse splits them
        log.warning(
            "this embedded warehouse predates the pipeline's own role: it runs as a superuser."
            " `make clean` (or removing .local/pgdata and .local/warehouse.json) makes a new "
            "one with an unprivileged pipeline role"
        )
    ensure_databases()
    return state.url()


def _ensure_roles(state: EmbeddedState) -> None:
    """The pipeline's role (login, no superuser) owning the warehouse database, bi_reader,
    and the warehouse's settings, as `omni deploy init` sets them up on a server of yours."""
    roles.ensure_warehouse_roles(state.admin_url(), state.url(), bi_password())
    with psycopg.connect(state.admin_url(), autocommit=True) as conn:
        # the server's own databases: only the admin connects (bi_reader: the warehouse only)
        for name in ("postgres", "template1"):
            conn.execute(sql.SQL("revoke connect, temporary on database {} from public").format(
                sql.Identifier(name)
            ))  # fmt: skip


def _tuning() -> str:
    """Settings for bulk loads (the embedded server only; an external one is the user's).
    max_wal_size: a million-row publish writes about 1 GB of WAL, and with the default (1 GB)
    a checkpoint starts in the middle of it and doubles its time. shared_buffers: an
    eighth of the memory (128 MB to 1 GB), so that the key index of a raw table with a few
    million rows stays cached while a batch is merged into it. work_mem: the marts' sorts
    and hash aggregates over a million order lines spill to disk at the default 4 MB."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    buffers_mb = min(1024, max(128, memory // 8 // 2**20))
    return f"-c max_wal_size=4GB -c shared_buffers={buffers_mb}MB -c work_mem=64MB"


def _wait_until_ready(libpq_url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(libpq_url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def ensure_databases() -> None:
    """The Airflow metadata database lives beside the warehouse unless configured otherwise."""
    if os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
        return
    if external_url():
        with psycopg.connect(url(), autocommit=True) as conn:
            _create_database(conn, AIRFLOW_DATABASE)
        return
    create_owned_database(AIRFLOW_DATABASE)


def create_owned_database(
    name: str, recreate: bool = False, owner: str | None = None, bi_reader: bool = False
) -> None:
    """A database of the embedded server (or OMNI_WAREHOUSE_ADMIN_URL's) owned by the
    pipeline's role, which only its owner may connect to (bi_reader connects to the
    warehouse database alone, granted by roles.ensure_warehouse_roles)."""
    owner = owner or url_parts().user
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        if recreate:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )
        _create_database(conn, name)
        database = sql.Identifier(name)
        conn.execute(
            sql.SQL("alter database {} owner to {}").format(database, sql.Identifier(owner))
        )
        conn.execute(sql.SQL("revoke all on database {} from public").format(database))
        if bi_reader:
            conn.execute(sql.SQL("grant connect on database {} to bi_reader").format(database))


def _create_database(conn: psycopg.Connection, name: str) -> None:
    exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
    if not exists:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


def stop() -> bool:
    if external_url() or not (pgdata() / "PG_VERSION").exists() or not _is_running(pgdata()):
        return False
    _run_as_owner([_bin("pg_ctl"), "-D", str(pgdata()), "-m", "fast", "-w", "stop"])
    return True


def status() -> dict:
    if external_url():
        target = url()
        try:
            psycopg.connect(target, connect_timeout=3).close()
            running = True
        except psycopg.OperationalError:
            running = False
        return {"mode": "external", "running": running, "url": _redact(target)}
    state = _read_state()
    running = bool(state) and (pgdata() / "PG_VERSION").exists() and _is_running(pgdata())
    return {
        "mode": "embedded",
        "running": running,
        "pgdata": str(pgdata()),
        "url": _redact(state.url()) if state else None,
    }


def _redact(libpq_url: str) -> str:
    parts = urlsplit(libpq_url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return libpq_url


def sqlalchemy_url(database: str | None = None) -> str:
    """The same server for SQLAlchemy users (Airflow's metadata database)."""
    return url(database).replace("postgresql://", "postgresql+psycopg2://", 1)


@dataclass(frozen=True)
class UrlParts:
    host: str
    port: int
    user: str
    password: str
    database: str


def url_parts(libpq_url: str | None = None) -> UrlParts:
    """Host, port, user, password and database of a libpq URL (default: the warehouse's)."""
    parts = urlsplit(libpq_url or url())
    return UrlParts(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        database=parts.path.lstrip("/") or DATABASE,
    )


def dbt_env() -> dict[str, str]:
    """Connection settings for dbt_project/profiles.yml, derived from the warehouse URL, and
    the installation's customer-key secret as a session setting of dbt's connections."""
    parts = url_parts()
    secret = f"-c {CUSTOMER_KEY_SETTING}={customer_key_secret()}"
    options = os.environ.get("PGOPTIONS", "")
    if CUSTOMER_KEY_SETTING not in options:
        options = f"{options} {secret}".strip()
    return {
        "OMNI_PGHOST": parts.host,
        "OMNI_PGPORT": str(parts.port),
        "OMNI_PGUSER": parts.user,
        "OMNI_PGPASSWORD": parts.password,
        "OMNI_PGDATABASE": parts.database,
        "PGOPTIONS": options,
    }


# customer_key (dbt macro) is a hash of the e-mail keyed with this installation's secret, so
# a mart's keys cannot be matched against a list of hashed addresses; BI joins to a CRM
# compute the same key with the same secret (docs/marts.md)
CUSTOMER_KEY_SETTING = "omni.customer_key_secret"


def customer_key_secret() -> str:
    """OMNI_CUSTOMER_KEY_SECRET, or one generated on first use into .local (mode 600)."""
    import re

    secret = local_secret("OMNI_CUSTOMER_KEY_SECRET", "customer_key.json", "secret", 24)
    if not re.fullmatch(r"[A-Za-z0-9_-]{16,}", secret):
        raise WarehouseError("OMNI_CUSTOMER_KEY_SECRET: 16 or more letters, digits, '-' or '_'")
    return secret


def bi_password() -> str:
    """bi_reader's password: OMNI_BI_READER_PASSWORD, else generated once (mode 600)."""
    return local_secret("OMNI_BI_READER_PASSWORD", "bi_reader.json", "password")


def local_secret(variable: str, file_name: str, key: str, nbytes: int = 18) -> str:
    """The environment's `variable`, else a secret generated on first use and kept in
    .local/`file_name` (mode 600) under `key`."""
    given = os.environ.get(variable)
    if given:
        return given
    path = local_dir() / file_name
    try:
        return json.loads(path.read_text())[key]
    except FileNotFoundError:
        secret = secrets.token_urlsafe(nbytes)
        write_private(path, json.dumps({key: secret}))
        return secret


# what the pipeline writes (not Airflow's metadata): `reset` drops it all
PIPELINE_SCHEMAS = (
    "landing",
    "raw",
    "quarantine",
    "ops",
    "reference",
    "staging",
    "intermediate",
    "marts",
    "forecast",
)


def reset() -> None:
    """Drop everything the pipeline wrote (not Airflow's metadata)."""
    from psycopg import sql

    with connect(autocommit=True) as conn:
        for schema in PIPELINE_SCHEMAS:
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))

"""`omni deploy init`, what the production stack's init service runs, against the real
PostgreSQL and Airflow metadata database of the tests: the pipeline's role owns the
warehouse without being a superuser, bi_reader reads marts and nothing else, a second run
changes nothing but rotated passwords, and Airflow gets its warehouse connection."""

from __future__ import annotations

import json
import subprocess
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

from omnichannel import bi, deploy, runtime, warehouse
from omnichannel.warehouse import roles

pytestmark = pytest.mark.integration

DATABASE = "omni_deploy_test"
OWNER = "omni_deploy_owner"


def _as(url: str, user: str, password: str, database: str = DATABASE) -> str:
    parts = urlsplit(url)
    return parts._replace(
        netloc=f"{user}:{password}@{parts.hostname}:{parts.port}", path=f"/{database}"
    ).geturl()


def _rows(url: str, query: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


@pytest.fixture
def fresh_database():
    admin = warehouse.admin_url()  # the tests' server, as its superuser
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(DATABASE))
        )
    yield admin
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(DATABASE))
        )


def test_init_sets_up_roles_tables_and_the_airflow_connection(fresh_database, monkeypatch):
    # as in compose, where the image's entrypoint migrates Airflow's database before init
    runtime.migrate_airflow_db()
    admin = fresh_database
    owner_url = _as(admin, OWNER, "first-secret")
    monkeypatch.setenv("OMNI_WAREHOUSE_URL", owner_url)
    deploy.init(admin_url=admin)

    [(superuser, login, owner)] = _rows(
        admin,
        "select r.rolsuper, r.rolcanlogin, pg_get_userbyid(d.datdba) from pg_roles r, "
        "pg_database d where r.rolname = %s and d.datname = %s",
        OWNER,
        DATABASE,
    )
    assert (superuser, login, owner) == (False, True, OWNER)
    # the pipeline's tables belong to its own role
    assert _rows(owner_url, "select tableowner from pg_tables where tablename = 'alerts'") == [
        (OWNER,)
    ]
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute("create table marts.kpi (gmv numeric)")  # as dbt would
        conn.execute("insert into marts.kpi values (12.50)")

    reader = _as(admin, bi.ROLE, bi.password())
    assert _rows(reader, "select gmv::text from marts.kpi") == [("12.50",)]
    for forbidden in (
        "select * from ops.alerts",
        "insert into marts.kpi values (1)",
        "create table marts.mine (x int)",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _rows(reader, forbidden)

    # Airflow's connection to the warehouse, as the pipeline's role
    shown = subprocess.run(
        [
            runtime.venv_bin("airflow"),
            "connections",
            "get",
            deploy.WAREHOUSE_CONNECTION,
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    [connection] = json.loads(shown.stdout)
    assert (connection["conn_type"], connection["login"], connection["schema"]) == (
        "postgres",
        OWNER,
        DATABASE,
    )

    # every `docker compose up` runs init again: nothing changes...
    verifier = "select rolpassword from pg_authid where rolname = %s"
    [(first,)] = _rows(admin, verifier, OWNER)
    assert roles.password_matches(first, "first-secret")
    deploy.init(admin_url=admin)
    assert _rows(admin, verifier, OWNER) == [(first,)]
    # ...but a rotated password, which becomes the role's
    monkeypatch.setenv("OMNI_WAREHOUSE_URL", _as(admin, OWNER, "rotated-secret"))
    deploy.init(admin_url=admin)
    [(rotated,)] = _rows(admin, verifier, OWNER)
    assert roles.password_matches(rotated, "rotated-secret")
    assert not roles.password_matches(rotated, "first-secret")
    assert _rows(reader, "select count(*) from marts.kpi") == [(1,)]


def test_init_refuses_the_templates_placeholders(monkeypatch):
    monkeypatch.setenv("BI_READER_PASSWORD", "change-me")
    monkeypatch.setenv("AIRFLOW_FERNET_KEY", "change-me")
    with pytest.raises(ValueError, match="AIRFLOW_FERNET_KEY, BI_READER_PASSWORD"):
        deploy.init(admin_url="postgresql://nobody@127.0.0.1:1/none")


def test_roles_set_up_by_processes_starting_together():
    """Test workers (or a scheduler and its workers) start at once and each makes sure of
    the roles: they take turns instead of failing with 'tuple concurrently updated'."""
    from concurrent.futures import ThreadPoolExecutor

    admin = warehouse.admin_url()
    # a database and owner of its own: the other tests of this room may run meanwhile
    database, owner_role = "omni_deploy_race_test", "omni_deploy_race_owner"
    owner_url = _as(admin, owner_role, "race-secret", database)

    def set_up(_):  # bi_reader's real password: other tests connect as bi_reader meanwhile
        roles.ensure_warehouse_roles(admin, owner_url, bi.password())

    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(set_up, range(12)))
        [(owner,)] = _rows(
            admin, "select pg_get_userbyid(datdba) from pg_database where datname = %s", database
        )
        assert owner == owner_role
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database))
            )
            conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(owner_role)))

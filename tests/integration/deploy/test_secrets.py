"""Secrets stay private and roles stay in their lanes (embedded set-up): a password is only
in files of mode 600, the pipeline is no superuser, bi_reader reaches the warehouse database
and nothing else, with session limits. Runs after the DAG tests, so that what their runs
wrote under .local/ is searched too."""

from __future__ import annotations

import os
import stat

import psycopg
import pytest

from omnichannel import bi, paths, warehouse
from tests.helpers.workers import airflow_test_database


def _embedded():
    state = warehouse._read_state()
    if state is None or not state.admin_user or warehouse.url_parts().port != state.port:
        pytest.skip("the embedded warehouse (made with its own admin role) only")
    return state


def test_passwords_are_only_in_files_of_mode_600():
    state = _embedded()
    secrets = [
        s.encode()
        for s in (
            state.password,
            state.admin_password,
            bi.password(),
            warehouse.customer_key_secret(),
        )
    ]
    found = []
    for folder, dirs, files in os.walk(paths.local_dir()):
        dirs[:] = [d for d in dirs if d != "pgdata"]  # the server's (mode 700, its own user)
        for name in files:
            path = os.path.join(folder, name)
            if os.path.islink(path) or os.path.getsize(path) > 50 * 2**20:
                continue
            with open(path, "rb") as handle:
                content = handle.read()
            if any(s in content for s in secrets):
                found.append((path, stat.S_IMODE(os.stat(path).st_mode)))
    assert found, "the state file holds the passwords"
    assert [f for f in found if f[1] & 0o077] == [], found


def test_the_pipeline_role_is_no_superuser():
    _embedded()
    with warehouse.connect() as conn:
        assert conn.execute(
            "select rolsuper from pg_roles where rolname = current_user"
        ).fetchone() == (False,)


def test_bi_reader_connects_to_the_warehouse_only_and_cannot_make_temp_tables():
    _embedded()
    with psycopg.connect(bi.reader_url()) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("create temp table scratch (x int)")
        conn.rollback()
        limits = {
            name: conn.execute(f"show {name}").fetchone()[0]  # noqa: S608 - our own names
            for name in bi.SESSION_LIMITS
        }
    assert limits == {"statement_timeout": "5min", "idle_in_transaction_session_timeout": "1min"}
    for database in ("airflow", airflow_test_database(), "postgres", "template1"):
        url = warehouse._with_database(bi.reader_url(), database)
        with pytest.raises(psycopg.OperationalError, match="CONNECT privilege"):
            psycopg.connect(url).close()

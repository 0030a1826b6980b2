"""The warehouse's roles: the pipeline's own (login, no superuser, owning its database) and
bi_reader (BI tools; it reads only what `marts` grants it). The embedded warehouse sets
them up when it starts, `omni deploy init` on a server of yours.

A module of the warehouse room that needs nothing but psycopg, so the room's `__init__` can
call it without an import cycle.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql

BI_ROLE = "bi_reader"
# set on bi_reader: a dashboard query longer than this is cancelled, and a session idle
# inside a transaction is closed
SESSION_LIMITS = {"statement_timeout": "300s", "idle_in_transaction_session_timeout": "60s"}


def _login(libpq_url: str) -> tuple[str, str, str]:
    parts = urlsplit(libpq_url)
    database = parts.path.lstrip("/") or "omni"
    return unquote(parts.username or ""), unquote(parts.password or ""), database


def ensure_warehouse_roles(admin_url: str, owner_url: str, bi_password: str) -> None:
    """The owner role of `owner_url` (login, no superuser) owning its database, and the
    bi_reader login role. Passwords are (re)set from the given URLs: rotating a secret is
    changing it in .env and running init again."""
    role, password, database = _login(owner_url)
    if not role:
        raise ValueError("OMNI_WAREHOUSE_URL names no user")
    if role in (_login(admin_url)[0], BI_ROLE):
        # it would lose its superuser rights, or the pipeline would run as the BI reader
        raise ValueError(f"the pipeline's role {role!r} must be a role of its own")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        # one set-up at a time: processes starting together (test workers, the scheduler
        # and a worker) would otherwise alter the same catalogue rows at once and fail with
        # "tuple concurrently updated"; the lock goes with the connection
        conn.execute("select pg_advisory_lock(hashtext('omnichannel.ensure_warehouse_roles'))")
        _ensure_login_role(conn, role, password)
        _ensure_login_role(conn, BI_ROLE, bi_password)
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
                sql.Identifier(database), sql.Identifier(BI_ROLE)
            )
        )
        # a BI query that runs away, or a transaction left open in a SQL editor, would hold
        # the lock dbt's table swap waits for
        for setting, value in SESSION_LIMITS.items():
            conn.execute(
                sql.SQL("alter role {} set {} = {}").format(
                    sql.Identifier(BI_ROLE), sql.Identifier(setting), sql.Literal(value)
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

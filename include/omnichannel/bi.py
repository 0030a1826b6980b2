"""The read-only role BI tools connect as: `bi_reader` reads schema `marts` and nothing else.

Tables dbt builds later are covered by default privileges of the role that builds them,
so a table a run replaces is readable again at once, without a grant in every model. The
password is OMNI_BI_READER_PASSWORD, or one generated on first use and kept in
.local/bi_reader.json (the embedded default); on a server of your own, create the role
with your own secret and let `ensure_bi_reader` only grant.
"""

from __future__ import annotations

import logging
from urllib.parse import quote, urlsplit

import psycopg
from psycopg import sql

from omnichannel import warehouse
from omnichannel.warehouse import roles

log = logging.getLogger(__name__)
ROLE = roles.BI_ROLE
SCHEMA = "marts"
SESSION_LIMITS = roles.SESSION_LIMITS  # set on the role by roles.ensure_warehouse_roles
password = warehouse.bi_password


def ensure_bi_reader(conn: psycopg.Connection) -> bool:
    """Create the role if it is missing (when allowed to) and grant it `marts` only.
    Returns False, with a warning, where the warehouse user may not manage roles."""
    exists = conn.execute("select 1 from pg_roles where rolname = %s", (ROLE,)).fetchone()
    try:
        with conn.transaction():
            if not exists:
                conn.execute(
                    sql.SQL("create role {} login password {}").format(
                        sql.Identifier(ROLE), sql.Literal(password())
                    )
                )
            database = conn.info.dbname
            role, schema = sql.Identifier(ROLE), sql.Identifier(SCHEMA)
            for statement in (
                "grant connect on database {db} to {role}",
                "create schema if not exists {schema}",
                "grant usage on schema {schema} to {role}",
                "grant select on all tables in schema {schema} to {role}",
                "alter default privileges in schema {schema} grant select on tables to {role}",
            ):
                conn.execute(
                    sql.SQL(statement).format(db=sql.Identifier(database), role=role, schema=schema)
                )
    except psycopg.errors.InsufficientPrivilege as exc:
        log.warning("role %s not set up (%s): create it and grant it schema marts", ROLE, exc)
        return False
    return True


def reader_url() -> str:
    """The warehouse URL with bi_reader's credentials (what a BI tool is given)."""
    parts = urlsplit(warehouse.url())
    host = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=f"{ROLE}:{quote(password())}@{host}").geturl()

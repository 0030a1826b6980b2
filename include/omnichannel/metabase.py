"""Metabase on the marts (docker compose's `bi` profile): `omni deploy metabase` makes the
admin account on first start and adds the warehouse as `bi_reader`, limited to schema
`marts`, through Metabase's REST API. Idempotent: an existing admin logs in, an existing
database of the same name is left as it is.

The API shapes (Metabase v0.5x–v0.6x): GET /api/session/properties gives the setup token
and whether a user exists; POST /api/setup makes the first admin and answers a session id;
POST /api/session logs in; GET/POST /api/database list and add databases, with the session
in the X-Metabase-Session header."""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from omnichannel import bi, warehouse

log = logging.getLogger(__name__)

DATABASE_NAME = "Omnichannel marts"


class MetabaseError(RuntimeError):
    pass


@dataclass(frozen=True)
class Settings:
    url: str
    admin_email: str
    admin_password: str
    warehouse_host: str
    warehouse_port: int
    warehouse_database: str
    reader_password: str

    @classmethod
    def from_env(cls) -> Settings:
        parts = warehouse.url_parts()
        missing = [
            name
            for name in (
                "OMNI_METABASE_URL",
                "OMNI_METABASE_ADMIN_EMAIL",
                "OMNI_METABASE_ADMIN_PASSWORD",
            )
            if not os.environ.get(name)
        ]
        if missing:
            raise MetabaseError(f"set {', '.join(missing)} (see .env.example)")
        return cls(
            url=os.environ["OMNI_METABASE_URL"].rstrip("/"),
            admin_email=os.environ["OMNI_METABASE_ADMIN_EMAIL"],
            admin_password=os.environ["OMNI_METABASE_ADMIN_PASSWORD"],
            # the host Metabase reaches the warehouse at (a service name in compose)
            warehouse_host=os.environ.get("OMNI_BI_WAREHOUSE_HOST") or parts.host,
            warehouse_port=parts.port,
            warehouse_database=parts.database,
            reader_password=bi.password(),
        )


def setup(settings: Settings, wait_seconds: float = 300) -> int:
    """Admin account and the marts database; returns the database's Metabase id."""
    _wait_until_healthy(settings.url, wait_seconds)
    properties = _call(settings.url, "GET", "/api/session/properties")
    if properties.get("has-user-setup"):
        session = _call(
            settings.url,
            "POST",
            "/api/session",
            {"username": settings.admin_email, "password": settings.admin_password},
        )["id"]
    else:
        session = _call(
            settings.url,
            "POST",
            "/api/setup",
            {
                "token": properties["setup-token"],
                "user": {
                    "email": settings.admin_email,
                    "password": settings.admin_password,
                    "first_name": "Omnichannel",
                    "last_name": "Admin",
                    "site_name": "Omnichannel",
                },
                "prefs": {"site_name": "Omnichannel", "allow_tracking": False},
            },
        )["id"]
        log.info("Metabase admin %s created", settings.admin_email)
    listed = _call(settings.url, "GET", "/api/database", session=session)
    databases = listed["data"] if isinstance(listed, dict) else listed
    for database in databases:
        if database.get("name") == DATABASE_NAME:
            log.info("Metabase already has %r (id %s)", DATABASE_NAME, database["id"])
            return database["id"]
    created = _call(settings.url, "POST", "/api/database", database_body(settings), session)
    log.info("Metabase reads the marts as %s: %r (id %s)", bi.ROLE, DATABASE_NAME, created["id"])
    return created["id"]


def database_body(settings: Settings) -> dict:
    return {
        "engine": "postgres",
        "name": DATABASE_NAME,
        "details": {
            "host": settings.warehouse_host,
            "port": settings.warehouse_port,
            "dbname": settings.warehouse_database,
            "user": bi.ROLE,
            "password": settings.reader_password,
            "ssl": False,
            "schema-filters-type": "inclusion",
            "schema-filters-patterns": bi.SCHEMA,
        },
        "is_full_sync": True,
    }


def _wait_until_healthy(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if _call(url, "GET", "/api/health").get("status") == "ok":
                return
        except (OSError, MetabaseError):
            pass
        if time.monotonic() > deadline:
            raise MetabaseError(f"Metabase at {url} not healthy after {seconds:.0f} s")
        time.sleep(2)


def _call(base: str, method: str, path: str, body: dict | None = None, session: str | None = None):
    request = urllib.request.Request(
        base + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"}
        | ({"X-Metabase-Session": session} if session else {}),
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        # the body says what Metabase refused
        raise MetabaseError(
            f"Metabase {method} {path}: {exc.code} {exc.read()[:300].decode(errors='replace')}"
        ) from None

"""`omni deploy metabase` against a local stand-in for Metabase's REST API (no Metabase runs
here): the first run makes the admin and adds the marts as bi_reader, a second run logs in
and adds nothing; a refusal names the call."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from omnichannel import metabase
from tests.helpers.receivers import free_port


class FakeMetabase:
    """The endpoints `setup` uses, with Metabase's answers and its session check."""

    def __init__(self):
        self.admin: dict | None = None
        self.databases: list[dict] = []
        self.calls: list[tuple[str, str]] = []

    def handle(self, method: str, path: str, body: dict | None, session: str | None):
        self.calls.append((method, path))
        if (method, path) == ("GET", "/api/health"):
            return 200, {"status": "ok"}
        if (method, path) == ("GET", "/api/session/properties"):
            return 200, {"setup-token": "tok-123", "has-user-setup": self.admin is not None}
        if (method, path) == ("POST", "/api/setup"):
            if self.admin or body["token"] != "tok-123":
                return 403, {"message": "only the first user is made through /api/setup"}
            self.admin = body["user"]
            return 200, {"id": "session-1"}
        if (method, path) == ("POST", "/api/session"):
            ok = self.admin and (body["username"], body["password"]) == (
                self.admin["email"],
                self.admin["password"],
            )
            if not ok:
                return 401, {"errors": {"password": "did not match our records"}}
            return 200, {"id": "session-2"}
        if session not in ("session-1", "session-2"):
            return 401, "Unauthenticated"
        if (method, path) == ("GET", "/api/database"):
            return 200, {"data": self.databases, "total": len(self.databases)}
        if (method, path) == ("POST", "/api/database"):
            database = {"id": len(self.databases) + 1, **body}
            self.databases.append(database)
            return 200, database
        return 404, "not found"


@pytest.fixture
def fake_metabase():
    fake = FakeMetabase()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, answer = fake.handle(
                self.command, self.path, body, self.headers.get("X-Metabase-Session")
            )
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _answer  # noqa: N815 - the http.server API

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fake.url = f"http://127.0.0.1:{server.server_port}"
    yield fake
    server.shutdown()


def settings(url: str, password: str = "Adm1n-secret!") -> metabase.Settings:
    return metabase.Settings(
        url=url,
        admin_email="ops@brand.example",
        admin_password=password,
        warehouse_host="warehouse",
        warehouse_port=5432,
        warehouse_database="omni",
        reader_password="reader-secret",
    )


def test_first_run_makes_the_admin_and_adds_the_marts_as_bi_reader(fake_metabase):
    database_id = metabase.setup(settings(fake_metabase.url), wait_seconds=5)
    assert fake_metabase.admin["email"] == "ops@brand.example"
    [database] = fake_metabase.databases
    assert database["id"] == database_id
    assert database["engine"] == "postgres" and database["name"] == metabase.DATABASE_NAME
    details = database["details"]
    assert (details["host"], details["dbname"], details["user"]) == (
        "warehouse",
        "omni",
        "bi_reader",
    )
    assert details["password"] == "reader-secret"
    assert (details["schema-filters-type"], details["schema-filters-patterns"]) == (
        "inclusion",
        "marts",
    )


def test_a_second_run_logs_in_and_adds_nothing(fake_metabase):
    first = metabase.setup(settings(fake_metabase.url), wait_seconds=5)
    fake_metabase.calls.clear()
    assert metabase.setup(settings(fake_metabase.url), wait_seconds=5) == first
    assert len(fake_metabase.databases) == 1
    assert ("POST", "/api/session") in fake_metabase.calls
    assert ("POST", "/api/setup") not in fake_metabase.calls


def test_a_wrong_admin_password_is_a_clear_error(fake_metabase):
    metabase.setup(settings(fake_metabase.url), wait_seconds=5)
    with pytest.raises(metabase.MetabaseError, match=r"POST /api/session: 401"):
        metabase.setup(settings(fake_metabase.url, password="wrong"), wait_seconds=5)

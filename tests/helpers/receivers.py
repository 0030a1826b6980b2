"""Local receivers for alert delivery: an HTTP server standing in for a Slack incoming
webhook and an SMTP server (aiosmtpd), both on 127.0.0.1, wired in as the Airflow
connections slack_ops and smtp_ops through AIRFLOW_CONN_* variables."""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receivers:
    def __init__(self):
        self.slack: list[dict] = []
        self.mail: list = []
        self.fail_slack = False

    def clear(self) -> None:
        self.slack.clear()
        self.mail.clear()


@pytest.fixture
def receivers(monkeypatch):
    from aiosmtpd.controller import Controller

    got = Receivers()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if got.fail_slack:
                self.send_response(500)
                self.end_headers()
                self.wfile.write(b"internal_error")
                return
            got.slack.append(json.loads(body))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    class Mailbox:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
            got.mail.append(message_from_bytes(envelope.content))
            return "250 OK"

    http = ThreadingHTTPServer(("127.0.0.1", free_port()), Hook)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    smtp_port = free_port()
    smtp = Controller(Mailbox(), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    webhook = f"http://127.0.0.1:{http.server_port}/services/T0/B0/secret"
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_OPS",
        json.dumps({"conn_type": "slackwebhook", "password": webhook}),
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_OPS",
        json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": smtp_port,
                "extra": {
                    "disable_tls": True,
                    "disable_ssl": True,
                    "from_email": "omni@example.com",
                },
            }
        ),
    )
    yield got
    smtp.stop()
    http.shutdown()


def _routes():
    from omnichannel import alerts

    return alerts.AlertsConfig(
        routes=(
            alerts.Route("ops_slack", min_severity="warning", slack="slack_ops"),
            alerts.Route(
                "ops_email",
                min_severity="warning",
                email="smtp_ops",
                recipients=("ops@example.com",),
            ),
        ),
        digest=alerts.Route("digest", slack="slack_ops"),
    )


@pytest.fixture
def routed(monkeypatch):
    """Alerts go to the receivers: one Slack route and one e-mail route, from warning up."""
    from omnichannel.alerts import routes as alert_routes

    routes = _routes()
    monkeypatch.setattr(alert_routes, "load_config", lambda path=None: routes)
    return routes

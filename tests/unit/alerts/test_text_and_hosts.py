"""What leaves the pipeline: alert text cannot speak Slack markup, and a channel's credentials
go to the channel's host only (never to a pre-signed document URL on another host)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from omnichannel.alerts import delivery
from omnichannel.channels.base import HttpSource


def test_slack_text_escapes_what_a_source_sent():
    hostile = "file <!channel> & <http://evil.example|click>.csv unreadable"
    row = (1, "data_quality", "critical", "pos_fr", "sales", hostile, {}, "fp", None, None, None, 7)
    message = delivery._message(row)
    section = message.slack["blocks"][1]["text"]["text"]
    assert "&lt;!channel&gt; &amp; &lt;http://evil.example|click&gt;" in section
    assert "<!channel>" not in message.slack["text"] and "<http" not in section
    assert hostile in message.text  # e-mail is escaped as HTML where it is sent


class _Recorder(BaseHTTPRequestHandler):
    seen: list = []

    def do_GET(self):  # noqa: N802 - http.server's name
        _Recorder.seen.append({k.lower(): v for k, v in self.headers.items()})
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_a_plain_request_carries_none_of_the_channels_credentials():
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/document"
    source = HttpSource("amazon_de", headers={"x-amz-access-token": "Atza|secret"})
    try:
        source.request("sales_traffic", 1, "GET", url)
        source.request("sales_traffic", 1, "GET", url, plain=True)
    finally:
        source.close()
        server.shutdown()
    with_token, plain = _Recorder.seen[-2:]
    assert with_token["x-amz-access-token"] == "Atza|secret"
    assert "x-amz-access-token" not in plain and "authorization" not in plain

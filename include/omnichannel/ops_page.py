"""The "Ops alerts" page: open alerts, worst first, with their counts, links to the DAG
run and task log, the data-quality details of a held batch, and buttons to acknowledge
and resolve. A FastAPI app the Airflow API server mounts through the plugin in plugins/
(at /ops-alerts), shown in the Airflow UI's navigation. Links are relative, so the page
works behind a reverse proxy that moves Airflow under a path.

Airflow does not put its own login in front of plugin apps: expose the API server only
where the people allowed to acknowledge alerts can reach it."""

from __future__ import annotations

import html
import json

from fastapi import FastAPI, Form
from fastapi.responses import HTMLResponse, RedirectResponse

from omnichannel import alerts, warehouse

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1b1f24; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #d0d7de; padding: .4rem .5rem; text-align: left;
         vertical-align: top; font-size: .9rem; }
.critical { color: #b42318; font-weight: 600; } .warning { color: #b54708; }
.acknowledged { opacity: .7; } form { display: inline; } pre { white-space: pre-wrap; }
"""


def create_app() -> FastAPI:
    app = FastAPI(title="Ops alerts")

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        with warehouse.connect() as conn:
            rows = alerts.list_alerts(conn)
        return _render(rows)

    @app.post("/{alert_id}/ack")
    def ack(alert_id: int, by: str = Form("ops")) -> RedirectResponse:
        with warehouse.connect() as conn:
            alerts.acknowledge(conn, alert_id, by.strip() or "ops")
            conn.commit()
        return RedirectResponse("../", status_code=303)

    @app.post("/{alert_id}/resolve")
    def resolve(alert_id: int, by: str = Form("ops")) -> RedirectResponse:
        with warehouse.connect() as conn:
            alerts.close(conn, alert_id, by.strip() or "ops")
            conn.commit()
        return RedirectResponse("../", status_code=303)

    return app


def _render(rows: list[dict]) -> str:
    body = "".join(_row(a) for a in rows) or '<tr><td colspan="7">No open alerts.</td></tr>'
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Ops alerts</title>
<style>{STYLE}</style></head><body>
<h1>Ops alerts</h1><p>{len(rows)} open (acknowledged included), worst first.</p>
<table><thead><tr><th>#</th><th>severity</th><th>kind</th><th>where</th><th>count</th>
<th>alert</th><th>actions</th></tr></thead><tbody>{body}</tbody></table></body></html>"""


def _row(a: dict) -> str:
    e = html.escape
    where = "/".join(x for x in (a["channel_id"], a["stream"]) if x) or "-"
    seen = f"first {a['first_seen']:%Y-%m-%d %H:%M}, last {a['last_seen']:%Y-%m-%d %H:%M} UTC"
    links = []
    if a["dag_id"] and a["run_id"]:
        run = f"../dags/{e(a['dag_id'])}/runs/{e(a['run_id'])}"
        links.append(f'<a href="{run}">DAG run</a>')
        if a["task_id"]:
            links.append(f'<a href="{run}/tasks/{e(a["task_id"])}">task log</a>')
    if a["batch_id"]:
        links.append(f"batch {a['batch_id']}: <code>omni quarantine show {a['batch_id']}</code>")
    details = a["details"] or {}
    failures = details.get("failures")
    detail = (
        f"<details><summary>data-quality details</summary><pre>"
        f"{e(json.dumps(failures, indent=2, default=str))}</pre></details>"
        if failures
        else ""
    )
    ack_note = (
        f"<br>acknowledged by {e(a['acknowledged_by'])}" if a["status"] == "acknowledged" else ""
    )
    ack_button = (
        f'<form method="post" action="{a["alert_id"]}/ack"><input name="by" value="ops" '
        f'size="8" aria-label="by"><button type="submit">Acknowledge</button></form>'
        if a["status"] == "open"
        else ""
    )
    resolve_button = (
        f'<form method="post" action="{a["alert_id"]}/resolve"><input type="hidden" '
        f'name="by" value="ops"><button type="submit">Resolve</button></form>'
    )
    return (
        f'<tr class="{e(a["status"])}" id="alert-{a["alert_id"]}"><td>{a["alert_id"]}</td>'
        f'<td class="{e(a["severity"])}">{e(a["severity"])}</td><td>{e(a["kind"])}</td>'
        f"<td>{e(where)}</td><td>{a['occurrences']}</td>"
        f"<td>{e(a['message'])}<br><small>{seen}{ack_note}</small><br>"
        f"{' · '.join(links)}{detail}</td><td>{ack_button} {resolve_button}</td></tr>"
    )

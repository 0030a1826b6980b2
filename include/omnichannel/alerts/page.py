"""The "Ops alerts" page: open alerts, worst first, with their counts, links to the DAG
run and task log, the data-quality details of a held batch, and buttons to acknowledge
and resolve. A FastAPI app the Airflow API server mounts through the plugin in plugins/
(at /ops-alerts), shown in the Airflow UI's navigation. Links are relative, so the page
works behind a reverse proxy that moves Airflow under a path.

Airflow's own login guards it: the page needs a signed-in Airflow user (the UI's session
cookie), and acknowledging or resolving needs the right to edit DAG runs (any role above
viewer, or what the deployment's auth manager grants). The user's Airflow name is recorded
as who acknowledged or resolved."""

from __future__ import annotations

import html
import json

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.core_api.security import GetUserDep, requires_authenticated
from fastapi import Depends, FastAPI, HTTPException, status
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
    app = FastAPI(title="Ops alerts", dependencies=[Depends(requires_authenticated())])

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        with warehouse.connect() as conn:
            rows = alerts.list_alerts(conn)
        return _render(rows)

    @app.post("/{alert_id}/ack")
    def ack(alert_id: int, user: GetUserDep) -> RedirectResponse:
        with warehouse.connect() as conn:
            alerts.acknowledge(conn, alert_id, _operator(user))
            conn.commit()
        return RedirectResponse("../", status_code=303)

    @app.post("/{alert_id}/resolve")
    def resolve(alert_id: int, user: GetUserDep) -> RedirectResponse:
        with warehouse.connect() as conn:
            alerts.close(conn, alert_id, _operator(user))
            conn.commit()
        return RedirectResponse("../", status_code=303)

    return app


def _operator(user) -> str:
    """The user's name, if Airflow lets them change DAG runs (what ops do when a run fails)."""
    allowed = get_auth_manager().is_authorized_dag(
        method="PUT", access_entity=DagAccessEntity.RUN, user=user
    )
    if not allowed:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "acknowledging needs the right to edit DAG runs"
        )
    return user.get_name()


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
        # _top: the page sits in the UI's frame; the run opens in the UI itself
        links.append(f'<a href="{run}" target="_top">DAG run</a>')
        if a["task_id"]:
            links.append(f'<a href="{run}/tasks/{e(a["task_id"])}" target="_top">task log</a>')
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
        f'<form method="post" action="{a["alert_id"]}/ack">'
        f'<button type="submit">Acknowledge</button></form>'
        if a["status"] == "open"
        else ""
    )
    resolve_button = (
        f'<form method="post" action="{a["alert_id"]}/resolve">'
        f'<button type="submit">Resolve</button></form>'
    )
    return (
        f'<tr class="{e(a["status"])}" id="alert-{a["alert_id"]}"><td>{a["alert_id"]}</td>'
        f'<td class="{e(a["severity"])}">{e(a["severity"])}</td><td>{e(a["kind"])}</td>'
        f"<td>{e(where)}</td><td>{a['occurrences']}</td>"
        f"<td>{e(a['message'])}<br><small>{seen}{ack_note}</small><br>"
        f"{' · '.join(links)}{detail}</td><td>{ack_button} {resolve_button}</td></tr>"
    )

"""Delivery of alerts, separate from recording: an alert raised inside a transaction that
rolls back is never announced. `deliver_pending` sends each alert not yet announced once
to every route that matches it (Slack through the Airflow Slack provider's webhook hook,
e-mail through the SMTP provider) and marks it announced. A route that fails is recorded
as an alert of its own; delivery never raises."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from omnichannel import warehouse
from omnichannel.alerts import routes
from omnichannel.alerts.record import Alert, fingerprint, raise_alert
from omnichannel.alerts.routes import AlertsConfig, Route

log = logging.getLogger(__name__)


def deliver_pending(config: AlertsConfig | None = None) -> int:
    """Announce every open alert not announced yet, once per matching route. Returns the
    number of messages sent. Never raises: a failing route is recorded as an alert."""
    try:
        config = config or routes.load_config()  # looked up per call: tests route it
        return _deliver(config)
    except Exception:  # delivery must never fail the pipeline that raised the alert
        log.exception("alert delivery failed")
        return 0


def _deliver(config: AlertsConfig, again: bool = True) -> int:
    sent = 0
    failures: list[Alert] = []
    with warehouse.connect() as conn:
        pending = conn.execute(
            """select alert_id, kind, severity, channel_id, stream, message, details,
                      fingerprint, dag_id, task_id, run_id, batch_id
               from ops.alerts where notified_at is null and status <> 'resolved'
               order by alert_id for update skip locked"""
        ).fetchall()
        for row in pending:
            alert_id, kind, severity, channel_id, recorded = *row[:4], row[7]
            message = _message(row)
            delivered = []
            for route in config.routes:
                if not route.matches(kind, severity, channel_id):
                    continue
                if recorded.startswith(notifier_of(route.name, "")):
                    continue  # a route's own failure is not sent through it
                ok, failed = _send_through(route, message, alert_id)
                delivered += ok
                failures += failed
            sent += len(delivered)
            conn.execute(
                "update ops.alerts set notified_at = now(), notified_to = %s where alert_id = %s",
                (delivered, alert_id),
            )
        for failure in failures:
            raise_alert(conn, failure)
        conn.commit()
    if failures and again:
        sent += _deliver(config, again=False)  # the failures, through the other routes
    return sent


def _send_through(route: Route, message, alert_id: int) -> tuple[list[str], list[Alert]]:
    """Send to each target of a route: the targets reached, and an alert per failure."""
    delivered, failures = [], []
    for target, send in _targets(route):
        try:
            if send(route, message):
                delivered.append(f"{route.name}:{target}")
        except Exception as exc:  # noqa: BLE001 - recorded, never raised
            failures.append(_notifier_failure(route, target, alert_id, exc))
    return delivered, failures


def _notifier_failure(route: Route, target: str, alert_id: int, exc: Exception) -> Alert:
    log.warning("route %s (%s) failed for alert %s: %s", route.name, target, alert_id, exc)
    return Alert(
        kind="pipeline",
        severity="warning",
        fingerprint=notifier_of(route.name, target),
        message=f"alert route {route.name!r} could not deliver through {target}: "
        f"{type(exc).__name__}: {exc}",
        details={"route": route.name, "target": target, "alert_id": alert_id},
    )


def notifier_of(route: str, target: str) -> str:
    return fingerprint("notifier", route, target)


def _targets(route: Route):
    if route.slack:
        yield "slack", _send_slack
    if route.email:
        yield "email", _send_email


def _connection_exists(conn_id: str) -> bool:
    from airflow.exceptions import AirflowNotFoundException
    from airflow.sdk import BaseHook

    try:
        BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return False
    return True


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    slack: dict


def _message(row) -> Message:
    (alert_id, kind, severity, channel_id, stream, message, details, _fp, dag_id, task_id,
     run_id, batch_id) = row  # fmt: skip
    where = "/".join(x for x in (channel_id, stream) if x) or dag_id or "pipeline"
    subject = f"[omni {severity}] {kind} {where}: {message}"[:200]
    lines = [message, f"alert {alert_id} · kind {kind} · severity {severity}"]
    if batch_id:
        lines.append(f"batch {batch_id}: omni quarantine show {batch_id}")
    if dag_id:
        lines.append(f"DAG {dag_id} · task {task_id} · run {run_id}")
        if link := _task_link(dag_id, run_id, task_id):
            lines.append(link)
    lines.append(f"acknowledge: omni alerts ack {alert_id} --by NAME")
    text = "\n".join(lines)
    slack = {
        "text": slack_escape(subject),
        "blocks": [_block(subject), _block(slack_escape(text), "mrkdwn")],
    }
    return Message(subject, text + "\n\n" + json.dumps(details, indent=2, default=str), slack)


def slack_escape(text: str) -> str:
    """Slack's three control characters as its entities: alert text quotes what sources
    sent (a file name, an excerpt), and `<!channel>` or `<http://x|y>` in it must stay text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _task_link(dag_id: str, run_id: str | None, task_id: str | None) -> str | None:
    try:
        from airflow.configuration import conf

        base = conf.get("api", "base_url", fallback="") or ""
    except Exception:  # noqa: BLE001 - a link is a convenience
        return None
    if not base or not run_id:
        return None
    link = f"{base.rstrip('/')}/dags/{dag_id}/runs/{run_id}"
    return f"{link}/tasks/{task_id}" if task_id else link


def _send_slack(route: Route, message: Message) -> bool:
    if not _connection_exists(route.slack):
        log.info("route %s: no Airflow connection %r, Slack skipped", route.name, route.slack)
        return False
    from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

    SlackWebhookHook(slack_webhook_conn_id=route.slack, timeout=10).send_dict(message.slack)
    return True


def _send_email(route: Route, message: Message) -> bool:
    if not _connection_exists(route.email):
        log.info("route %s: no Airflow connection %r, e-mail skipped", route.name, route.email)
        return False
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    with SmtpHook(smtp_conn_id=route.email) as hook:
        hook.send_email_smtp(
            to=list(route.recipients),
            subject=message.subject,
            html_content=f"<pre>{_escape(message.text)}</pre>",
        )
    return True


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _block(text: str, kind: str = "plain_text") -> dict:
    if kind == "plain_text":
        return {"type": "header", "text": {"type": "plain_text", "text": text[:150]}}
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}}

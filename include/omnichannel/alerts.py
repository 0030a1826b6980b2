"""Alert records (ops.alerts) and their delivery.

Anything that goes wrong writes an alert with a fingerprint: the same condition again
counts on the open alert (occurrences, last_seen) rather than opening another, and when
the condition clears its source resolves it. Delivery is separate from recording, so an
alert raised inside a transaction that rolls back is never announced: `deliver_pending`
sends each alert not yet announced once to every route of include/config/alerts.yml
that matches it (Slack through the Airflow Slack provider's webhook hook, e-mail through
the SMTP provider), and marks it announced. A route that fails is recorded as an alert of
its own; delivery never raises.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import yaml

from omnichannel import paths, warehouse

log = logging.getLogger(__name__)

KINDS = ("pipeline", "data_quality", "freshness", "volume", "business")
SEVERITIES = ("info", "warning", "critical")
OPEN = ("open", "acknowledged")


@dataclass(frozen=True)
class Alert:
    kind: str  # pipeline, data_quality, freshness, volume, business
    severity: str  # info, warning, critical
    fingerprint: str  # the same condition again → the same open alert, counted
    message: str
    channel_id: str | None = None
    stream: str | None = None
    batch_id: int | None = None
    details: dict = field(default_factory=dict)
    dag_id: str | None = None
    task_id: str | None = None
    run_id: str | None = None


@dataclass(frozen=True)
class Route:
    name: str
    kinds: tuple[str, ...] = KINDS
    min_severity: str = "info"
    channels: tuple[str, ...] | None = None
    slack: str | None = None
    email: str | None = None
    recipients: tuple[str, ...] = ()

    def matches(self, kind: str, severity: str, channel_id: str | None) -> bool:
        return (
            kind in self.kinds
            and SEVERITIES.index(severity) >= SEVERITIES.index(self.min_severity)
            and (self.channels is None or channel_id in self.channels)
        )


@dataclass(frozen=True)
class AlertsConfig:
    routes: tuple[Route, ...]
    digest: Route | None = None


class AlertsConfigError(ValueError):
    pass


def load_config(path: Path | None = None) -> AlertsConfig:
    path = path or paths.config_dir() / "alerts.yml"
    if not path.exists():
        return AlertsConfig(())
    raw = yaml.safe_load(path.read_text()) or {}
    routes = tuple(_route(r, path) for r in raw.get("routes") or [])
    digest = _route(raw["digest"], path) if raw.get("digest") else None
    return AlertsConfig(routes, digest)


def _route(raw: dict, path: Path) -> Route:
    name = raw.get("name") or "?"
    where = f"{path}: route {name!r}"
    kinds = tuple(raw.get("kinds") or KINDS)
    if unknown := set(kinds) - set(KINDS):
        raise AlertsConfigError(f"{where}: unknown kinds {sorted(unknown)} (known: {KINDS})")
    severity = raw.get("min_severity", "info")
    if severity not in SEVERITIES:
        raise AlertsConfigError(f"{where}: min_severity must be one of {SEVERITIES}")
    if not raw.get("slack") and not raw.get("email"):
        raise AlertsConfigError(f"{where}: needs slack or email (an Airflow connection id)")
    if raw.get("email") and not raw.get("recipients"):
        raise AlertsConfigError(f"{where}: email needs recipients")
    channels = raw.get("channels")
    return Route(
        name=name,
        kinds=kinds,
        min_severity=severity,
        channels=tuple(channels) if channels else None,
        slack=raw.get("slack"),
        email=raw.get("email"),
        recipients=tuple(raw.get("recipients") or ()),
    )


def raise_alert(conn: psycopg.Connection, alert: Alert) -> int:
    """Open an alert, or count a repeat on the open one with the same fingerprint."""
    row = conn.execute(
        """insert into ops.alerts (kind, severity, fingerprint, message, channel_id, stream,
               batch_id, details, dag_id, task_id, run_id)
           values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
           on conflict (fingerprint) where status <> 'resolved' do update
             set last_seen = now(), occurrences = ops.alerts.occurrences + 1,
                 message = excluded.message, batch_id = excluded.batch_id,
                 details = excluded.details, severity = excluded.severity,
                 dag_id = excluded.dag_id, task_id = excluded.task_id,
                 run_id = excluded.run_id
           returning alert_id""",
        (
            alert.kind,
            alert.severity,
            alert.fingerprint,
            alert.message,
            alert.channel_id,
            alert.stream,
            alert.batch_id,
            json.dumps(alert.details, default=str),
            alert.dag_id,
            alert.task_id,
            alert.run_id,
        ),
    ).fetchone()
    return row[0]


def attach_run(conn: psycopg.Connection, fingerprint: str, dag_id, task_id, run_id) -> bool:
    """Name the DAG run and task on the open alert with this fingerprint (if any)."""
    return bool(
        conn.execute(
            """update ops.alerts set dag_id = %s, task_id = %s, run_id = %s
               where fingerprint = %s and status <> 'resolved'""",
            (dag_id, task_id, run_id, fingerprint),
        ).rowcount
    )


def resolve(conn: psycopg.Connection, fingerprint: str, by: str = "auto") -> int:
    """The condition cleared: resolve the open alert with this fingerprint (if any)."""
    return conn.execute(
        """update ops.alerts set status = 'resolved', resolved_at = now(), resolved_by = %s
           where fingerprint = %s and status <> 'resolved'""",
        (by, fingerprint),
    ).rowcount


def acknowledge(conn: psycopg.Connection, alert_id: int, by: str) -> bool:
    return bool(
        conn.execute(
            """update ops.alerts set status = 'acknowledged', acknowledged_by = %s,
                   acknowledged_at = now()
               where alert_id = %s and status = 'open'""",
            (by, alert_id),
        ).rowcount
    )


def close(conn: psycopg.Connection, alert_id: int, by: str) -> bool:
    """Resolve an alert by hand (its source resolves it too when the condition clears)."""
    return bool(
        conn.execute(
            """update ops.alerts set status = 'resolved', resolved_at = now(), resolved_by = %s
               where alert_id = %s and status <> 'resolved'""",
            (by, alert_id),
        ).rowcount
    )


def list_alerts(conn: psycopg.Connection, statuses=OPEN) -> list[dict]:
    cur = conn.execute(
        """select alert_id, kind, severity, channel_id, stream, batch_id, dag_id, task_id,
                  run_id, message, details, occurrences, first_seen, last_seen, status,
                  acknowledged_by, acknowledged_at
           from ops.alerts where status = any(%s)
           order by array_position(array['critical', 'warning', 'info'], severity),
                    last_seen desc""",
        (list(statuses),),
    )
    names = [c.name for c in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


# delivery -------------------------------------------------------------------------------


def deliver_pending(config: AlertsConfig | None = None) -> int:
    """Announce every open alert not announced yet, once per matching route. Returns the
    number of messages sent. Never raises: a failing route is recorded as an alert."""
    try:
        config = config or load_config()
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
            alert_id, kind, severity, channel_id, fingerprint = *row[:4], row[7]
            message = _message(row)
            delivered = []
            for route in config.routes:
                if not route.matches(kind, severity, channel_id):
                    continue
                if fingerprint.startswith(f"notifier:{route.name}:"):
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
        fingerprint=f"notifier:{route.name}:{target}",
        message=f"alert route {route.name!r} could not deliver through {target}: "
        f"{type(exc).__name__}: {exc}",
        details={"route": route.name, "target": target, "alert_id": alert_id},
    )


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


def send_digest(config: AlertsConfig | None = None) -> int:
    """The alerts still open, in one message to the digest route. Returns messages sent."""
    try:
        config = config or load_config()
        if config.digest is None:
            return 0
        with warehouse.connect() as conn:
            open_alerts = list_alerts(conn)
        if not open_alerts:
            return 0
        return _send_digest(config.digest, open_alerts)
    except Exception:  # the digest must never fail its DAG for a notifier's sake
        log.exception("alert digest failed")
        return 0


def _send_digest(route: Route, open_alerts: list[dict]) -> int:
    counts = {s: sum(a["severity"] == s for a in open_alerts) for s in SEVERITIES}
    subject = f"[omni digest] {len(open_alerts)} open alerts: " + ", ".join(
        f"{n} {s}" for s, n in reversed(counts.items()) if n
    )
    lines = [
        f"#{a['alert_id']} {a['severity']} {a['kind']} ×{a['occurrences']} "
        f"since {a['first_seen']:%Y-%m-%d %H:%M} UTC [{a['status']}]: {a['message']}"
        for a in open_alerts[:50]
    ]
    text = "\n".join(lines)
    message = Message(
        subject,
        text,
        {
            "text": slack_escape(subject),
            "blocks": [_block(subject), _block(slack_escape(text), "mrkdwn")],
        },
    )
    delivered, failures = _send_through(route, message, 0)
    if failures:
        with warehouse.connect() as conn:
            for failure in failures:
                raise_alert(conn, failure)
            conn.commit()
    return len(delivered)


def _block(text: str, kind: str = "plain_text") -> dict:
    if kind == "plain_text":
        return {"type": "header", "text": {"type": "plain_text", "text": text[:150]}}
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}}

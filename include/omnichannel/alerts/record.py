"""Alert records in ops.alerts: open, count a repeat, attach a run, resolve, acknowledge.

Anything that goes wrong writes an alert with a fingerprint (`fingerprint()`, the one place
they are made): the same condition again counts on the open alert (occurrences, last_seen)
rather than opening another, and when the condition clears its source resolves it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import psycopg

KINDS = ("pipeline", "data_quality", "freshness", "volume", "business")
SEVERITIES = ("info", "warning", "critical")
OPEN = ("open", "acknowledged")


def fingerprint(condition: str, *where) -> str:
    """What makes two alerts the same condition: e.g. ("freshness", channel, stream),
    ("pipeline", dag, task), ("dq", "hold", channel, stream), ("notifier", route, target).
    A source that resolves every alert of a condition matches on `fingerprint(c, "")`."""
    return ":".join((condition, *(str(w) if w is not None else "" for w in where)))


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

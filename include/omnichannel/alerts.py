"""Alert records (ops.alerts): what went wrong, where, how often. Routing them to Slack or
e-mail belongs to the alerting issue; the gate only writes them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import psycopg


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


def raise_alert(conn: psycopg.Connection, alert: Alert) -> int:
    """Open an alert, or count a repeat on the open one with the same fingerprint."""
    row = conn.execute(
        """insert into ops.alerts (kind, severity, fingerprint, message, channel_id, stream,
               batch_id, details)
           values (%s, %s, %s, %s, %s, %s, %s, %s)
           on conflict (fingerprint) where status <> 'resolved' do update
             set last_seen = now(), occurrences = ops.alerts.occurrences + 1,
                 message = excluded.message, batch_id = excluded.batch_id,
                 details = excluded.details, severity = excluded.severity
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
        ),
    ).fetchone()
    return row[0]

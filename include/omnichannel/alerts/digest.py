"""The digest: the alerts still open, in one message per target of the digest route."""

from __future__ import annotations

import logging

from omnichannel import warehouse
from omnichannel.alerts import routes
from omnichannel.alerts.delivery import Message, _block, _send_through, slack_escape
from omnichannel.alerts.record import SEVERITIES, list_alerts, raise_alert
from omnichannel.alerts.routes import AlertsConfig, Route

log = logging.getLogger(__name__)


def send_digest(config: AlertsConfig | None = None) -> int:
    """The alerts still open, in one message to the digest route. Returns messages sent."""
    try:
        config = config or routes.load_config()  # looked up per call: tests route it
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

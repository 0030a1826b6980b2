"""The alerts room: records (ops.alerts) and their fingerprints, routes, delivery, the
digest, the sources that raise and resolve them, the ops page.

Anything that goes wrong writes an alert with a fingerprint: the same condition again
counts on the open alert (occurrences, last_seen) rather than opening another, and when
the condition clears its source resolves it. Delivery is separate from recording, so an
alert raised inside a transaction that rolls back is never announced: `deliver_pending`
sends each alert not yet announced once to every route of include/config/alerts.yml
that matches it (Slack through the Airflow Slack provider's webhook hook, e-mail through
the SMTP provider), and marks it announced. A route that fails is recorded as an alert of
its own; delivery never raises.
"""

from omnichannel.alerts.delivery import deliver_pending
from omnichannel.alerts.digest import send_digest
from omnichannel.alerts.record import (
    KINDS,
    OPEN,
    SEVERITIES,
    Alert,
    acknowledge,
    attach_run,
    close,
    fingerprint,
    list_alerts,
    raise_alert,
    resolve,
)
from omnichannel.alerts.routes import AlertsConfig, AlertsConfigError, Route, load_config

__all__ = [
    "KINDS",
    "OPEN",
    "SEVERITIES",
    "Alert",
    "AlertsConfig",
    "AlertsConfigError",
    "Route",
    "acknowledge",
    "attach_run",
    "close",
    "deliver_pending",
    "fingerprint",
    "list_alerts",
    "load_config",
    "raise_alert",
    "resolve",
    "send_digest",
]

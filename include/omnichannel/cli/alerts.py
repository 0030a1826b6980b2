"""`omni alerts`: the ops alerts: list, acknowledge, resolve, deliver, digest."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="alerts",
    help="ops alerts: list, ack, resolve, deliver pending, send the digest",
    no_args_is_help=True,
)
ALERT = typer.Argument(..., help="the alert id (omni alerts list)")
BY = typer.Option(..., "--by", help="who does it (recorded)")


@app.command("list")
def list_alerts(all_: bool = typer.Option(False, "--all", help="resolved alerts too")) -> None:
    """Open (and acknowledged) alerts, newest first."""
    from omnichannel import alerts, warehouse

    with warehouse.connect() as conn:
        statuses = alerts.OPEN if not all_ else ("open", "acknowledged", "resolved")
        rows = alerts.list_alerts(conn, statuses)
    for a in rows:
        where = "/".join(x for x in (a["channel_id"], a["stream"]) if x) or a["dag_id"] or "-"
        typer.echo(
            f"#{a['alert_id']:<5} {a['severity']:<8} {a['kind']:<12} {where:<28} "
            f"x{a['occurrences']:<3} {a['status']:<12} {a['message']}"
        )
    typer.echo(f"{len(rows)} alerts")


def _change(alert_id: int, by: str, acknowledge: bool) -> None:
    from omnichannel import alerts, warehouse

    change = alerts.acknowledge if acknowledge else alerts.close
    with warehouse.connect() as conn:
        done = change(conn, alert_id, by)
        conn.commit()
    if not done:
        raise LookupError(f"alert {alert_id}: no such open alert")
    typer.echo(f"alert {alert_id} {'acknowledged' if acknowledge else 'resolved'} by {by}")


@app.command()
def ack(alert_id: int = ALERT, by: str = BY) -> None:
    """Acknowledge an alert: someone is on it (repeats stop paging)."""
    _change(alert_id, by, acknowledge=True)


@app.command()
def resolve(alert_id: int = ALERT, by: str = BY) -> None:
    """Resolve an alert."""
    _change(alert_id, by, acknowledge=False)


@app.command()
def deliver() -> None:
    """Send the alerts whose delivery is due (the monitor DAG does it every few minutes)."""
    from omnichannel import alerts

    typer.echo(f"{alerts.deliver_pending()} messages sent")


@app.command()
def digest() -> None:
    """Send the digest of open alerts."""
    from omnichannel import alerts

    typer.echo(f"{alerts.send_digest()} digest messages sent")

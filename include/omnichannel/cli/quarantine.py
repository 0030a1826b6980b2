"""`omni quarantine`: review what the quality gate held back, and publish it again."""

from __future__ import annotations

import json
import os

import typer

app = typer.Typer(
    name="quarantine", help="review quarantined rows and re-publish them", no_args_is_help=True
)


def _connection():
    from omnichannel import runtime, warehouse
    from omnichannel.load import schema

    runtime.apply()
    conn = warehouse.connect(autocommit=True)
    schema.ensure_base(conn)
    return conn


@app.command("list")
def list_batches(
    channel: str = typer.Option(None, help="one channel instance"),
) -> None:
    """Batches with quarantined rows: open and released counts, and the reasons."""
    from omnichannel.load import quarantine

    with _connection() as conn:
        rows = quarantine.list_batches(conn, channel)
    typer.echo(f"{'batch':>7}  {'channel/stream':<28} {'status':<10} {'open':>6} "
               f"{'released':>8}  reasons")  # fmt: skip
    for r in rows:
        where = f"{r['channel_id']}/{r['stream']}"
        typer.echo(f"{r['batch_id']:>7}  {where:<28} {r['status']:<10} {r['open']:>6} "
                   f"{r['released']:>8}  {r['reasons']}")  # fmt: skip
    if not rows:
        typer.echo("quarantine is empty")


@app.command()
def show(
    batch: int = typer.Argument(..., help="the batch id (omni quarantine list)"),
    limit: int = typer.Option(50, help="at most this many rows"),
    records: bool = typer.Option(False, "--records", help="the rows' columns too"),
) -> None:
    """The quarantined rows of a batch, and why each failed."""
    from omnichannel.load import quarantine

    with _connection() as conn:
        rows = quarantine.show_batch(conn, batch, limit)
    for r in rows:
        state = f"released to batch {r['released_to']}" if r["released_at"] else "open"
        typer.echo(f"{r['record_key']} (page {r['page_no']}, record {r['record_no']}): {state}")
        for reason in r["reasons"]:
            column = f"({reason['column']})" if reason.get("column") else ""
            observed = json.dumps(reason.get("observed"), default=str)[:300]
            typer.echo(f"    {reason['expectation']}{column}: {observed}")
        if records and r["record"]:
            typer.echo(f"    record: {json.dumps(r['record'], default=str)}")


@app.command()
def replay(
    batch: int = typer.Argument(..., help="the batch id (omni quarantine list)"),
    accept: bool = typer.Option(False, "--accept", help="publish without the gate"),
    by: str = typer.Option(os.environ.get("USER", "ops"), help="who decided (recorded)"),
) -> None:
    """Publish a batch's open rows again through the gate (after a fix), or with --accept
    without it: an explicit decision, recorded with --by."""
    from omnichannel.config import load_channels
    from omnichannel.pipeline import replay as replay_batch

    with _connection() as conn:
        found = conn.execute(
            "select channel_id from ops.load_batches where batch_id = %s", (batch,)
        ).fetchone()
    if found is None:
        raise LookupError(f"batch {batch} is not in ops.load_batches")
    published = replay_batch(load_channels().get(found[0]), batch, accept, by)
    typer.echo(
        f"batch {published.batch_id} replayed batch {batch}: "
        f"{published.rows_published} rows published, "
        f"{published.rows_quarantined} quarantined again"
    )

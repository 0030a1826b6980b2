"""`omni warehouse`: the embedded PostgreSQL (or the one OMNI_WAREHOUSE_URL names)."""

from __future__ import annotations

import json

import typer

app = typer.Typer(name="warehouse", help="the embedded PostgreSQL (or OMNI_WAREHOUSE_URL)")


@app.command()
def start() -> None:
    """Start the embedded server (set it up on first use)."""
    from omnichannel import warehouse

    warehouse.start()
    typer.echo(json.dumps(warehouse.status()))


@app.command()
def stop() -> None:
    """Stop the embedded server."""
    from omnichannel import warehouse

    typer.echo("stopped" if warehouse.stop() else "not running (or external)")


@app.command()
def status() -> None:
    """Mode, data folder and URL (password hidden); exit code 3 when it is not running."""
    from omnichannel import warehouse

    state = warehouse.status()
    typer.echo(json.dumps(state))
    if not state["running"]:
        raise typer.Exit(3)


@app.command()
def url() -> None:
    """The pipeline's connection URL (with its password: for psql, not for logs)."""
    from omnichannel import warehouse

    typer.echo(warehouse.url())


@app.command("bi-url")
def bi_url() -> None:
    """The read-only URL BI tools use (role bi_reader)."""
    from omnichannel.bi import reader_url

    typer.echo(reader_url())

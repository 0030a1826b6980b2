"""`omni bi`: Superset on the marts, with the dashboards kept as code in bi/superset/."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="bi",
    help="Superset on the marts: setup (migrate, admin, bi_reader, import the dashboards), "
    "serve, export (the dashboards back into bi/superset/ after a change in the UI)",
    no_args_is_help=True,
)
PORT = typer.Option(8088, help="port on 127.0.0.1")


@app.command()
def setup(port: int = PORT) -> None:
    """Migrate Superset's metadata, the admin login, the marts as bi_reader, the dashboards."""
    from omnichannel import runtime, superset

    runtime.apply()
    found = superset.setup()
    typer.echo("Superset: dashboards imported from bi/superset/")
    typer.echo(superset.login_hint(found, port))


@app.command()
def serve(port: int = PORT) -> None:
    """Set up, then serve Superset on 127.0.0.1 until Ctrl-C."""
    from omnichannel import runtime, superset

    runtime.apply()
    found = superset.setup()
    typer.echo(superset.login_hint(found, port))
    typer.echo("serving until Ctrl-C (OMNI_BI_LOG_LEVEL=INFO for Superset's logs)")
    superset.serve(port)


@app.command()
def export() -> None:
    """Write every dashboard, chart and dataset as they are in Superset now into
    bi/superset/ (review with `git diff`, then commit)."""
    from omnichannel import runtime, superset

    runtime.apply()
    typer.echo(superset.export())

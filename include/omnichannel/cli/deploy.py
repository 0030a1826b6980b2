"""`omni deploy`, `omni env`, `omni dbt-parse`: setting up a stack and its environment."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="deploy",
    help="production stack: init (compose's airflow-init: warehouse roles, tables, pools, "
    "connections, dbt manifest)",
    no_args_is_help=True,
)


@app.command()
def init() -> None:
    """Warehouse roles, tables, pools, connections and the dbt manifest (idempotent)."""
    from omnichannel import deploy, runtime

    runtime.apply()
    deploy.init()
    typer.echo("stack initialised: warehouse roles, tables, pools, connections, dbt manifest")


def cmd_env(
    migrate: bool = typer.Option(False, "--migrate", help="also migrate Airflow DB, parse dbt"),
    simulator: str = typer.Option(
        None,
        metavar="URL",
        help="also Airflow connections sending every channel to the simulator at URL",
    ),
) -> None:
    """Print the environment for Airflow and dbt as shell exports (`eval "$(omni env)"`)."""
    import shlex

    from omnichannel import runtime

    env = runtime.apply()
    if simulator:
        from omnichannel.config import load_channels
        from omnisim.kinds import airflow_connections

        env.update(airflow_connections(load_channels().channels, simulator))
    if migrate:
        runtime.migrate_airflow_db()
        runtime.dbt_parse()
    for key, value in sorted(env.items()):
        typer.echo(f"export {key}={shlex.quote(value)}")


def cmd_dbt_parse() -> None:
    """Write the dbt manifest cosmos renders the transform DAG from."""
    from omnichannel import runtime

    runtime.apply()
    typer.echo(runtime.dbt_parse())


COMMANDS = (cmd_env, cmd_dbt_parse)

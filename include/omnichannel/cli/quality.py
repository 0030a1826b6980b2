"""`omni dq-docs`: the quality gate's latest results as GX Data Docs."""

from __future__ import annotations

from pathlib import Path

import typer


def cmd_dq_docs(
    out: Path = typer.Option(None, help="output folder (default .local/dq-docs)"),
) -> None:
    """Build GX Data Docs (static HTML) from the gate's latest results."""
    from omnichannel import paths, runtime, warehouse
    from omnichannel.load import schema
    from omnichannel.quality import docs

    runtime.apply()
    with warehouse.connect(autocommit=True) as conn:
        schema.ensure_base(conn)
        index = docs.build(conn, out or paths.local_dir() / "dq-docs")
    typer.echo(f"GX Data Docs: {index}")


COMMANDS = (cmd_dq_docs,)

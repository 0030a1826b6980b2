"""`omni files`: start a mapping for a new export."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(
    name="files",
    help="files of any layout: sniff (propose a format and mapping for a new export)",
    no_args_is_help=True,
)


@app.command()
def sniff(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    stream: str = typer.Option("sales", help="the stream the file's rows feed"),
) -> None:
    """Propose a feed (format and mapping) for FILE, as YAML for channels.yml."""
    from omnichannel.channels.files import STREAMS
    from omnichannel.files.mapping import DERIVED
    from omnichannel.files.sniff import sniff as propose

    if stream not in STREAMS:
        raise typer.BadParameter(f"one of {', '.join(STREAMS)}", param_hint="--stream")
    columns = [c.name for c in STREAMS[stream].columns if c.name not in DERIVED]
    guess = propose(file, columns)
    typer.echo(guess.yaml(stream, pattern=file.name), nl=False)

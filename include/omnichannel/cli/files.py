"""`omni files`: start a mapping for a new export, and check it on a file."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(
    name="files",
    help="files of any layout: sniff (propose a format and mapping for a new export), "
    "preview (how a file maps for a channel)",
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


@app.command()
def preview(
    channel_id: str = typer.Argument(..., help="a channel of kind files"),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    rows: int = typer.Option(5, "--rows", min=0, help="rows to show"),
    feed: int = typer.Option(None, "--feed", min=0, help="the feed (index) to read it with"),
) -> None:
    """How FILE maps for CHANNEL_ID: its first rows as they would land, and every row
    that would go to quarantine, with line, column, value and why."""
    from omnichannel.channels import files
    from omnichannel.config import load_channels

    channel = load_channels().get(channel_id)
    if channel.kind != "files":
        raise typer.BadParameter(f"{channel_id} is of kind {channel.kind}, not files")
    try:
        found = files.preview(channel, file.resolve(), rows, feed)
    except files.FileUnreadable as exc:
        typer.echo(f"the whole file would be quarantined: {exc}")
        raise typer.Exit(1) from exc
    typer.echo(f"feed {found.feed} (stream {found.stream}): {found.read} rows")
    for line, record in found.rows:
        typer.echo(f"line {line}:")
        for column, value in record.items():
            typer.echo(f"  {column:<16} {'' if value is None else value}")
    if found.problems:
        typer.echo(f"{len(found.problems)} value(s) would send their row to quarantine:")
        for p in found.problems:
            where = f"line {p['line']}" + (f", {p['column']}" if p["column"] else "")
            source = f" (from {p['source']})" if p["source"] else ""
            typer.echo(f"  {where}{source}: {p['reason']}")
    else:
        typer.echo("no row would be quarantined for its values")

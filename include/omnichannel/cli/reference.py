"""`omni reference`: the brand's reference files (product master, FX rates)."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(
    name="reference",
    help="load the product master and FX rates (products.csv, fx_rates.csv)",
    no_args_is_help=True,
)


@app.command()
def load(
    path: Path = typer.Option(None, help="folder of the files (default: reference_path)"),
) -> None:
    """Load products.csv and fx_rates.csv into the reference schema."""
    from omnichannel.config import load_channels
    from omnichannel.reference import load_reference, reference_dir

    folder = path or reference_dir(load_channels())
    loaded = load_reference(folder)
    typer.echo(f"{folder}: {loaded.products} products, {loaded.fx_rates} FX rates loaded")

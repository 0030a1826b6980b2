"""`omni forecast`: demand forecasts per SKU × channel."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="forecast",
    help="demand forecasts per SKU × channel: run (backtest, forecast, write) or backtest",
    no_args_is_help=True,
)
HORIZON = typer.Option(28, help="days to forecast")
ORIGINS = typer.Option(4, help="weekly backtest origins")


def _run(horizon: int, origins: int, write: bool) -> None:
    from tqdm import tqdm

    from omnichannel.forecast.run import run as run_forecast

    with tqdm(total=3 if write else 2, desc="forecast", unit="step", leave=False) as bar:

        def progress(stage: str) -> None:
            bar.set_description(stage)
            bar.update(1)

        summary = run_forecast(horizon=horizon, origins=origins, write=write, progress=progress)
    typer.echo(summary.text())
    if write and summary.run_id:
        typer.echo("next: dbt build --select tag:forecast (the forecast_demand DAG does it)")


@app.command()
def run(horizon: int = HORIZON, origins: int = ORIGINS) -> None:
    """Backtest the models, forecast with the best per series, write the run."""
    _run(horizon, origins, write=True)


@app.command()
def backtest(horizon: int = HORIZON, origins: int = ORIGINS) -> None:
    """Backtest only: the models' accuracy, nothing written."""
    _run(horizon, origins, write=False)

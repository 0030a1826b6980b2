"""`omni metrics`: the semantic layer's metrics through MetricFlow."""

from __future__ import annotations

import csv
import sys

import typer

app = typer.Typer(
    name="metrics",
    help="the semantic layer's metrics (MetricFlow): list them, query them",
    no_args_is_help=True,
)


def _names(values: list[str]) -> list[str]:
    """`--metrics a,b --metrics c` → [a, b, c] (mf's comma lists, and repeated options)."""
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


@app.command("list")
def list_(
    dimensions: bool = typer.Option(False, "--dimensions", help="also what each groups by"),
) -> None:
    """Every metric with its type and description."""
    from omnichannel import metrics

    found = metrics.list_metrics()
    width = max(len(m.name) for m in found)
    for metric in found:
        typer.echo(f"{metric.name.ljust(width)}  {metric.kind:<7}  {metric.description}")
        if dimensions:
            typer.echo(
                f"{'':{width}}  group by: metric_time, channel, {', '.join(metric.dimensions)}"
            )


@app.command()
def query(
    metric_names: list[str] = typer.Option(..., "--metrics", help="metric names, comma-separated"),
    group_by: list[str] = typer.Option(
        [], "--group-by", help="e.g. channel,metric_time__week (comma-separated)"
    ),
    where: list[str] = typer.Option(
        [],
        "--where",
        help="a MetricFlow filter, e.g. "
        "\"{{ Dimension('channel__channel_type') }} = 'marketplace'\"",
    ),
    order: list[str] = typer.Option([], "--order", help="order by these (-name: descending)"),
    limit: int = typer.Option(None, "--limit", min=1),
    as_csv: bool = typer.Option(False, "--csv", help="CSV on stdout instead of a table"),
    explain: bool = typer.Option(False, "--explain", help="print the SQL as well"),
    decimals: int = typer.Option(None, "--decimals", min=0, help="places of non-integers"),
) -> None:
    """Query metrics, e.g. `--metrics gmv,orders --group-by channel,metric_time__week`."""
    from omnichannel import metrics

    answer = metrics.query(_names(metric_names), _names(group_by), where, _names(order), limit)
    if explain:
        typer.echo(answer.sql.rstrip() + "\n")
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(answer.columns)
        writer.writerows(answer.rows)
    else:
        typer.echo(answer.text(decimals) if answer.rows else "(no rows)")

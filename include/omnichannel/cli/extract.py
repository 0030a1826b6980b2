"""`omni extract`: run a channel's connector for a span of days outside Airflow."""

from __future__ import annotations

import sys
from datetime import datetime

import typer

DAY = {"formats": ["%Y-%m-%d"]}


def cmd_extract(
    channel_id: str = typer.Argument(..., help="a channel_id of channels.yml"),
    start: datetime = typer.Option(..., help="first local day (YYYY-MM-DD)", **DAY),
    end: datetime = typer.Option(..., help="last local day (YYYY-MM-DD)", **DAY),
    stream: str = typer.Option(None, help="one stream (default: every extracted stream)"),
    simulator: str = typer.Option(
        None, metavar="URL", help="read from the channel simulator at URL instead"
    ),
) -> None:
    """Run a channel's connector for local days START..END, through the same library code
    as the extract DAG (landing, gate, raw, ledger)."""
    from omnichannel import runtime
    from omnichannel.config import load_channels
    from omnichannel.kinds import extracted_streams
    from omnichannel.pipeline import day_intervals, run_interval

    runtime.apply()
    channel = load_channels().get(channel_id)
    streams = [stream] if stream else list(extracted_streams(channel))
    if unknown := [s for s in streams if s not in extracted_streams(channel)]:
        raise typer.BadParameter(
            f"{channel_id} has no extracted stream {unknown}", param_hint="--stream"
        )
    credentials = _credentials(channel, simulator)
    failed = 0
    for interval in day_intervals(channel, start.date(), end.date()):
        day = interval.start.astimezone(channel.tz).date()
        for name in streams:
            try:
                batch = run_interval(channel, name, interval, credentials, run_id="omni-extract")
                typer.echo(
                    f"{day} {name}: batch {batch.batch_id} {batch.status}, "
                    f"{batch.rows_received} received, {batch.rows_published} published"
                )
            except Exception as exc:  # report and go on with the next stream
                failed += 1
                print(f"{day} {name}: FAILED {exc}", file=sys.stderr)
    if failed:
        raise typer.Exit(1)


def _credentials(channel, simulator_url: str | None):
    if simulator_url:
        from omnisim.kinds import connector_credentials

        return connector_credentials(channel, simulator_url)
    from omnichannel.airflow.hook import credentials_for

    return credentials_for(channel)  # the Airflow connection (AIRFLOW_CONN_* works too)


COMMANDS = (cmd_extract,)

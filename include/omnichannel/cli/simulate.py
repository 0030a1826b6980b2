"""`omni simulate`: the channel simulator (the `omnisim` package) from the command line.

This module and `demo` are where the CLI wires the simulator to the library; the library
itself never imports `omnisim`.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path

import typer

app = typer.Typer(
    name="simulate",
    help="the channel simulator: serve every channel's API, truth tables, file drops, faults",
    no_args_is_help=True,
)


class Table(StrEnum):
    daily = "daily"
    sku_daily = "sku_daily"
    inventory = "inventory"
    replenishments = "replenishments"
    fx = "fx"
    catalogue = "catalogue"


SEED = typer.Option(42, help="the world's seed: same seed, same world")
DAYS = typer.Option(None, help="world size: simulated days (default: simulator.yml)")
SKUS = typer.Option(None, help="world size: catalogue SKUs")
CUSTOMERS = typer.Option(None, help="world size: customer base")
FAULTS = typer.Option(False, "--faults", help="switch on the fault profile of simulator.yml")
FAULT = typer.Option(
    None,
    "--fault",
    metavar="SPEC",
    help="one fault, channel:fault[:key=value,...], e.g. amazon_de:rate_limit:count=3 (repeatable)",
)
LANDING = typer.Option(
    None, metavar="DIR", help="file channels' drops under DIR/<channel_id> instead"
)


def _world(seed: int, end: date | None = None, **size):
    from omnichannel.config import load_channels
    from omnisim.spec import spec_from_config
    from omnisim.world import World

    knobs = {k: v for k, v in size.items() if v}
    return World(spec_from_config(seed, load_channels(), end=end, **knobs))


def _faults(profile: bool, specs: list[str] | None) -> list:
    from omnisim.faults import Fault
    from omnisim.spec import fault_profile

    return (fault_profile() if profile else []) + [Fault.parse(text) for text in specs or []]


def _landing(landing: Path | None, config) -> dict:
    from omnisim.server import landing_dirs

    dirs = landing_dirs(config)
    if landing:  # one root for every file channel: <root>/<channel_id>
        return {channel_id: landing / channel_id for channel_id in dirs}
    return dirs


def _reference(landing: Path | None, config) -> Path:
    from omnichannel.reference import reference_dir

    return landing / "reference" if landing else reference_dir(config)


def _drops(config, faults: bool, fault: list[str] | None, landing: Path | None) -> dict:
    """What a simulator is started with besides its world: faults and drop folders."""
    return {
        "faults": _faults(faults, fault),
        "landing": _landing(landing, config),
        "reference": _reference(landing, config),
    }


@app.command()
def serve(
    seed: int = SEED,
    days: int = DAYS,
    skus: int = SKUS,
    customers: int = CUSTOMERS,
    faults: bool = FAULTS,
    fault: list[str] = FAULT,
    landing: Path = LANDING,
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8765, help="port to listen on"),
) -> None:
    """Serve every configured channel's API on wall-clock time (file channels: drops into
    their landing folders), until Ctrl-C."""
    from omnichannel.config import load_channels
    from omnisim.server import Simulator, world_end_for_serving

    config = load_channels()
    started = time.monotonic()
    size = {"days": days, "skus": skus, "customers": customers}
    end = world_end_for_serving(_world(seed, **size).spec.end)
    world = _world(seed, end=end, **size)
    simulator = Simulator(world, host=host, port=port, **_drops(config, faults, fault, landing))
    simulator.start()
    simulator.app.drop_files()
    typer.echo(
        f"channel simulator (seed {seed}, {world.spec.start} .. {world.spec.end}, "
        f"{len(world.orders):,} orders, built in {time.monotonic() - started:.1f}s) "
        f"on {simulator.url}"
    )
    drops = _landing(landing, config)
    for channel in world.channel_list:
        where = drops.get(channel.channel_id) or simulator.base_url(channel.channel_id)
        typer.echo(f"  {channel.channel_id:<16} {channel.kind:<12} {where}")
    for listed in simulator.app.faults.listing():
        typer.echo(f"  fault: {listed}")
    try:
        while True:
            time.sleep(60)
            simulator.app.drop_files()  # on wall-clock time, exports appear every morning
    except KeyboardInterrupt:
        simulator.stop()


@app.command()
def truth(
    table: Table = typer.Option(Table.daily, help="which truth table"),
    start: datetime = typer.Option("2026-10-01", formats=["%Y-%m-%d"], help="first day"),
    end: datetime = typer.Option("2026-10-07", formats=["%Y-%m-%d"], help="last day"),
    seed: int = SEED,
    days: int = DAYS,
    skus: int = SKUS,
    customers: int = CUSTOMERS,
) -> None:
    """The world's ground truth as CSV: what every mart must equal."""
    from omnisim.truth import truth_table

    first, last = start.date(), end.date()
    if last < first:
        raise typer.BadParameter("--end is before --start", param_hint="--end")
    size = {"days": days, "skus": skus, "customers": customers}
    world = _world(seed, end=last if not days else None, **size)
    typer.echo(truth_table(world, table.value, first, last), nl=False)


@app.command()
def files(
    end: datetime = typer.Option("2026-10-07", formats=["%Y-%m-%d"], help="drops due by then"),
    seed: int = SEED,
    days: int = DAYS,
    skus: int = SKUS,
    customers: int = CUSTOMERS,
    faults: bool = FAULTS,
    fault: list[str] = FAULT,
    landing: Path = LANDING,
) -> None:
    """Write the file drops (store exports, reference files) due before --end."""
    from omnichannel.config import load_channels
    from omnisim.server import SimulatorApp

    config = load_channels()
    world = _world(seed, end=end.date(), days=days, skus=skus, customers=customers)
    app_ = SimulatorApp(world, **_drops(config, faults, fault, landing))
    app_.now = end.replace(tzinfo=UTC)
    written = app_.drop_files()
    typer.echo(f"{len(written)} files written for days before {end.date()}")


@app.command("faults")
def list_faults() -> None:
    """The documented faults, and what a correct pipeline does about each."""
    from omnisim import faults

    typer.echo(faults.__doc__)

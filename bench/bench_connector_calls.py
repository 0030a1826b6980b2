"""A connector's calls against the simulator: wall time per call, with the simulator's
HTTP handler as it is (Nagle's algorithm off) against the baseline of it on, in one run.

The same day of Amazon order items (one getOrderItems call per order, Amazon's kind of
N+1) is read through the real connector on the simulated clock, both ways:

    .venv/bin/python bench/bench_connector_calls.py [--days 3]
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date, timedelta

from omnichannel.channels import clock as clocks
from omnichannel.config import load_channels
from omnichannel.kinds import KINDS
from omnichannel.pipeline import local_day_interval
from omnisim import server
from omnisim.server import Simulator, world_from_config

DAY = date(2026, 10, 10)


def read(world, channel, days: int, nagle_off: bool) -> tuple[int, int, float]:
    server.Handler.disable_nagle_algorithm = nagle_off
    with Simulator(world, simulated_time=True) as simulator:
        os.environ[clocks.ENV] = simulator.url
        interval = local_day_interval(channel, DAY)
        clock = clocks.current()
        clock.start_run(interval.end)
        client = KINDS[channel.kind].client(channel, simulator.credentials(channel))
        client.clock = clock
        started = time.monotonic()
        records = sum(
            len(page.records)
            for page in client.iter_pages(
                "order_items", interval.start - timedelta(days=days - 1), interval.end
            )
        )
        seconds = time.monotonic() - started
        client.close()
        clock.close()
    return records, client.calls, seconds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--days", type=int, default=3, help="days of orders read")
    args = p.parse_args()
    config = load_channels()
    channel = config.get("amazon_de")
    world = world_from_config(42, config)
    print(f"{os.cpu_count()} cores; amazon_de order items of {args.days} days")
    print("\n| simulator handler | records | calls | seconds | ms per call |")
    print("| --- | ---: | ---: | ---: | ---: |")
    figures = {}
    for label, off in (("Nagle on (baseline, before)", False), ("Nagle off (now)", True)):
        records, calls, seconds = read(world, channel, args.days, off)
        figures[off] = seconds / calls
        print(
            f"| {label} | {records:,} | {calls:,} | {seconds:.2f} | {1000 * seconds / calls:.1f} |"
        )
    print(f"\n{figures[False] / figures[True]:.0f}× less wall time per call")


if __name__ == "__main__":
    main()

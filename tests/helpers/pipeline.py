"""Running the pipeline's library code against a simulator, a day at a time."""

from __future__ import annotations

import contextlib
from datetime import date, datetime, time, timedelta

from omnichannel.channels.base import Credentials
from omnichannel.kinds import extracted_channels, extracted_streams
from omnichannel.pipeline import BatchHeld, extract_and_land, gate, local_day_interval, run_interval

FIRST = date(2026, 10, 1)


def day_interval(day: date, timezone):
    """The interval of a local day in `timezone` (a channel's own: pipeline.local_day_interval)."""
    from omnichannel.pipeline import Interval

    start = datetime.combine(day, time(0), timezone)
    return Interval(start, datetime.combine(day + timedelta(days=1), time(0), timezone))


def credentials(simulator, channel) -> Credentials:
    return simulator.credentials(channel)


def run_day(simulator, config, day: date, channels=None) -> list:
    batches = []
    for channel in channels or extracted_channels(config):
        interval = local_day_interval(channel, day)
        simulator.set_clock(interval.end)
        for stream in extracted_streams(channel):
            creds = credentials(simulator, channel)
            batches.append(run_interval(channel, stream, interval, creds))
    return batches


def run_days(simulator, shop, days: int, first: date = FIRST):
    creds = Credentials(simulator.shop_url(shop.channel_id), "shpat_test")
    batches = []
    for n in range(days):
        interval = day_interval(first + timedelta(days=n), shop.tz)
        simulator.set_clock(interval.end)
        batches.append(run_interval(shop, "orders", interval, creds))
    return batches


def load_day(simulator, shop, day: date, fault=None, variant=None):
    interval = day_interval(day, shop.tz)
    simulator.set_clock(interval.end)
    if fault:
        simulator.add_fault(shop.channel_id, fault, variant=variant, page=1, stream="orders")
    creds = Credentials(simulator.shop_url(shop.channel_id), "shpat_test")
    batch_id = extract_and_land(shop, "orders", interval, creds)
    with contextlib.suppress(BatchHeld):  # too many bad rows: the whole batch is held
        gate(shop, "orders", batch_id)
    return batch_id

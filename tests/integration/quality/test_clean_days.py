"""Ninety simulated days of clean data from every channel pass the gate with zero false
positives: no row quarantined, no batch held, and the volume band in force once a stream
has history. Weekly batches, a quarter of the default order volume and no waiting on
Amazon's rate limits or report polling keep it short; rate limits and paging are tested
elsewhere."""

from __future__ import annotations

import dataclasses
import os
import random
from datetime import timedelta

import pytest

from omnichannel.kinds import extracted_channels, extracted_streams
from omnichannel.pipeline import Interval, local_day_interval, run_interval
from omnisim.apps import amazon_sp
from omnisim.server import Simulator
from omnisim.spec import spec_from_config
from omnisim.world import World
from tests.helpers.pipeline import FIRST, credentials
from tests.helpers.warehouse import query, reset_warehouse

pytestmark = pytest.mark.integration
WEEKS = 13  # 91 days


@pytest.fixture
def quiet_world(config, monkeypatch):
    monkeypatch.setattr(
        amazon_sp, "RATE_LIMITS", {operation: (1000.0, 1000) for operation in amazon_sp.RATE_LIMITS}
    )
    # a seed drawn per run (printed: OMNI_CLEAN_SEED repeats a failure): clean data must
    # pass on any world, not only on the one the other tests use
    seed = int(os.environ.get("OMNI_CLEAN_SEED", random.randrange(1, 100_000)))
    print(f"ninety clean days: OMNI_CLEAN_SEED={seed}")
    spec = spec_from_config(seed, config)
    channels = tuple(dataclasses.replace(c, daily_orders=c.daily_orders / 4) for c in spec.channels)
    return World(dataclasses.replace(spec, channels=channels))


def test_ninety_clean_days_raise_no_false_positive(config, quiet_world):
    reset_warehouse()
    landing = {c.channel_id: c.landing_path for c in config.channels if c.kind == "files"}
    streams = [(c, s) for c in extracted_channels(config) for s in extracted_streams(c)]
    with Simulator(quiet_world, landing=landing) as simulator:
        for week in range(WEEKS):
            for channel, stream in streams:
                first = local_day_interval(channel, FIRST + timedelta(days=7 * week))
                interval = Interval(first.start, first.start + timedelta(days=7))
                simulator.set_clock(interval.end)
                creds = credentials(simulator, channel)
                creds = dataclasses.replace(creds, extra={"report_poll_seconds": "0.01"})
                run_interval(channel, stream, interval, creds)
    statuses = query("select status, count(*) from ops.load_batches group by status")
    assert dict(statuses) == {"published": WEEKS * len(streams)}
    assert query("select count(*) from quarantine.records") == [(0,)]
    # clean sources delete nothing: no group read whole misses a record of raw
    assert query("select sum(rows_deleted) from ops.load_batches") == [(0,)]
    assert query("select count(*) from ops.dq_results where not success") == [(0,)]
    assert query("select count(*) from ops.alerts") == [(0,)]
    # every batch after the seventh of its stream was checked against a volume band
    bands = query(
        "select b.n > 7, r.observed->'volume_band'->>0 is not null, count(*) "
        "from ops.dq_results as r join ("
        "  select batch_id, row_number() over (partition by channel_id, stream "
        "                                      order by interval_start) as n "
        "  from ops.load_batches) as b using (batch_id) "
        "where r.expectation = 'suite' group by 1, 2 order by 1, 2"
    )
    assert [b[:2] for b in bands] == [(False, False), (True, True)]

"""Snapshot streams (stock levels) are read as the source is now: a re-run of a past
interval keeps what was read then, and a read long after its interval (a backfill) is kept
in quarantine instead of being published as that day's stock."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from omnichannel import warehouse
from omnichannel.pipeline import SNAPSHOT_GRACE, local_day_interval, run_interval
from omnisim.server import Simulator
from tests.helpers.pipeline import credentials
from tests.helpers.warehouse import reset_warehouse

DAY = date(2026, 10, 2)
CHANNELS = (("shopify_us", "shopify__inventory"), ("amazon_de", "amazon_sp__inventory"))


def query(statement: str, *args):
    with warehouse.connect() as conn:
        return conn.execute(statement, args).fetchall()


def contents(table: str) -> list:
    return query(f"select payload, snapshot_at from raw.{table} order by 1::text")  # noqa: S608


def read(simulator, channel, clock_after_end: timedelta):
    interval = local_day_interval(channel, DAY)
    simulator.set_clock(interval.end + clock_after_end)
    return run_interval(channel, "inventory", interval, credentials(simulator, channel))


@pytest.mark.parametrize(("channel_id", "table"), CHANNELS)
def test_a_rerun_weeks_later_keeps_the_snapshot_read_then(channels, world, channel_id, table):
    channel = channels.get(channel_id)
    reset_warehouse()
    with Simulator(world) as simulator:
        first = read(simulator, channel, timedelta(0))
        assert first.status == "published" and first.rows_published > 0
        then = contents(table)
        assert {at for _, at in then} == {local_day_interval(channel, DAY).end}
        again = read(simulator, channel, timedelta(days=21))  # stock has moved on since
    assert again.status == "skipped" and again.rows_received == 0
    assert contents(table) == then
    assert query(f"select count(*) from raw.{table}_history") == [(0,)]  # noqa: S608


@pytest.mark.parametrize(("channel_id", "table"), CHANNELS)
def test_a_backfilled_snapshot_is_kept_in_quarantine_not_published(
    channels, world, channel_id, table
):
    channel = channels.get(channel_id)
    reset_warehouse()
    with Simulator(world) as simulator:
        late = read(simulator, channel, timedelta(days=3))
        assert late.status == "skipped" and late.rows_received > 0
        assert late.rows_quarantined == late.rows_received and late.rows_published == 0
        assert query(f"select count(*) from raw.{table}") == [(0,)]  # noqa: S608
        [(reason,)] = query(
            "select distinct reasons->0->>'expectation' from quarantine.records "
            "where batch_id = %s",
            late.batch_id,
        )
        assert reason == "snapshot_read_in_time"
        # within the grace (a retry an hour later) it is that day's snapshot
        on_time = read(simulator, channel, SNAPSHOT_GRACE - timedelta(hours=1))
    assert on_time.status == "published" and on_time.rows_published > 0

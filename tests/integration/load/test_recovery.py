"""Exactly once across crashes and 429 storms, and a second store added in YAML only."""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from omnichannel.config import load_channels
from omnichannel.kinds import extracted_channels
from omnisim.server import Simulator, world_from_config
from omnisim.truth import daily_truth
from tests.helpers.dbt import dbt_build
from tests.helpers.pipeline import FIRST, credentials, run_day
from tests.helpers.warehouse import content_checksums, query, reset_warehouse

CLOCK = datetime(2026, 10, 5, 12, tzinfo=UTC)


def raw_checksum(table: str) -> str:
    [(value,)] = query(
        f"select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from "  # noqa: S608
        f"(select channel_id, payload from raw.{table}) t"
    )
    return value


def extract_cli(simulator, channel_id: str, *extra) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "omnichannel.cli",
            "extract",
            channel_id,
            "--start",
            "2026-10-01",
            "--end",
            "2026-10-03",
            "--simulator",
            simulator.url,
            *extra,
        ],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_kill_9_mid_extract_then_rerun_equals_a_clean_run(clean_warehouse, world):
    with Simulator(world) as simulator:
        simulator.set_clock(CLOCK)
        clean = extract_cli(simulator, "shopify_us")
        assert clean.wait(timeout=300) == 0, clean.stdout.read()
        want = raw_checksum("shopify__orders")
        reset_warehouse()

        # page 3 hangs: the process is killed with a batch half landed
        simulator.add_fault("shopify_us", "slow", seconds=60, count=1, page=3)
        victim = extract_cli(simulator, "shopify_us")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            landed = (
                query(
                    "select coalesce(sum(rows_received), 0) from ops.load_batches "
                    "where status = 'extracting'"
                )
                if _ledger_exists()
                else [(0,)]
            )
            if landed[0][0] > 0:
                break
            time.sleep(0.2)
        else:
            victim.kill()
            raise AssertionError("the extract never got to a half-landed batch")
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        stuck = query("select batch_id, status from ops.load_batches where status = 'extracting'")
        assert stuck, "a batch was interrupted mid-extract"

        simulator.clear_faults()
        rerun = extract_cli(simulator, "shopify_us")
        assert rerun.wait(timeout=300) == 0, rerun.stdout.read()
    assert raw_checksum("shopify__orders") == want
    statuses = dict(query("select status, count(*) from ops.load_batches group by status"))
    assert statuses.get("superseded", 0) >= 1 and "extracting" not in statuses


def _ledger_exists() -> bool:
    return query("select to_regclass('ops.load_batches')")[0][0] is not None


def test_a_second_shopify_store_is_a_yaml_entry(clean_warehouse, tmp_path, monkeypatch):
    text = (Path(__file__).resolve().parents[3] / "include/config/channels.yml").read_text()
    second = """
  - channel_id: shopify_ca
    kind: shopify
    connection_id: shopify_ca
    base_url: http://127.0.0.1:8765/shops/shopify_ca
    timezone: America/Toronto
    currency: CAD
    schedule: "0 0 * * *"
    start_date: "2026-10-01"
    lookback_hours: 48
    page_size: 5
    streams: [orders]
"""
    path = tmp_path / "channels.yml"
    path.write_text(text + second)
    config = load_channels(path)
    shops = [c for c in config.channels if c.kind == "shopify"]
    assert [c.channel_id for c in shops] == ["shopify_us", "shopify_ca"]
    world = world_from_config(11, config)
    with Simulator(world) as simulator:
        for n in range(3):
            batches = run_day(simulator, config, date(2026, 10, 1) + timedelta(days=n), shops)
            assert {b.status for b in batches} == {"published"}
        assert credentials(simulator, shops[1]).base_url.endswith("/shops/shopify_ca")
    # ops.channels knows the new store's zone and currency: the mart reports it
    monkeypatch.setattr("omnichannel.config.load_channels", lambda path=None: config)
    dbt_build(world, "--select", "+mart_channel_daily_kpis")
    mart = {
        (r[0], r[1]): r[2:]
        for r in query(
            "select channel_id, order_date, currency, orders_count, gmv "
            "from marts.mart_channel_daily_kpis"
        )
    }
    for row in daily_truth(world, date(2026, 10, 1), date(2026, 10, 2)):
        if row.channel_id == "shopify_ca":
            assert mart[("shopify_ca", row.order_date)] == ("CAD", row.orders_count, row.gmv)


@pytest.fixture
def fresh():
    reset_warehouse()
    yield
    reset_warehouse()


def test_a_429_storm_5xx_bursts_and_duplicate_pages_lose_nothing(fresh, world, channels):
    online = [c for c in extracted_channels(channels) if c.kind != "files"]
    with Simulator(world) as simulator:
        run_day(simulator, channels, FIRST, online)
        clean = content_checksums()
    reset_warehouse()
    with Simulator(world) as simulator:
        simulator.add_fault("*", "rate_limit", probability=0.25, retry_after=0)
        simulator.add_fault("*", "server_error", probability=0.2)
        simulator.add_fault("*", "duplicates", probability=0.5)
        run_day(simulator, channels, FIRST, online)
        fired = {f["fault"]: f["fired"] for f in simulator.app.faults.listing()}
    assert all(count > 0 for count in fired.values()), fired
    noisy = content_checksums()
    assert {t: noisy[t] for t in noisy if not t.startswith("pos_")} == {
        t: clean[t] for t in clean if not t.startswith("pos_")
    }
    duplicates = query("select coalesce(sum(rows_duplicate), 0) from ops.load_batches")[0][0]
    assert duplicates > 0
    # every row received is published or quarantined, for every batch
    unbalanced = query(
        "select batch_id from ops.load_batches where status in ('published', 'held') "
        "and rows_received <> rows_published + coalesce(rows_quarantined, 0)"
    )
    assert unbalanced == []


def test_schema_drift_is_recorded_and_a_renamed_field_fails_the_batch(fresh, world, channels):
    from omnichannel.streams import ExtractError

    woo = [c for c in channels.channels if c.channel_id == "woo_uk"]
    with Simulator(world) as simulator:
        run_day(simulator, channels, FIRST, woo)  # the baseline of fields
        simulator.add_fault("woo_uk", "schema_drift", variant="new_field", stream="orders")
        batches = run_day(simulator, channels, FIRST + timedelta(days=1), woo)
        assert {b.status for b in batches} == {"published"}  # a new field is tolerated...
        drift = query("select stream, field, change from ops.schema_drift")
        assert ("orders", "is_editable", "new_field") in drift  # ...and surfaced
        kept = query("select count(*) from raw.woocommerce__orders where payload ? 'is_editable'")
        assert kept[0][0] > 0
        simulator.clear_faults()
        simulator.add_fault("woo_uk", "schema_drift", variant="renamed_field", stream="orders")
        with pytest.raises(
            ExtractError, match=r"'woo_uk', stream 'orders', page 1: .*date_modified_gmt"
        ):
            run_day(simulator, channels, FIRST + timedelta(days=2), woo)
    failed = query(
        "select status from ops.load_batches where stream = 'orders' order by batch_id desc limit 1"
    )
    assert failed == [("failed",)]

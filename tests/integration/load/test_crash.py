"""A PostgreSQL crash (`pg_ctl -m immediate`: no shutdown checkpoint, as a power cut) between
gate and publish, or in the middle of publish, loses nothing: after a restart the batch
publishes, and raw, history, watermark and ledger end as a clean run leaves them."""

from __future__ import annotations

import os
from datetime import date

import psycopg
import pytest

from omnichannel import pipeline, warehouse
from omnichannel.load import ledger, publish
from omnichannel.load.schema import landing_partition
from omnichannel.pipeline import local_day_interval
from omnisim.server import Simulator
from tests.helpers.pipeline import credentials
from tests.helpers.warehouse import query, reset_warehouse

DAY = date(2026, 10, 2)
STREAMS = ("orders", "inventory")  # an event stream and a snapshot stream


def _embedded() -> bool:
    """The tests run on the embedded server (not on a server of the user's)."""
    embedded = warehouse._read_state()
    return embedded is not None and warehouse.url_parts().port == embedded.port


pytestmark = [
    pytest.mark.skipif(not _embedded(), reason="restarts the embedded warehouse"),
    pytest.mark.restarts_server,  # not beside other workers: `make test` runs it on its own
]


def crash_and_restart() -> None:
    """Kill the embedded server without a shutdown checkpoint, then start it (recovery)."""
    data = str(warehouse.pgdata())
    warehouse._run_as_owner([warehouse._bin("pg_ctl"), "-D", data, "-m", "immediate", "stop"])
    test_url = os.environ.pop("OMNI_WAREHOUSE_URL")
    try:
        warehouse.start()  # the embedded server: recovery replays the WAL
    finally:
        os.environ["OMNI_WAREHOUSE_URL"] = test_url


def state(channel, stream: str) -> dict:
    """What a run leaves: raw and history contents, watermark, the ledger's outcome."""
    table = f"{channel.kind}__{stream}"
    out = {}
    for name in (table, f"{table}_history"):
        [(out[name],)] = query(
            "select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from "  # noqa: S608
            f"(select channel_id, payload from raw.{name}) as t"
        )
    out["watermark"] = query(
        "select watermark from ops.watermarks where channel_id = %s and stream = %s",
        channel.channel_id,
        stream,
    )
    out["ledger"] = query(
        "select status, rows_received, rows_published, rows_quarantined, rows_duplicate "
        "from ops.load_batches where channel_id = %s and stream = %s "
        "and status not in ('superseded', 'failed') order by batch_id",
        channel.channel_id,
        stream,
    )
    return out


def extract_and_gate(simulator, channel, stream: str) -> int:
    interval = local_day_interval(channel, DAY)
    simulator.set_clock(interval.end)
    batch_id = pipeline.extract_and_land(channel, stream, interval, credentials(simulator, channel))
    pipeline.gate(channel, stream, batch_id)
    return batch_id


@pytest.fixture(scope="module")
def clean_runs(world, channels):
    """Each stream run cleanly once: the state every crash test must end in."""
    shop = channels.get("shopify_us")
    reset_warehouse()
    wanted = {}
    with Simulator(world) as simulator:
        for stream in STREAMS:
            pipeline.publish_batch(shop, stream, extract_and_gate(simulator, shop, stream))
            wanted[stream] = state(shop, stream)
    assert all(w["ledger"][0][1] > 0 for w in wanted.values()), wanted
    return shop, wanted


@pytest.mark.parametrize("stream", STREAMS)
def test_a_crash_between_gate_and_publish_loses_nothing(clean_runs, world, stream):
    shop, wanted = clean_runs
    reset_warehouse()
    with Simulator(world) as simulator:
        batch_id = extract_and_gate(simulator, shop, stream)
    crash_and_restart()
    assert ledger_status(batch_id) == "gated"
    pipeline.publish_batch(shop, stream, batch_id)
    assert state(shop, stream) == wanted[stream]


def test_a_crash_in_the_middle_of_publish_rolls_back_and_publishes_on_retry(
    clean_runs, world, monkeypatch
):
    shop, wanted = clean_runs
    reset_warehouse()
    with Simulator(world) as simulator:
        batch_id = extract_and_gate(simulator, shop, "orders")
    real_first_load = publish._first_load

    def crash_after_the_insert(conn, q):  # raw written, ledger and watermark not yet
        assert real_first_load(conn, q)
        crash_and_restart()
        return True

    monkeypatch.setattr(publish, "_first_load", crash_after_the_insert)
    with pytest.raises(psycopg.OperationalError):
        pipeline.publish_batch(shop, "orders", batch_id)
    monkeypatch.undo()
    assert ledger_status(batch_id) == "gated"
    assert query("select count(*) from raw.shopify__orders") == [(0,)]
    pipeline.publish_batch(shop, "orders", batch_id)
    assert state(shop, "orders") == wanted["orders"]


def test_publishing_twice_succeeds_and_changes_nothing(clean_runs, world):
    shop, wanted = clean_runs
    reset_warehouse()
    with Simulator(world) as simulator:
        batch_id = extract_and_gate(simulator, shop, "orders")
    first = pipeline.publish_batch(shop, "orders", batch_id)
    again = pipeline.publish_batch(shop, "orders", batch_id)  # the lost acknowledgement
    assert again == first
    assert state(shop, "orders") == wanted["orders"]


def test_a_partition_that_lost_rows_fails_the_batch_and_publishes_nothing(clean_runs, world):
    shop, wanted = clean_runs
    reset_warehouse()
    with Simulator(world) as simulator:
        batch_id = extract_and_gate(simulator, shop, "orders")
        # what crash recovery did to the unlogged landing of earlier versions
        with warehouse.connect(autocommit=True) as conn:
            conn.execute(
                psycopg.sql.SQL("delete from {} where record_no = 1").format(
                    landing_partition("shopify__orders", batch_id)
                )
            )
        with pytest.raises(publish.LandingLost, match=r"rows in landing but \d+ accepted"):
            pipeline.publish_batch(shop, "orders", batch_id)
        assert ledger_status(batch_id) == "failed"
        assert query("select count(*) from raw.shopify__orders") == [(0,)]
        assert query("select count(*) from ops.watermarks") == [(0,)]
        # the re-run publishes the whole interval
        pipeline.publish_batch(shop, "orders", extract_and_gate(simulator, shop, "orders"))
    assert state(shop, "orders") == wanted["orders"]


def test_stale_unfinished_batches_are_swept_and_the_next_run_reads_their_window(clean_runs, world):
    shop, wanted = clean_runs
    reset_warehouse()
    with Simulator(world) as simulator:
        left = extract_and_gate(simulator, shop, "orders")  # the worker died here
        with warehouse.connect(autocommit=True) as conn:
            assert ledger.sweep_stale(conn) == []  # recent: its task may still be running
            conn.execute(
                "update ops.load_batches set heartbeat_at = now() - interval '7 hours' "
                "where batch_id = %s",
                (left,),
            )
            assert ledger.sweep_stale(conn) == [left]
            assert ledger.get_batch(conn, left).status == "failed"
            assert "stale" in ledger.get_batch(conn, left).error
            partition = landing_partition("shopify__orders", left).as_string(conn)
            assert conn.execute("select to_regclass(%s)", (partition,)).fetchone() == (None,)
        pipeline.publish_batch(shop, "orders", extract_and_gate(simulator, shop, "orders"))
    assert state(shop, "orders") == wanted["orders"]


def ledger_status(batch_id: int) -> str:
    with warehouse.connect() as conn:
        return ledger.get_batch(conn, batch_id).status

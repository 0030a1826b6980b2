"""The thin slice against the real warehouse, without a scheduler: extract → landing → GX
gate → raw → dbt → mart, compared with the simulator's ground truth to the cent."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from omnichannel.channels.base import Credentials
from omnichannel.config import QualityRules
from omnichannel.pipeline import (
    BatchHeld,
    extract_and_land,
    gate,
    publish_batch,
    replay,
)
from omnichannel.streams import ExtractError
from omnisim.truth import daily_truth
from tests.helpers.dbt import dbt_build
from tests.helpers.pipeline import FIRST, day_interval, run_days
from tests.helpers.warehouse import query

pytestmark = pytest.mark.integration


def raw_fingerprint():
    return query(
        "select md5(string_agg(t::text, '|' order by order_id)) from "
        "(select order_id, updated_at, subtotal, refunded_subtotal, cancelled_at, "
        "payload from raw.shopify__orders) t"
    )[0][0]


def test_mart_equals_truth_to_the_cent(clean_warehouse, simulator, world, shop):
    days = 6
    batches = run_days(simulator, shop, days)
    assert all(b.status == "published" for b in batches)
    dbt_build(world, "--select", "+mart_channel_daily_kpis")
    mart = {
        (r[0], r[1]): (r[2], r[3], r[4])
        for r in query(
            "select channel_id, order_date, orders_count, gmv, net_revenue "
            "from marts.mart_channel_daily_kpis"
        )
    }
    truth = daily_truth(world, FIRST, FIRST + timedelta(days=days - 1))
    truth = [row for row in truth if row.channel_id == shop.channel_id]
    assert len(truth) == days
    for row in truth:
        assert mart[(row.channel_id, row.order_date)] == (
            row.orders_count,
            row.gmv,
            row.net_revenue,
        ), row
    # late updates were caught: some orders changed after the day they were placed
    assert (
        query(
            "select count(*) from raw.shopify__orders_history h join raw.shopify__orders r"
            " using (channel_id, order_id) where h.updated_at < r.updated_at"
        )[0][0]
        > 0
    )
    types = dict(
        query(
            "select column_name, data_type from information_schema.columns where "
            "table_schema = 'marts' and table_name = 'mart_channel_daily_kpis'"
        )
    )
    assert types["gmv"] == types["net_revenue"] == types["aov"] == "numeric"


def test_rerunning_an_interval_changes_nothing(clean_warehouse, simulator, shop):
    run_days(simulator, shop, 4)
    before = raw_fingerprint()
    watermark = query("select watermark from ops.watermarks")[0][0]
    run_days(simulator, shop, 1, first=FIRST + timedelta(days=1))  # an old interval again
    assert raw_fingerprint() == before
    assert query("select watermark from ops.watermarks")[0][0] == watermark


def test_malformed_page_fails_the_batch_and_publishes_nothing(clean_warehouse, simulator, shop):
    run_days(simulator, shop, 2)
    before, watermark = raw_fingerprint(), query("select watermark from ops.watermarks")[0][0]
    interval = day_interval(FIRST + timedelta(days=2), shop.tz)
    simulator.set_clock(interval.end)
    simulator.add_fault(shop.channel_id, "malformed_page", page=2)
    creds = Credentials(simulator.shop_url(shop.channel_id), "shpat_test")
    with pytest.raises(ExtractError, match=r"channel 'shopify_us', stream 'orders', page 2"):
        extract_and_land(shop, "orders", interval, creds)
    [(status, error)] = query(
        "select status, error from ops.load_batches "
        "where batch_id = (select max(batch_id) from ops.load_batches)"
    )
    assert status == "failed" and "page 2" in error
    assert raw_fingerprint() == before
    assert query("select watermark from ops.watermarks")[0][0] == watermark
    # after the fault clears, a re-run of the interval publishes it
    simulator.clear_faults()
    [batch] = run_days(simulator, shop, 1, first=FIRST + timedelta(days=2))
    assert batch.status == "published"
    assert query("select status from ops.load_batches where status = 'superseded'") != []


def test_a_bad_row_is_quarantined_and_the_rest_publishes(clean_warehouse, simulator, shop):
    run_days(simulator, shop, 1)
    interval = day_interval(FIRST + timedelta(days=1), shop.tz)
    simulator.set_clock(interval.end)
    simulator.add_fault(shop.channel_id, "bad_row", page=1)  # unparseable_amount
    creds = Credentials(simulator.shop_url(shop.channel_id), "shpat_test")
    batch_id = extract_and_land(shop, "orders", interval, creds)
    result = gate(shop, "orders", batch_id)
    assert [f.label for f in result.failures] == [
        "expect_column_values_to_be_null(subtotal__unparsed)"
    ]
    [(key, page, reasons, record)] = query(
        "select record_key, page_no, reasons, record from quarantine.records where batch_id = %s",
        batch_id,
    )
    assert page == 1 and record["subtotal"] == "12,50" and record["order_id"] == key
    assert reasons == [
        {"expectation": "expect_column_values_to_be_null", "column": "subtotal__unparsed",
         "observed": "12,50"}
    ]  # fmt: skip
    batch = publish_batch(shop, "orders", batch_id)
    assert batch.status == "published" and batch.rows_quarantined == 1
    assert batch.rows_received == batch.rows_published + batch.rows_quarantined
    published = "select count(*) from raw.shopify__orders where order_id = %s and batch_id = %s"
    assert query(published, key, batch_id) == [(0,)]  # an earlier version may be there
    [alert] = query(
        "select kind, severity, channel_id, stream, batch_id, details->'rows_quarantined' "
        "from ops.alerts"
    )
    assert alert == ("data_quality", "warning", "shopify_us", "orders", batch_id, 1)


def test_too_many_bad_rows_hold_the_batch(clean_warehouse, simulator, shop):
    strict = replace(shop, quality={"*": QualityRules(max_bad_share=0.0)})
    run_days(simulator, strict, 1)
    before = raw_fingerprint()
    interval = day_interval(FIRST + timedelta(days=1), shop.tz)
    simulator.set_clock(interval.end)
    simulator.add_fault(shop.channel_id, "bad_row", page=1)
    creds = Credentials(simulator.shop_url(shop.channel_id), "shpat_test")
    batch_id = extract_and_land(strict, "orders", interval, creds)
    with pytest.raises(BatchHeld) as held:
        gate(strict, "orders", batch_id)
    assert f"batch {batch_id}" in str(held.value) and "subtotal__unparsed" in str(held.value)
    [(status, received, quarantined)] = query(
        "select status, rows_received, rows_quarantined from ops.load_batches where batch_id = %s",
        batch_id,
    )
    assert status == "held" and received == quarantined > 1
    reasons = query(
        "select reasons from quarantine.records where batch_id = %s and reasons @> %s",
        batch_id,
        '[{"column": "subtotal__unparsed"}]',
    )
    [[share, own]] = [r[0] for r in reasons]
    assert share["expectation"] == "bad_row_share_at_most" and own["observed"] == "12,50"
    failed = query(
        "select expectation, column_name, severity from ops.dq_results where batch_id = %s "
        "and not success and expectation <> 'suite'",
        batch_id,
    )
    assert failed == [("expect_column_values_to_be_null", "subtotal__unparsed", "row")]
    assert raw_fingerprint() == before
    assert query("select severity from ops.alerts where batch_id = %s", batch_id) == [("critical",)]


def test_an_accepted_replay_publishes_a_held_batch_and_the_mart_follows(
    clean_warehouse, simulator, world, shop
):
    strict = replace(shop, quality={"*": QualityRules(max_bad_share=0.0)})
    run_days(simulator, strict, 1)
    day = FIRST + timedelta(days=1)
    interval = day_interval(day, shop.tz)
    simulator.set_clock(interval.end)
    simulator.add_fault(shop.channel_id, "bad_row", variant="totals_mismatch", page=1)
    creds = Credentials(simulator.shop_url(shop.channel_id), "shpat_test")
    batch_id = extract_and_land(strict, "orders", interval, creds)
    with pytest.raises(BatchHeld):
        gate(strict, "orders", batch_id)
    held = query("select rows_quarantined from ops.load_batches where batch_id = %s", batch_id)
    mart = "select orders_count from marts.mart_channel_daily_kpis where order_date = %s"
    dbt_build(world, "--select", "+mart_channel_daily_kpis")
    before = query(mart, day)

    replayed = replay(strict, batch_id, accept=True, by="test-ops")

    assert replayed.status == "published" and replayed.replay_of == batch_id
    assert (replayed.rows_published, replayed.rows_quarantined) == (held[0][0], 0)
    still_open = "select count(*) from quarantine.records where released_at is null"
    assert query(still_open) == [(0,)]
    assert query("select distinct released_by, released_to from quarantine.records") == [
        ("test-ops", replayed.batch_id)
    ]
    dbt_build(world, "--select", "+mart_channel_daily_kpis")
    after = query(mart, day)
    assert after[0][0] > (before[0][0] if before else 0)


def test_accepting_a_value_raw_cannot_hold_keeps_it_in_quarantine(clean_warehouse, simulator, shop):
    run_days(simulator, shop, 1)
    interval = day_interval(FIRST + timedelta(days=1), shop.tz)
    simulator.set_clock(interval.end)
    simulator.add_fault(shop.channel_id, "bad_row", page=1)  # "12,50"
    creds = Credentials(simulator.shop_url(shop.channel_id), "shpat_test")
    batch_id = extract_and_land(shop, "orders", interval, creds)
    gate(shop, "orders", batch_id)
    publish_batch(shop, "orders", batch_id)

    replayed = replay(shop, batch_id, accept=True, by="test-ops")

    assert (replayed.rows_received, replayed.rows_published, replayed.rows_quarantined) == (1, 0, 1)
    [(reasons,)] = query(
        "select reasons from quarantine.records where batch_id = %s", replayed.batch_id
    )
    assert reasons[0]["expectation"] == "value_fits_its_raw_column"

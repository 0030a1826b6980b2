"""Every channel instance of the default config extracts and publishes against the simulator,
and what lands in raw adds up to `omni simulate truth` per channel and day."""

from datetime import timedelta
from decimal import Decimal

import pytest

from omnichannel.kinds import extracted_channels, extracted_streams
from omnisim.server import Simulator
from omnisim.truth import daily_truth
from tests.helpers.pipeline import FIRST, run_day
from tests.helpers.warehouse import RAW_TABLES, checksums, query, reset_warehouse

DAYS = 4


@pytest.fixture(scope="module")
def loaded(config, world):
    """Four days of every channel, loaded once for the module's checks."""
    reset_warehouse()
    landing = {c.channel_id: c.landing_path for c in config.channels if c.kind == "files"}
    with Simulator(world, landing=landing) as simulator:
        batches = []
        for n in range(DAYS):
            batches += run_day(simulator, config, FIRST + timedelta(days=n))
        yield {"simulator": simulator, "batches": batches}


def truth_rows(world):
    last = FIRST + timedelta(days=DAYS - 1)
    return {(r.channel_id, r.order_date): r for r in daily_truth(world, FIRST, last)}


def test_every_channel_and_stream_publishes(loaded, config):
    batches = loaded["batches"]
    assert {b.status for b in batches} == {"published"}
    expected = {(c.channel_id, s) for c in extracted_channels(config) for s in extracted_streams(c)}
    assert {(b.channel_id, b.stream) for b in batches} == expected
    assert len(expected) == 15
    for table in RAW_TABLES:
        if table == "woocommerce__refunds":
            continue  # refunds come 2-30 days after delivery: maybe none in 4 days
        assert query(f"select count(*) from raw.{table}")[0][0] > 0, table  # noqa: S608


def test_amazon_raw_adds_up_to_the_truth(loaded, world):
    rows = query(
        """select (purchase_date at time zone 'Europe/Berlin')::date,
                  count(distinct amazon_order_id), sum(quantity_ordered), sum(item_price),
                  sum(promotion_discount), sum(item_tax)
           from raw.amazon_sp__order_items where order_status <> 'Canceled' group by 1"""
    )
    truth = truth_rows(world)
    days = {r[0]: r[1:] for r in rows}
    for n in range(DAYS - 1):  # the last day's late orders are read by the next run
        day = FIRST + timedelta(days=n)
        t = truth[("amazon_de", day)]
        assert days[day] == (t.orders_count, t.units, t.gmv, t.discounts, t.tax), day
    sessions = dict(query("select report_date, sessions from raw.amazon_sp__sales_traffic"))
    assert sessions[FIRST] == truth[("amazon_de", FIRST)].sessions


def test_woocommerce_raw_adds_up_to_the_truth(loaded, world):
    orders = dict(
        (r[0], r[1:])
        for r in query(
            """select (date_created_gmt at time zone 'UTC' at time zone 'Europe/London')::date,
                      count(*), sum((payload->>'total')::numeric - total_tax - shipping_total)
               from raw.woocommerce__orders where status <> 'cancelled' group by 1"""
        )
    )
    refunds = dict(
        query(
            """select (o.date_created_gmt at time zone 'UTC' at time zone 'Europe/London')::date,
                      -sum(r.subtotal)
               from raw.woocommerce__refunds r join raw.woocommerce__orders o using (order_id)
               where o.status <> 'cancelled' group by 1"""
        )
    )
    truth = truth_rows(world)
    for n in range(DAYS - 1):
        day = FIRST + timedelta(days=n)
        t = truth[("woo_uk", day)]
        count, merchandise = orders[day]
        net = merchandise - refunds.get(day, Decimal("0.00"))
        assert (count, net) == (t.orders_count, t.net_revenue), day


def test_store_sales_and_footfall_add_up_to_the_truth(loaded, world):
    sales = dict(
        (r[0], r[1:])
        for r in query(
            """select business_date, count(distinct (store_id, receipt_no)),
                      sum(unit_price * quantity)
               from raw.files__sales where return_of is null group by 1"""
        )
    )
    visitors = dict(
        query("select business_date, sum(visitors) from raw.files__footfall group by 1")
    )
    truth = truth_rows(world)
    for n in range(DAYS - 1):
        day = FIRST + timedelta(days=n)
        t = truth[("pos_fr", day)]
        assert sales[day] == (t.orders_count, t.gmv), day
        assert visitors[day] == t.sessions


def test_ga4_sessions_are_the_truths(loaded, world):
    sessions = dict(query("select report_date, sum(sessions) from raw.ga4__traffic group by 1"))
    truth = truth_rows(world)
    for n in range(DAYS - 1):
        day = FIRST + timedelta(days=n)
        assert sessions[day] == truth[("shopify_us", day)].sessions


def test_inventory_snapshots_are_the_stock_of_the_day(loaded, world):
    day = FIRST + timedelta(days=1)
    fba = dict(
        query(
            "select seller_sku, total_quantity from raw.amazon_sp__inventory "
            "where snapshot_date = %s",
            day,
        )
    )
    on_hand = world.on_hand_at("fba_de", day)
    cat = world.catalogue
    assert fba == {
        cat.seller_sku[i]: int(on_hand[i]) for i in range(len(cat)) if cat.seller_sku[i] in fba
    }
    assert len(fba) == int(world.listings["amazon_de"].listed.sum())
    shop = dict(
        query("select sku, on_hand from raw.shopify__inventory where snapshot_date = %s", day)
    )
    web = world.on_hand_at("wh_us", day)
    assert shop and shop == {cat.sku[i]: int(web[i]) for i in range(len(cat)) if cat.sku[i] in shop}
    barcodes = dict(query("select sku, barcode from raw.shopify__products"))
    assert barcodes and all(cat.barcode[cat.sku.index(k)] == v for k, v in barcodes.items())
    counted = dict(
        query(
            "select pos_code, on_hand from raw.files__stock "
            "where store_id = 'paris01' and count_date = %s",
            day,
        )
    )
    paris = world.on_hand_at("store_paris01", day)
    assert (
        counted
        == {cat.barcode[i]: int(paris[i]) for i in range(len(cat)) if cat.barcode[i] in counted}
        and counted
    )


def test_rerunning_every_interval_changes_nothing(loaded, config):
    before = checksums()
    run_day(loaded["simulator"], config, FIRST + timedelta(days=1))
    assert checksums() == before


def test_late_updates_land(loaded):
    # refunds happen days after the order; later runs update the orders they belong to
    late = query(
        """select count(*) from raw.shopify__orders
           where updated_at::date > created_at::date + 1"""
    )[0][0]
    assert late > 0
    # the versions they replaced are kept for audit, each older than the published one
    replaced = query(
        """select count(*), count(*) filter (where h.date_modified_gmt < r.date_modified_gmt)
           from raw.woocommerce__orders_history h join raw.woocommerce__orders r
           using (channel_id, order_id)"""
    )[0]
    assert replaced[0] > 0
    assert replaced[0] == replaced[1]

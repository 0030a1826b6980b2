"""The simulated world: determinism, calendar, stock, customers, traffic, money, truth."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from omnisim import demand
from omnisim.spec import Store, WorldChannel, WorldSpec
from omnisim.truth import TRUTH_COLUMNS, daily_truth, truth_csv, truth_table
from omnisim.world import NEVER, World

START = date(2026, 10, 1)
CHANNELS = (
    WorldChannel("shop", "shopify", "America/New_York", "USD", START, daily_orders=40),
    WorldChannel(
        "amz", "amazon_sp", "Europe/Berlin", "EUR", START, daily_orders=50, listing_share=0.7
    ),
    WorldChannel(
        "woo",
        "woocommerce",
        "Europe/London",
        "GBP",
        START + timedelta(days=10),
        daily_orders=15,
        location="wh_shared",
    ),
    WorldChannel(
        "pos",
        "files",
        "Europe/Paris",
        "EUR",
        START,
        daily_orders=30,
        stores=(Store("paris", "Paris"), Store("lyon", "Lyon")),
    ),
    WorldChannel("ga", "ga4", "America/New_York", "USD", START, traffic_of="shop"),
)


def spec(seed=1, days=70, **kw):
    return WorldSpec(
        seed, START, START + timedelta(days=days - 1), CHANNELS, skus=40, customers=1500, **kw
    )


@pytest.fixture(scope="module")
def big():
    return World(spec(days=70))


def columns(world):
    return {k: v.copy() for k, v in vars(world.orders).items()} | {
        f"line_{k}": v.copy() for k, v in vars(world.lines).items()
    }


def test_same_seed_gives_identical_data_and_other_seeds_differ():
    a, b, c = World(spec(3, 20)), World(spec(3, 20)), World(spec(4, 20))
    for name, values in columns(a).items():
        assert np.array_equal(values, columns(b)[name]), name
    assert truth_csv(daily_truth(a, START, START + timedelta(19))) == truth_csv(
        daily_truth(b, START, START + timedelta(19))
    )
    assert not np.array_equal(a.orders.created, c.orders.created)


def test_a_longer_world_starts_with_exactly_the_days_of_a_shorter_one():
    short, long = World(spec(5, 15)), World(spec(5, 30))
    n = len(short.orders)
    for name, values in vars(short.orders).items():
        if name == "customer":
            continue  # same customer pool, drawn the same way
        assert np.array_equal(values, getattr(long.orders, name)[:n]), name
    assert np.array_equal(short.on_hand, long.on_hand[:, :15])


def test_no_orders_before_a_channel_opens_and_on_its_local_day(big):
    woo = big.channel_orders("woo")
    assert big.orders.day[woo].min() == 10
    for channel in ("shop", "amz", "pos"):
        for i in big.channel_orders(channel)[:200]:
            order = big.order(int(i))
            tz = ZoneInfo(big.channels[channel].timezone)
            assert order.created_at.astimezone(tz).date() == order.local_date
            assert order.created_at.tzinfo is UTC


def test_store_sales_happen_in_opening_hours(big):
    tz = ZoneInfo("Europe/Paris")
    hours = {big.order(int(i)).created_at.astimezone(tz).hour for i in big.channel_orders("pos")}
    assert min(hours) >= 9 and max(hours) <= 19


def test_money_adds_up_for_tax_exclusive_and_inclusive_channels(big):
    for channel in ("shop", "amz"):
        for i in big.channel_orders(channel)[:300]:
            order = big.order(int(i))
            assert order.gross - order.discounts == order.subtotal
            assert order.tax == sum(line.tax for line in order.lines)
            expected = order.subtotal + order.shipping
            expected += 0 if order.taxes_included else order.tax
            assert order.total == expected
            assert order.total == order.total.quantize(Decimal("0.01"))
    assert big.order(int(big.channel_orders("amz")[0])).taxes_included
    assert not big.order(int(big.channel_orders("shop")[0])).taxes_included


def test_state_follows_the_clock(big):
    index = big.channel_orders("shop")
    i = int(index[big.orders.refund_at[index] != NEVER][0])
    order = big.order(i)
    refund = order.refunds[0]
    assert order.state_at(order.created_at) is None  # not yet placed
    before = order.state_at(refund.created_at)
    after = order.state_at(refund.created_at + timedelta(seconds=1))
    assert before.refunded_subtotal == 0 and before.financial_status == "PAID"
    assert after.refunded_subtotal == refund.subtotal > 0
    assert after.updated_at == refund.created_at > before.updated_at
    assert after.financial_status in ("PARTIALLY_REFUNDED", "REFUNDED")
    now = int((refund.created_at + timedelta(seconds=1)).timestamp())
    assert big.updated_at(np.array([i]), now)[0] == int(refund.created_at.timestamp())


def test_orders_change_after_creation(big):
    o = big.orders
    shop = big.channel_orders("shop")
    assert (o.cancelled[shop] != NEVER).mean() > 0.01
    assert (o.edited[shop] != NEVER).mean() > 0.02
    assert (o.refund_at[shop] != NEVER).mean() > 0.04
    cancelled = shop[o.cancelled[shop] != NEVER]
    assert (o.fulfilled[cancelled] == NEVER).all() and (o.refund_at[cancelled] == NEVER).all()
    refunded = shop[o.refund_at[shop] != NEVER]
    assert (o.refund_at[refunded] - o.created[refunded] > 2 * 86400).all()


def test_stock_censors_sales_and_replenishment_refills(big):
    assert (big.sold_units <= big.demand_units).all()
    assert (big.on_hand >= 0).all()
    lost = big.demand_units.sum() - big.sold_units.sum()
    assert 0 < lost < 0.3 * big.demand_units.sum()
    stockout_days = (big.on_hand == 0).sum()
    assert stockout_days > 0
    assert big.replenishments and all(r.arrives_on > r.ordered_on for r in big.replenishments)
    # some location-SKU runs out and is back in stock later
    loc, day, sku = np.argwhere(big.on_hand[:, :-10] == 0)[0]
    assert big.on_hand[loc, day:, sku].max() > 0


def test_shared_location_is_one_stock(big):
    assert big.locations.count("wh_shared") == 1
    assert sum(p.location == big.locations.index("wh_shared") for p in big.points) == 1
    assert {p.point_id for p in big.points if p.channel.kind == "files"} == {"paris", "lyon"}


def test_demand_follows_the_calendar():
    assert demand.black_friday(2026) == date(2026, 11, 27)
    assert demand.prime_day(2026) == date(2026, 7, 14)
    assert demand.season(date(2026, 12, 10)) > demand.season(date(2026, 2, 10))
    assert demand.peak_day(date(2026, 11, 27), "shopify").name == "Black Friday"
    assert demand.peak_day(date(2026, 7, 14), "shopify") is None
    assert demand.peak_day(date(2026, 7, 14), "amazon_sp").name == "Prime Day"


def test_black_friday_sells_more_and_at_a_discount():
    world = World(spec(2, 70))
    k = world.day_index(date(2026, 11, 27))
    daily = world.sold_units.sum(axis=(0, 2))
    usual = np.median(daily[k - 21 : k - 7])
    assert daily[k] > 1.8 * usual
    o = world.orders
    on_day = o.day == k
    assert o.discount[on_day].sum() / o.gross[on_day].sum() >= 0.15


def test_long_tail_skus_sell_intermittently(big):
    shop = next(p.index for p in big.points if p.channel.channel_id == "shop")
    selling = (big.sold_units[shop] > 0).mean(axis=0)  # share of days with a sale, per SKU
    tail = big.catalogue.long_tail
    assert selling[tail].mean() < 0.3 < selling[~tail].mean()


def test_customers_repeat_and_cross_channels(big):
    o = big.orders
    known = o.customer >= 0
    buyers, counts = np.unique(o.customer[known], return_counts=True)
    assert (counts > 1).mean() > 0.2  # repeat purchases
    channels_per_buyer = {}
    for c, ch in zip(o.customer[known], o.channel[known], strict=True):
        channels_per_buyer.setdefault(int(c), set()).add(int(ch))
    assert sum(len(s) > 1 for s in channels_per_buyer.values()) > 10
    pos = big.channel_orders("pos")
    assert (o.customer[pos] < 0).mean() > 0.5  # most store buyers are anonymous
    assert len({c.email for c in big.customers}) == len(big.customers)


def test_traffic_is_consistent_with_orders(big):
    o = big.orders
    shop_point = next(p.index for p in big.points if p.channel.channel_id == "shop")
    for k in range(5, 10):
        ids = big.channel_orders("shop")
        ids = ids[o.day[ids] == k]
        sessions = big.sessions[shop_point, k]
        purchases = np.bincount(o.source[ids], minlength=len(sessions))
        assert (sessions >= purchases).all()
        assert 0.01 < len(ids) / sessions.sum() < 0.06  # conversion rate
    amz = next(p.index for p in big.points if p.channel.channel_id == "amz")
    assert (big.sku_sessions[amz] >= 0).all() and big.sku_sessions[amz].sum() > 0


def test_fx_is_a_daily_series_per_currency(big):
    assert big.currencies == ["EUR", "GBP", "USD"]
    assert (big.fx["USD"] == 1).all()
    eur = big.fx["EUR"]
    assert len(eur) == big.spec.days and eur.min() > 0.9 and eur.max() < 1.3
    assert len(np.unique(eur)) > 10


def test_sku_ids_differ_per_channel_so_a_crosswalk_is_needed(big):
    cat = big.catalogue
    assert len(set(cat.asin)) == len(cat) and all(a.startswith("B0") for a in cat.asin)
    assert not set(cat.seller_sku) & set(cat.sku)
    assert all(len(b) == 13 and b.isdigit() for b in cat.barcode)
    shop, woo = big.listings["shop"], big.listings["woo"]
    assert not set(shop.product_id) & set(woo.product_id)
    assert shop.listed.all() and 0.5 < big.listings["amz"].listed.mean() < 0.95


def test_truth_counts_what_is_known_at_the_end_of_the_last_day(big):
    day = START + timedelta(days=5)
    [row] = [r for r in daily_truth(big, day, day) if r.channel_id == "shop"]
    end = datetime.combine(
        day + timedelta(days=1), datetime.min.time(), ZoneInfo("America/New_York")
    )
    states = [o.state_at(end) for o in big.orders_for_day("shop", day)]
    live = [s for s in states if s and not s.cancelled_at]
    assert row.orders_count == len(live)
    assert row.gmv == sum(s.order.gross for s in live)
    assert row.units == sum(line.quantity for s in live for line in s.order.lines)
    assert row.net_revenue == sum(s.order.subtotal - s.refunded_subtotal for s in live)
    later = daily_truth(big, day, day + timedelta(days=30))[0]
    assert later.refunds >= row.refunds  # more refunds known later


def test_truth_takes_vat_out_of_net_revenue_where_prices_include_it(big):
    day = START + timedelta(days=3)
    [row] = [r for r in daily_truth(big, day, day) if r.channel_id == "amz"]
    assert row.net_revenue < row.gmv - row.discounts
    assert row.net_revenue + row.tax + row.refunds <= row.gmv - row.discounts + Decimal("0.01")


def test_truth_tables_are_csv():
    world = World(spec(1, 20))
    text = truth_csv(daily_truth(world, START, START + timedelta(days=1)))
    lines = text.splitlines()
    assert lines[0] == ",".join(TRUTH_COLUMNS)
    assert lines[1].startswith("shop,2026-10-01,USD,")
    for table, header in (
        ("sku_daily", "channel_id,sku,date"),
        ("inventory", "location_id,sku"),
        ("fx", "date,currency,usd_per_unit"),
        ("catalogue", "sku,title"),
        ("replenishments", "location_id,sku,quantity"),
    ):
        out = truth_table(world, table, START, START + timedelta(days=19))
        assert out.startswith(header) and len(out.splitlines()) > 2
    sku_daily = truth_table(world, "sku_daily", START, START).splitlines()[1:]
    assert all(int(r.split(",")[4]) >= int(r.split(",")[3]) for r in sku_daily)


def test_store_exports_follow_the_clock_back_and_forth(world, tmp_path):
    """A catch-up sets the clock to each interval's end, one stream after another: a clock
    set back withdraws the exports of its future, so no batch reads a day not ended yet."""
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from omnisim.files import pos_files as exports

    channel = world.channels["pos_fr"]
    tz = ZoneInfo(channel.timezone)
    first = channel.opened_on

    def at(day):  # the morning the day's exports are due
        return datetime.combine(day + timedelta(days=1), time(exports.DROP_HOUR), tz)

    def days_there() -> set:
        return {p.name.rsplit("_", 1)[1][:8] for p in tmp_path.glob("*/sales_*.csv")}

    exports.drop(world, channel, tmp_path, at(first + timedelta(days=4)))
    assert days_there() == {f"{first + timedelta(days=n):%Y%m%d}" for n in range(5)}
    exports.drop(world, channel, tmp_path, at(first + timedelta(days=1)))
    assert days_there() == {f"{first + timedelta(days=n):%Y%m%d}" for n in range(2)}
    exports.drop(world, channel, tmp_path, at(first + timedelta(days=2)))
    assert days_there() == {f"{first + timedelta(days=n):%Y%m%d}" for n in range(3)}

from datetime import UTC, date, datetime, timedelta

from omnichannel.simulator.truth import TRUTH_COLUMNS, daily_truth, truth_csv
from omnichannel.simulator.world import World, WorldChannel

CHANNEL = WorldChannel("shop", "shopify", "America/New_York", "USD", opened_on=date(2026, 10, 1))


def test_same_seed_gives_identical_orders_and_other_seeds_differ():
    day = date(2026, 10, 5)
    a = World(1, [CHANNEL]).orders_for_day("shop", day)
    b = World(1, [CHANNEL]).orders_for_day("shop", day)
    c = World(2, [CHANNEL]).orders_for_day("shop", day)
    assert a == b and len(a) > 0
    assert a != c


def test_a_day_does_not_depend_on_which_span_is_generated():
    whole = World(3, [CHANNEL]).orders_between("shop", date(2026, 10, 1), date(2026, 10, 10))
    alone = World(3, [CHANNEL]).orders_for_day("shop", date(2026, 10, 7))
    assert [o for o in whole if o.local_date == date(2026, 10, 7)] == list(alone)


def test_no_orders_before_the_store_opens():
    assert World(1, [CHANNEL]).orders_for_day("shop", date(2026, 9, 30)) == ()


def test_orders_fall_on_their_local_day():
    orders = World(1, [CHANNEL]).orders_for_day("shop", date(2026, 10, 5))
    from zoneinfo import ZoneInfo

    assert {o.created_at.astimezone(ZoneInfo("America/New_York")).date() for o in orders} == {
        date(2026, 10, 5)
    }
    assert all(o.created_at.tzinfo is UTC for o in orders)


def test_state_follows_the_clock():
    world = World(11, [CHANNEL])
    orders = world.orders_between("shop", date(2026, 10, 1), date(2026, 10, 20))
    refunded = next(o for o in orders if o.refunds)
    refund = refunded.refunds[0]
    assert refunded.state_at(refunded.created_at) is None  # not yet placed
    before = refunded.state_at(refund.created_at)
    after = refunded.state_at(refund.created_at + timedelta(seconds=1))
    assert before.refunded_subtotal == 0 and before.financial_status == "PAID"
    assert after.refunded_subtotal == refund.subtotal > 0
    assert after.updated_at == refund.created_at > before.updated_at
    assert after.financial_status in ("PARTIALLY_REFUNDED", "REFUNDED")


def test_money_adds_up():
    for order in World(5, [CHANNEL]).orders_between("shop", date(2026, 10, 1), date(2026, 10, 3)):
        assert order.gross - order.discounts == order.subtotal
        assert order.total == order.subtotal + order.shipping + order.tax
        assert all(str(line.discount).count(".") == 1 for line in order.lines)
        assert order.subtotal == order.subtotal.quantize(order.subtotal.__class__("0.01"))


def test_truth_counts_what_is_known_at_the_end_of_the_last_day():
    world = World(11, [CHANNEL])
    day = date(2026, 10, 2)
    [row] = daily_truth(world, day, day)
    end = datetime(2026, 10, 3, 4, 0, tzinfo=UTC)  # local midnight in New York (EDT)
    live = [o.state_at(end) for o in world.orders_for_day("shop", day)]
    kept = [s for s in live if s.cancelled_at is None]
    assert row.orders_count == len(kept)
    assert row.gmv == sum(s.order.gross for s in kept)
    assert row.net_revenue == sum(s.order.subtotal - s.refunded_subtotal for s in kept)


def test_truth_csv_format():
    text = truth_csv(daily_truth(World(1, [CHANNEL]), date(2026, 10, 1), date(2026, 10, 2)))
    lines = text.splitlines()
    assert lines[0] == ",".join(TRUTH_COLUMNS)
    assert len(lines) == 3
    channel_id, day, count, gmv, net = lines[1].split(",")
    assert (channel_id, day) == ("shop", "2026-10-01")
    assert int(count) > 0 and gmv.count(".") == 1 and len(gmv.split(".")[1]) == 2

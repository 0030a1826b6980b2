"""Connectors on the simulated clock: a wait on a rate limit advances the simulator's API
time instead of sleeping, the simulator's buckets restore on that time, so a run obeys the
limits (in simulated time) at CPU speed, and loses nothing."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest

from omnichannel.channels import clock as clocks
from omnichannel.kinds import KINDS
from omnichannel.pipeline import local_day_interval
from omnisim.apps import amazon_sp
from omnisim.server import Simulator

DAY = date(2026, 10, 2)
WALL_BOUND = 20.0  # seconds: what the CPU needs, far below what the limits imply


@pytest.fixture
def simulated(world, monkeypatch):
    with Simulator(world, simulated_time=True) as simulator:
        monkeypatch.setenv(clocks.ENV, simulator.url)
        yield simulator


def read(simulator, channel, stream: str):
    """One day of a stream through the connector on the simulated clock: its pages, the
    client (what it waited) and the wall-clock seconds it took."""
    clock = clocks.current()
    assert clock.simulated
    interval = local_day_interval(channel, DAY)
    clock.start_run(interval.end)
    client = KINDS[channel.kind].client(channel, simulator.credentials(channel))
    client.clock = clock
    started = time.monotonic()
    try:
        pages = list(client.iter_pages(stream, interval.start, interval.end))
    finally:
        client.close()
        clock.close()
    return pages, client, time.monotonic() - started


def test_amazon_at_the_documented_quotas_waits_simulated_minutes_not_wall_ones(
    simulated, channels, world, monkeypatch
):
    # Amazon's usage plans: getOrderItems 0.5 requests/s with a burst of 30, getOrders
    # 0.0167/s with a burst of 20; a 429 storm of three answers on the first page of orders
    rate, burst = 0.5, 30
    monkeypatch.setitem(amazon_sp.RATE_LIMITS, "getOrderItems", (rate, burst))
    monkeypatch.setitem(amazon_sp.RATE_LIMITS, "getOrders", (0.0167, 20))
    simulated.add_fault("amazon_de", "rate_limit", page=1, count=3)
    channel = channels.get("amazon_de")
    interval = local_day_interval(channel, DAY)
    pages, client, wall = read(simulated, channel, "order_items")
    orders = {r["amazon_order_id"] for p in pages for r in p.records}
    # nothing lost: every order updated in the window, with its items
    updated = {
        amazon_sp.amazon_order_id(o.order_id)
        for o in world.orders_between("amazon_de", DAY - timedelta(days=7), DAY)
        if (state := o.state_at(interval.end)) is not None
        and interval.start <= state.updated_at < interval.end
    }
    assert orders == updated and len(orders) > burst
    # one getOrderItems call per order: the burst is free, every further call waits for
    # its token (1/rate seconds); the storm adds a wait of one getOrders token per 429
    items_wait = (len(orders) - burst) / rate
    storm_wait = 3 / amazon_sp.RATE_LIMITS["getOrders"][0]
    assert items_wait <= client.waited <= items_wait + storm_wait + 1.0
    assert simulated.app.api_seconds == pytest.approx(client.waited)
    assert wall < WALL_BOUND < items_wait


def test_shopify_cost_bucket_restores_on_simulated_time(simulated, channels, world):
    shop = world.channels["shopify_us"]
    shop.rate_limits.update(maximum=1000, restore_rate=50)  # a small plan's bucket
    try:
        pages, client, wall = read(simulated, channels.get("shopify_us"), "orders")
    finally:
        shop.rate_limits.clear()
    records = [r for p in pages for r in p.records]
    assert len({r["order_id"] for r in records}) == len(records) > 0
    # every page costs more than a twentieth of the bucket, so the bucket ran dry and the
    # connector waited for points to restore: simulated seconds, not wall-clock ones
    assert client.waited > 1.0 and simulated.app.api_seconds == pytest.approx(client.waited)
    assert wall < WALL_BOUND


def test_the_wall_clock_simulator_refuses_to_be_advanced(simulator):
    import httpx

    answer = httpx.post(f"{simulator.url}/_simulator/clock", json={"advance": 5})
    assert answer.status_code == 409 and "wall-clock" in answer.text


def test_a_wait_the_simulator_cannot_take_is_refused(simulated, channels):
    import httpx

    url = simulated.base_url("woo_uk") + "/wp-json/wc/v3/orders"
    for bad in ("-1", "inf", "nan", "soon"):
        answer = httpx.get(url, headers={clocks.ADVANCE_HEADER: bad})
        assert answer.status_code == 400 and clocks.ADVANCE_HEADER in answer.text, bad
    assert simulated.app.api_seconds == 0.0


def test_each_channel_runs_on_its_own_clock_until_the_world_clock_is_set(simulated, channels):
    """Catch-up runs of several channels at once: each run sets its channel's clock, the
    others read their channel as at their own interval's end."""
    from datetime import UTC, datetime

    shop, woo = channels.get("shopify_us"), channels.get("woo_uk")
    early = local_day_interval(shop, DAY).end
    late = local_day_interval(woo, DAY + timedelta(days=5)).end
    for channel, at in ((shop, early), (woo, late)):
        clock = clocks.current(channel.channel_id)
        clock.start_run(at)
        clock.close()
    app = simulated.app
    assert app.clock("shopify_us") == early and app.clock("woo_uk") == late
    assert app.clock("amazon_de") > late  # untouched: the world's clock (wall time here)
    from email.utils import parsedate_to_datetime

    import httpx

    # the Date header tells the channel's time (connectors stamp snapshots with it)
    answer = httpx.get(simulated.base_url("woo_uk") + "/wp-json/wc/v3/orders")
    assert parsedate_to_datetime(answer.headers["date"]) == late.replace(microsecond=0)
    simulated.set_clock(datetime(2026, 10, 20, tzinfo=UTC))  # the world's: every channel's
    assert {app.clock(c) for c in ("shopify_us", "woo_uk", "amazon_de")} == {
        datetime(2026, 10, 20, tzinfo=UTC)
    }
    answer = httpx.post(
        f"{simulated.url}/_simulator/clock", json={"now": late.isoformat(), "channel": "nope"}
    )
    assert answer.status_code == 400 and "unknown channel" in answer.text

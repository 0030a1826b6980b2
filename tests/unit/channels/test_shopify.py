"""The Shopify connector against the simulator (a real HTTP server on 127.0.0.1)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from omnichannel.channels.base import Credentials
from omnichannel.channels.shopify import ShopifyClient
from omnichannel.streams import ExtractError

SINCE = datetime(2026, 10, 1, tzinfo=UTC)
UNTIL = datetime(2026, 10, 4, 4, tzinfo=UTC)


def client(simulator, token="shpat_test", **kwargs):
    creds = Credentials(simulator.shop_url("shopify_us"), token)
    return ShopifyClient("shopify_us", creds, page_size=20, **kwargs)


def test_pages_until_has_next_page_is_false(simulator, world):
    simulator.set_clock(UNTIL)
    pages = list(client(simulator).iter_pages("orders", SINCE, UNTIL))
    records = [r for p in pages for r in p.records]
    orders = world.orders_between("shopify_us", date(2026, 10, 1), date(2026, 10, 3))
    assert [p.number for p in pages] == list(range(1, len(pages) + 1))
    assert len(pages) > 2
    assert {r["order_id"] for r in records} == {f"gid://shopify/Order/{o.order_id}" for o in orders}
    updated = [r["updated_at"] for r in records]
    assert updated == sorted(updated)  # sortKey UPDATED_AT


def test_flattened_values_are_the_worlds_values(simulator, world):
    simulator.set_clock(UNTIL)
    records = {
        r["order_id"]: r
        for p in client(simulator).iter_pages("orders", SINCE, UNTIL)
        for r in p.records
    }
    for order in world.orders_between("shopify_us", date(2026, 10, 1), date(2026, 10, 3)):
        state = order.state_at(UNTIL)
        record = records[f"gid://shopify/Order/{order.order_id}"]
        assert Decimal(record["subtotal"]) == order.subtotal
        assert Decimal(record["total_discounts"]) == order.discounts
        assert Decimal(record["refunded_subtotal"]) == state.refunded_subtotal
        assert record["currency"] == "USD"
        assert record["payload"]["id"] == record["order_id"]
        assert (record["cancelled_at"] is None) == (state.cancelled_at is None)


def test_malformed_page_names_channel_stream_and_page(simulator):
    simulator.set_clock(UNTIL)
    simulator.add_fault("shopify_us", "malformed_page", page=2)
    with pytest.raises(ExtractError) as error:
        list(client(simulator).iter_pages("orders", SINCE, UNTIL))
    message = str(error.value)
    assert "channel 'shopify_us'" in message and "stream 'orders'" in message
    assert "page 2" in message and "malformed page" in message


def test_server_errors_are_retried_then_reported(simulator):
    simulator.set_clock(UNTIL)
    simulator.add_fault("shopify_us", "server_error", page=1)
    with pytest.raises(ExtractError, match=r"page 1: gave up after 3 attempts: HTTP 502"):
        list(client(simulator, max_attempts=3, max_backoff=0.01).iter_pages("orders", SINCE, UNTIL))


def test_wrong_credentials_fail_without_retry(simulator):
    with pytest.raises(ExtractError, match="HTTP 401"):
        list(client(simulator, token="").iter_pages("orders", SINCE, UNTIL))


def test_line_items_and_refunds_beyond_the_first_page_are_read_per_order(simulator):
    # two weeks in: orders updated then include refunds of earlier orders
    since, until = SINCE + timedelta(days=14), UNTIL + timedelta(days=14)
    simulator.set_clock(until)
    nested = {"line_page": 1, "refund_page": 1, "refund_line_page": 1}

    def orders(**kwargs):
        pages = client(simulator, **kwargs).iter_pages("orders", since, until)
        records = {r["order_id"]: r for p in pages for r in p.records}
        for record in records.values():  # the cursor of the last line page read differs
            record["payload"]["lineItems"].pop("pageInfo")
        return records

    whole, paged = orders(), orders(**nested)
    assert sum(int(r["line_items_count"]) > 1 for r in whole.values()) > 10
    assert sum(bool(r["payload"]["refunds"]) for r in whole.values()) > 0
    assert paged == whole

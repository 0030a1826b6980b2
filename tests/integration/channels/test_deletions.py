"""Records deleted at the source: a batch that lists a group whole (an order's refunds, a
store's day in its file) marks the group's records it no longer holds `deleted_at` in raw
(their last version in history), and a record sent again comes back (real PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from psycopg import sql

from omnichannel import warehouse
from omnichannel.channels.woocommerce import REFUNDS
from omnichannel.load import ledger, publish, schema
from omnichannel.load.copy import land_page
from omnichannel.streams import Page

DAY = datetime(2026, 10, 1, tzinfo=UTC)


def refund(order: int, refund_id: int, hour: int, amount: str = "10.00") -> dict:
    stamp = (DAY + timedelta(hours=hour)).strftime("%Y-%m-%dT%H:%M:%S")
    values = {
        "refund_id": str(refund_id), "refund_line_id": "1", "order_id": str(order),
        "order_modified_gmt": stamp, "date_created_gmt": stamp, "sku": "SKU-1",
        "product_id": "7", "quantity": "-1", "subtotal": f"-{amount}", "total_tax": "0.00",
        "amount": amount,
    }  # fmt: skip
    return {**values, "payload": dict(values)}


@pytest.fixture
def conn():
    with warehouse.connect(autocommit=True) as conn:
        schema.ensure_base(conn)
        for table in (REFUNDS.table, f"{REFUNDS.table}_history"):
            conn.execute(sql.SQL("drop table if exists raw.{}").format(sql.Identifier(table)))
        conn.execute("delete from ops.watermarks where channel_id = 'woo_test'")
        schema.ensure_stream_tables(conn, REFUNDS)
        yield conn


def load(conn, records: list[dict], covers: tuple) -> ledger.Batch:
    interval = (DAY, DAY + timedelta(days=1))
    batch_id = ledger.begin_batch(
        conn, "woo_test", "refunds", *interval, *interval, None, REFUNDS.table
    )
    rows = land_page(conn, REFUNDS, batch_id, "woo_test", Page(1, records, None, covers=covers))
    ledger.set_status(conn, batch_id, "gated", pages=1, rows_received=rows)
    return publish.publish(conn, REFUNDS, batch_id)


def raw(conn) -> dict:
    return {
        (refund_id, order_id): deleted is not None
        for refund_id, order_id, deleted in conn.execute(
            "select refund_id, order_id, deleted_at from raw.woocommerce__refunds"
        )
    }


def test_a_refund_deleted_in_the_shop_is_marked_deleted_and_one_sent_again_returns(conn):
    load(conn, [refund(1, 10, 1), refund(1, 11, 1), refund(2, 20, 1)], (("1",), ("2",)))
    # order 1 read again (its refund 11 deleted in the shop); order 2 not in this batch
    second = load(conn, [refund(1, 10, 5)], (("1",),))
    assert second.rows_deleted == 1 and second.rows_published == 1
    assert raw(conn) == {(10, 1): False, (11, 1): True, (20, 2): False}
    # the deleted refund's last version is in history; the rest of its order is published
    # again (incremental models rebuild the order) without a copy in history
    history = conn.execute(
        "select refund_id, deleted_at is null from raw.woocommerce__refunds_history order by 1"
    ).fetchall()
    assert history == [(10, True), (11, True)]  # 10: replaced by hour 5; 11: as deleted
    [(republished,)] = conn.execute(
        "select count(*) from raw.woocommerce__refunds where order_id = 1 "
        "and published_at = (select max(published_at) from raw.woocommerce__refunds)"
    ).fetchall()
    assert republished == 2
    # an order whose every refund is gone: all of them marked
    third = load(conn, [], (("2",),))
    assert third.rows_deleted == 1 and raw(conn)[(20, 2)] is True
    # the refund comes back (a restore in the shop): live again
    fourth = load(conn, [refund(1, 10, 5), refund(1, 11, 6)], (("1",),))
    assert fourth.rows_deleted == 0 and raw(conn)[(11, 1)] is False


def test_without_covers_nothing_is_deleted(conn):
    load(conn, [refund(1, 10, 1), refund(1, 11, 1)], (("1",),))
    batch = load(conn, [refund(1, 10, 5)], ())  # a page that does not list order 1 whole
    assert batch.rows_deleted == 0 and raw(conn) == {(10, 1): False, (11, 1): False}


@pytest.mark.integration
def test_a_refund_deleted_in_the_shop_is_marked_deleted_end_to_end(
    clean_warehouse, simulator, channels, world
):
    """Through the simulator and the WooCommerce connector: the shop deletes a refund the
    pipeline has loaded; the next daily run reads its order again without it and marks it
    deleted in raw (its last version in history). (The world's side, truth included:
    test_simulator_faults; the marts' side of a deletion: test_marts.)"""
    from datetime import date

    from omnichannel.kinds import extracted_streams
    from omnichannel.pipeline import local_day_interval, run_interval
    from tests.helpers.pipeline import credentials

    woo = channels.get("woo_uk")
    day = date(2026, 10, 13)  # the seed's first WooCommerce refund

    def run(on: date) -> dict:
        interval = local_day_interval(woo, on)
        simulator.set_clock(interval.end)
        creds = credentials(simulator, woo)
        return {s: run_interval(woo, s, interval, creds) for s in extracted_streams(woo)}

    with warehouse.connect(autocommit=True) as conn:  # no transaction left open across runs
        run(day - timedelta(days=1))
        assert run(day)["refunds"].status == "published"
        live = conn.execute(
            "select refund_id from raw.woocommerce__refunds where deleted_at is null"
        ).fetchall()
        assert live
        simulator.add_fault("woo_uk", "deleted_refund", day=str(day), hours=24)
        batches = run(day + timedelta(days=1))
        assert batches["refunds"].rows_deleted >= 1
        deleted = conn.execute(
            "select refund_id from raw.woocommerce__refunds where deleted_at is not null"
        ).fetchall()
        assert set(deleted) <= set(live) and deleted
        (in_history,) = conn.execute(
            "select count(*) from raw.woocommerce__refunds_history where refund_id = any(%s)",
            ([r for (r,) in deleted],),
        ).fetchone()
        assert in_history >= 1

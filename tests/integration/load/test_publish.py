"""The keyed merge from landing into raw, on hand-made pages: which version wins, what goes
to history, and what the ledger says (real PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from psycopg import sql

from omnichannel import warehouse
from omnichannel.load import ledger, publish, schema
from omnichannel.load.copy import land_page
from omnichannel.streams import Column, Page, StreamSpec

SPEC = StreamSpec(
    channel_kind="unit",
    stream="orders",
    columns=(
        Column("order_id", "text", "id", nullable=False),
        Column("updated_at", "timestamptz", "cursor", nullable=False),
        Column("total", "numeric(12,2)", "money"),
    ),
    key=("order_id",),
    cursor="updated_at",
)
DAY = datetime(2026, 10, 1, tzinfo=UTC)


def record(order_id: str, hour: int, total: str, note: str = "") -> dict:
    stamp = (DAY + timedelta(hours=hour)).strftime("%Y-%m-%dT%H:%M:%SZ")
    payload = {"id": order_id, "updated_at": stamp, "total": total, "note": note}
    return {"order_id": order_id, "updated_at": stamp, "total": total, "payload": payload}


@pytest.fixture
def conn():
    with warehouse.connect(autocommit=True) as conn:
        for table in (SPEC.table, f"{SPEC.table}_history"):
            conn.execute(sql.SQL("drop table if exists raw.{}").format(sql.Identifier(table)))
        conn.execute(sql.SQL("drop table if exists landing.{}").format(sql.Identifier(SPEC.table)))
        schema.ensure_base(conn)
        conn.execute("delete from ops.watermarks where channel_id = 'unit_1'")
        schema.ensure_stream_tables(conn, SPEC)
        yield conn


def load(conn, *pages: list[dict]) -> ledger.Batch:
    interval = (DAY, DAY + timedelta(days=1))
    batch_id = ledger.begin_batch(conn, "unit_1", "orders", *interval, *interval, None, SPEC.table)
    rows = sum(
        land_page(conn, SPEC, batch_id, "unit_1", Page(n, records, None))
        for n, records in enumerate(pages, start=1)
    )
    ledger.set_status(conn, batch_id, "gated", pages=len(pages), rows_received=rows)
    return publish.publish(conn, SPEC, batch_id)


def raw(conn) -> dict:
    rows = conn.execute(
        "select order_id, total::text, payload->>'note', batch_id from raw.unit__orders"
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


def history(conn) -> list[tuple]:
    return conn.execute(
        "select order_id, updated_at, total::text, payload->>'note' from raw.unit__orders_history"
        " order by order_id, updated_at, payload->>'note'"
    ).fetchall()


def landing_partitions(conn) -> int:
    return conn.execute(
        "select count(*) from pg_inherits where inhparent = 'landing.unit__orders'::regclass"
    ).fetchone()[0]


def test_a_first_load_writes_each_record_once_and_drops_its_landing_partition(conn):
    batch = load(conn, [record("A", 1, "10.00"), record("B", 2, "20.00")])
    assert (batch.status, batch.rows_received, batch.rows_published) == ("published", 2, 2)
    assert batch.rows_duplicate == 0
    assert raw(conn) == {"A": ("10.00", "", batch.batch_id), "B": ("20.00", "", batch.batch_id)}
    assert history(conn) == []
    assert landing_partitions(conn) == 0
    # into an empty table the key index is built after the insert: it must be back
    assert conn.execute(
        "select pg_get_constraintdef(oid) from pg_constraint "
        "where conrelid = 'raw.unit__orders'::regclass and contype = 'p'"
    ).fetchone() == ("PRIMARY KEY (channel_id, order_id)",)
    watermark = ledger.get_watermark(conn, "unit_1", "orders")
    assert watermark == DAY + timedelta(days=1)


def test_duplicates_across_pages_collapse_and_older_versions_go_to_history(conn):
    batch = load(
        conn,
        [record("A", 1, "10.00", "first copy"), record("B", 1, "5.00")],
        # the same version again on the next page (the last received wins), and a later one
        [record("A", 1, "10.00", "second copy"), record("B", 3, "7.00")],
    )
    # every row received is published (to raw, to history, or onto the version it copies)
    assert (batch.rows_received, batch.rows_published, batch.rows_duplicate) == (4, 4, 1)
    assert raw(conn) == {
        "A": ("10.00", "second copy", batch.batch_id),
        "B": ("7.00", "", batch.batch_id),
    }
    assert history(conn) == [("B", DAY + timedelta(hours=1), "5.00", "")]


def test_a_later_version_replaces_the_published_one_which_moves_to_history(conn):
    first = load(conn, [record("A", 1, "10.00"), record("B", 1, "5.00")])
    second = load(conn, [record("A", 5, "8.00", "refund"), record("B", 1, "5.00")])
    assert raw(conn) == {
        "A": ("8.00", "refund", second.batch_id),
        "B": ("5.00", "", first.batch_id),  # the same version again changes nothing
    }
    assert history(conn) == [("A", DAY + timedelta(hours=1), "10.00", "")]


def test_rerunning_the_same_records_is_a_no_op(conn):
    load(conn, [record("A", 1, "10.00"), record("B", 2, "20.00")])
    before = conn.execute("select json_agg(r order by order_id) from raw.unit__orders r")
    before = json.dumps(before.fetchone()[0])
    load(conn, [record("A", 1, "10.00"), record("B", 2, "20.00")])
    after = conn.execute("select json_agg(r order by order_id) from raw.unit__orders r")
    assert json.dumps(after.fetchone()[0]) == before
    assert history(conn) == []


def test_an_older_version_than_the_published_one_is_kept_in_history_only(conn):
    load(conn, [record("A", 5, "8.00", "current")])
    load(conn, [record("A", 2, "10.00", "stale")])
    assert raw(conn)["A"][:2] == ("8.00", "current")
    assert history(conn) == [("A", DAY + timedelta(hours=2), "10.00", "stale")]


def test_same_cursor_with_other_content_is_a_revision(conn):
    load(conn, [record("A", 1, "10.00", "as first reported")])
    load(conn, [record("A", 1, "10.50", "revised")])
    assert raw(conn)["A"][:2] == ("10.50", "revised")
    assert history(conn) == [("A", DAY + timedelta(hours=1), "10.00", "as first reported")]


def test_a_batch_mixing_new_records_published_ones_and_duplicates(conn):
    load(conn, [record("A", 1, "10.00"), record("B", 1, "5.00")])
    batch = load(
        conn,
        [record("A", 4, "9.00"), record("C", 1, "1.00")],
        [record("A", 6, "8.00"), record("C", 1, "1.00"), record("D", 1, "2.00")],
    )
    assert (batch.rows_received, batch.rows_published, batch.rows_duplicate) == (5, 5, 1)
    assert {k: v[0] for k, v in raw(conn).items()} == {
        "A": "8.00",
        "B": "5.00",
        "C": "1.00",
        "D": "2.00",
    }
    assert [(h[0], h[2]) for h in history(conn)] == [("A", "10.00"), ("A", "9.00")]

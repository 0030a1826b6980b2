"""Quarantine: rows the gate rejected, held batches, and pages that could not be read,
each kept with the reason (quarantine.records), so that nothing received is lost."""

from __future__ import annotations

import json

import psycopg
from psycopg import sql

from omnichannel.load import ledger, schema
from omnichannel.streams import StreamSpec

MAX_BODY = 5_000_000  # characters of an unreadable page kept


def _record_key(spec: StreamSpec) -> sql.Composable:
    return sql.SQL(" || '|' || ").join(
        sql.SQL("coalesce(l.{}, '')").format(sql.Identifier(k)) for k in spec.key
    )


def _stage_bad_rows(conn: psycopg.Connection, bad_rows: dict) -> None:
    """bad_rows: (page_no, record_no) → that row's failures, into a temp table."""
    conn.execute(
        "create temp table bad_rows (page_no integer, record_no integer, reasons jsonb, "
        "primary key (page_no, record_no)) on commit drop"
    )
    with conn.cursor() as cur, cur.copy("copy bad_rows from stdin") as copy:
        for (page_no, record_no), reasons in bad_rows.items():
            copy.write_row((page_no, record_no, json.dumps(reasons, default=str)))


def _to_quarantine(
    conn: psycopg.Connection, spec: StreamSpec, batch_id: int, reasons: list[dict], every_row: bool
) -> int:
    """Copy rows of the batch's landing partition to quarantine.records, with the row's own
    failures (from bad_rows) after the batch-level `reasons`; every row, or the bad ones."""
    return conn.execute(
        sql.SQL("""
        insert into quarantine.records (batch_id, channel_id, stream, record_key, page_no,
                                        record_no, reasons, record, payload)
        select l.batch_id, l.channel_id, %(stream)s, {key}, l.page_no, l.record_no,
               %(reasons)s::jsonb || coalesce(b.reasons, '[]'::jsonb),
               to_jsonb(l) - 'payload' - 'batch_id' - 'channel_id' - 'page_no' - 'record_no',
               l.payload
        from {source} as l {join} bad_rows as b using (page_no, record_no)""").format(
            key=_record_key(spec),
            source=schema.landing_partition(spec.table, batch_id),
            join=sql.SQL("left join" if every_row else "join"),
        ),
        {"stream": spec.stream, "reasons": json.dumps(reasons, default=str)},
    ).rowcount


def quarantine_rows(
    conn: psycopg.Connection, spec: StreamSpec, batch_id: int, bad_rows: dict
) -> int:
    """Move the rows the gate flagged out of the batch into quarantine; the rest of the
    batch stays landed and publishes."""
    with conn.transaction():
        _stage_bad_rows(conn, bad_rows)
        moved = _to_quarantine(conn, spec, batch_id, [], every_row=False)
        conn.execute(
            sql.SQL("delete from {} as l using bad_rows as b "
                    "where (l.page_no, l.record_no) = (b.page_no, b.record_no)").format(
                schema.landing_partition(spec.table, batch_id)
            )
        )  # fmt: skip
        ledger.set_status(conn, batch_id, "gated", rows_quarantined=moved)
    return moved


def hold(
    conn: psycopg.Connection,
    spec: StreamSpec,
    batch_id: int,
    reasons: list[dict],
    bad_rows: dict | None = None,
) -> None:
    """Keep every row of a failed batch in quarantine: the batch's failures, then the
    row's own."""
    with conn.transaction():
        batch = ledger.get_batch(conn, batch_id)
        _stage_bad_rows(conn, bad_rows or {})
        _to_quarantine(conn, spec, batch_id, reasons, every_row=True)
        ledger.set_status(
            conn,
            batch_id,
            "held",
            rows_published=0,
            rows_quarantined=batch.rows_received,
            error="; ".join(r["expectation"] for r in reasons)[:2000],
        )
        schema.drop_landing_partitions(conn, spec.table, [batch_id])


def keep_page(
    conn: psycopg.Connection,
    channel_id: str,
    stream: str,
    batch_id: int,
    page: int | None,
    reason: str,
    received: bytes | str,
) -> None:
    """An API page or file that could not be read (cut off, not JSON, wrong columns): its
    body as received, with the reason; the batch fails and a re-run reads it again."""
    body = received.decode("utf-8", "replace") if isinstance(received, bytes) else received
    conn.execute(
        """insert into quarantine.records (batch_id, channel_id, stream, record_key, page_no,
               reasons, payload)
           values (%s, %s, %s, %s, %s, %s, %s)""",
        (
            batch_id,
            channel_id,
            stream,
            f"page {page}",
            page,
            json.dumps([{"expectation": "page_is_readable", "column": None,
                         "severity": "batch", "observed": reason}]),
            json.dumps({"body": body[:MAX_BODY], "bytes": len(received)}),
        ),
    )  # fmt: skip

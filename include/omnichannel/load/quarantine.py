"""Quarantine: rows the gate rejected, held batches, and pages that could not be read,
each kept with the reason (quarantine.records), so that nothing received is lost."""

from __future__ import annotations

import base64
import hashlib
import json

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from omnichannel.load import ledger, schema
from omnichannel.streams import StreamSpec, Unreadable

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
        return _move_bad_rows(conn, spec, batch_id)


def _move_bad_rows(conn: psycopg.Connection, spec: StreamSpec, batch_id: int) -> int:
    """The staged bad rows: from the landing partition to quarantine (in the caller's
    transaction); the batch stays gated with the rest."""
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
    status: str = "held",
) -> None:
    """Keep every row of a failed batch in quarantine: the batch's failures, then the
    row's own. `status`: 'held', or 'skipped' for rows that are not wrong but must not
    publish (a snapshot read too late to stand for its interval)."""
    with conn.transaction():
        batch = ledger.get_batch(conn, batch_id)
        _stage_bad_rows(conn, bad_rows or {})
        _to_quarantine(conn, spec, batch_id, reasons, every_row=True)
        ledger.set_status(
            conn,
            batch_id,
            status,
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


def keep_file(
    conn: psycopg.Connection,
    channel_id: str,
    stream: str,
    batch_id: int,
    page: int,
    unreadable: Unreadable,
) -> int | None:
    """A file that could not be read, kept whole (its bytes, base64) with the reason; the
    rest of the batch goes on. A file already kept with the same content and not yet
    released is not kept twice (a later window's lookback reads it again): returns the
    batch that holds it then, else None."""
    content = unreadable.content
    digest = hashlib.sha256(content).hexdigest() if content is not None else None
    if digest is not None:
        held = conn.execute(
            """select batch_id from quarantine.records
               where channel_id = %s and stream = %s and record is null
                 and payload->>'sha256' = %s and released_at is null limit 1""",
            (channel_id, stream, digest),
        ).fetchone()
        if held:
            return held[0]
    payload = {
        "file": unreadable.name,
        "bytes": unreadable.size,
        "sha256": digest,
        "base64": base64.b64encode(content).decode() if content is not None else None,
    }
    reason = {
        "expectation": "file_is_readable",
        "column": None,
        "severity": "file",
        "observed": unreadable.reason,
    }
    conn.execute(
        """insert into quarantine.records (batch_id, channel_id, stream, record_key, page_no,
               reasons, payload)
           values (%s, %s, %s, %s, %s, %s, %s)""",
        (batch_id, channel_id, stream, f"file {unreadable.name}", page,
         json.dumps([reason]), json.dumps(payload)),
    )  # fmt: skip
    return None


def open_files(conn: psycopg.Connection, batch_id: int) -> list[dict]:
    """The files a batch kept whole and no replay has released: page, name, bytes."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """select page_no, payload->>'file' as file, payload->>'base64' as base64
               from quarantine.records
               where batch_id = %s and record is null and payload ? 'sha256'
                 and released_at is null order by page_no""",
            (batch_id,),
        ).fetchall()


def release_file(conn: psycopg.Connection, original: int, page_no: int, replay: int, by: str):
    conn.execute(
        """update quarantine.records set released_at = now(), released_to = %s, released_by = %s
           where batch_id = %s and page_no = %s and record is null and released_at is null""",
        (replay, by, original, page_no),
    )


# -- review and replay -----------------------------------------------------------------------


def list_batches(conn: psycopg.Connection, channel_id: str | None = None) -> list[dict]:
    """Batches with quarantined rows, newest first: rows still open and the reasons."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """select q.batch_id, q.channel_id, q.stream, b.status, b.interval_start,
                      b.rows_received, count(*) filter (where q.released_at is null) as open,
                      count(*) filter (where q.released_at is not null) as released,
                      (select string_agg(distinct r->>'expectation' || coalesce(
                                  '(' || (r->>'column') || ')', ''), ', ')
                       from quarantine.records as q2, jsonb_array_elements(q2.reasons) as r
                       where q2.batch_id = q.batch_id) as reasons
               from quarantine.records as q join ops.load_batches as b using (batch_id)
               where %(channel)s::text is null or q.channel_id = %(channel)s
               group by q.batch_id, q.channel_id, q.stream, b.status, b.interval_start,
                        b.rows_received
               order by q.batch_id desc""",
            {"channel": channel_id},
        ).fetchall()


def show_batch(conn: psycopg.Connection, batch_id: int, limit: int = 50) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            """select record_key, page_no, record_no, reasons, record, released_at,
                      released_to, released_by
               from quarantine.records where batch_id = %s
               order by page_no nulls first, record_no limit %s""",
            (batch_id, limit),
        ).fetchall()
    if (
        not rows
        and not conn.execute(
            "select 1 from ops.load_batches where batch_id = %s", (batch_id,)
        ).fetchone()
    ):
        raise LookupError(f"batch {batch_id} is not in ops.load_batches")
    return rows


def land_replay(conn: psycopg.Connection, spec: StreamSpec, original: int, pages=()) -> int:
    """Open a replay batch for the open quarantined rows of `original` and land them in its
    partition, as they were received, with the `pages` of its files that read now.
    Returns the replay's batch id."""
    from omnichannel.load.copy import land_page

    with conn.transaction():
        replay = ledger.begin_replay(conn, original)
        schema.create_landing_partition(conn, spec.table, replay)
        from_files = sum(
            land_page(conn, spec, replay, ledger.get_batch(conn, original).channel_id, page)
            for page in pages
        )
        columns = [sql.Identifier(c) for c in spec.column_names]
        landed = (
            conn.execute(
                sql.SQL("""
            insert into {target} (batch_id, channel_id, page_no, record_no, {cols}, payload)
            select %(replay)s, channel_id, page_no, record_no, {values}, payload
            from quarantine.records
            where batch_id = %(original)s and released_at is null and record is not null
            """).format(
                    target=schema.landing_partition(spec.table, replay),
                    cols=sql.SQL(", ").join(columns),
                    values=sql.SQL(", ").join(
                        sql.SQL("record->>{}").format(sql.Literal(c)) for c in spec.column_names
                    ),
                ),
                {"replay": replay, "original": original},
            ).rowcount
            + from_files
        )
        if not landed:
            raise LookupError(f"batch {original} has no quarantined rows left to replay")
        ledger.set_status(conn, replay, "landed", pages=0, rows_received=landed)
    return replay


def unpublishable(conn: psycopg.Connection, spec: StreamSpec, batch_id: int, by: str) -> int:
    """Accepted rows raw cannot hold (a value that does not cast to its column's type, a
    missing required value) go back to quarantine: accepting a row cannot make "12,50" a
    number. Returns how many."""
    checks = []
    for column in spec.columns:
        name = sql.Identifier("l", column.name)
        if column.sql_type != "text":
            checks.append(
                sql.SQL("not pg_input_is_valid({n}, {t})").format(
                    n=name, t=sql.Literal(column.sql_type)
                )
            )
        if column.sql_type.startswith("numeric"):  # 'NaN' casts: accepting it is no fix
            checks.append(
                sql.SQL("lower(btrim({})) like any(array['%%nan', '%%inf%%'])").format(name)
            )
        if not column.nullable:
            checks.append(sql.SQL("{} is null").format(name))
    reason = [
        {
            "expectation": "value_fits_its_raw_column",
            "column": None,
            "observed": f"accepted by {by}, but a value does not fit its raw column "
            "(or is NaN or infinite)",
        }
    ]
    with conn.transaction():
        conn.execute(
            sql.SQL("""
            create temp table bad_rows on commit drop as
            select page_no, record_no, %(reason)s::jsonb as reasons from {partition} as l
            where {checks}""").format(
                partition=schema.landing_partition(spec.table, batch_id),
                checks=sql.SQL(" or ").join(checks) if checks else sql.SQL("false"),
            ),
            {"reason": json.dumps(reason)},
        )
        if not conn.execute("select exists (select from bad_rows)").fetchone()[0]:
            return 0
        return _move_bad_rows(conn, spec, batch_id)


def release(conn: psycopg.Connection, original: int, replay: int, by: str) -> int:
    """Mark the rows a replay published as released (rows its own gate quarantined again
    stay open under the replay's batch)."""
    return conn.execute(
        """update quarantine.records set released_at = now(), released_to = %s, released_by = %s
           where batch_id = %s and released_at is null and record is not null""",
        (replay, by, original),
    ).rowcount

"""The batch ledger (ops.load_batches) and watermarks (ops.watermarks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

from omnichannel.load import schema


@dataclass(frozen=True)
class Batch:
    batch_id: int
    channel_id: str
    stream: str
    interval_start: datetime
    interval_end: datetime
    cursor_from: datetime
    cursor_to: datetime
    status: str
    pages: int
    rows_received: int
    rows_published: int | None
    rows_duplicate: int | None
    rows_quarantined: int | None
    error: str | None
    replay_of: int | None = None  # the batch whose quarantined rows this one re-publishes
    pages_quarantined: int = 0  # files or pages kept whole in quarantine (unreadable)
    rows_deleted: int = 0  # raw records this batch found deleted at the source


BATCH_COLUMNS = ", ".join(Batch.__dataclass_fields__)


def get_watermark(conn: psycopg.Connection, channel_id: str, stream: str) -> datetime | None:
    row = conn.execute(
        "select watermark from ops.watermarks where channel_id = %s and stream = %s",
        (channel_id, stream),
    ).fetchone()
    return row[0] if row else None


def begin_batch(
    conn,
    channel_id: str,
    stream: str,
    interval_start: datetime,
    interval_end: datetime,
    cursor_from: datetime,
    cursor_to: datetime,
    run_id: str | None,
    landing_table: str,
) -> int:
    """Open a batch and its landing partition; earlier unpublished batches of the same
    interval are superseded (their landed rows dropped: the new batch re-extracts them)."""
    with conn.transaction():
        stale = conn.execute(
            """update ops.load_batches set status = 'superseded', finished_at = now()
               where channel_id = %s and stream = %s and interval_start = %s
                 and status in ('extracting', 'landed', 'gated', 'failed')
               returning batch_id""",
            (channel_id, stream, interval_start),
        ).fetchall()
        schema.drop_landing_partitions(conn, landing_table, [r[0] for r in stale])
        row = conn.execute(
            """insert into ops.load_batches (channel_id, stream, interval_start, interval_end,
                   cursor_from, cursor_to, status, run_id)
               values (%s, %s, %s, %s, %s, %s, 'extracting', %s) returning batch_id""",
            (channel_id, stream, interval_start, interval_end, cursor_from, cursor_to, run_id),
        ).fetchone()
        schema.create_landing_partition(conn, landing_table, row[0])
    return row[0]


def begin_replay(conn, original: int) -> int:
    """A batch that re-publishes the quarantined rows of `original`: same interval and
    window. Unlike begin_batch it supersedes nothing (an extraction of that interval may
    be running)."""
    row = conn.execute(
        """insert into ops.load_batches (channel_id, stream, interval_start, interval_end,
               cursor_from, cursor_to, status, run_id, replay_of)
           select channel_id, stream, interval_start, interval_end, cursor_from, cursor_to,
                  'extracting', 'replay of batch ' || batch_id, batch_id
           from ops.load_batches where batch_id = %s
           returning batch_id""",
        (original,),
    ).fetchone()
    if row is None:
        raise LookupError(f"batch {original} is not in ops.load_batches")
    return row[0]


def get_batch(conn: psycopg.Connection, batch_id: int) -> Batch:
    with conn.cursor(row_factory=class_row(Batch)) as cur:
        batch = cur.execute(
            f"select {BATCH_COLUMNS} from ops.load_batches where batch_id = %s", (batch_id,)
        ).fetchone()
    if batch is None:
        raise LookupError(f"batch {batch_id} is not in ops.load_batches")
    return batch


def statuses(conn: psycopg.Connection, batch_ids: list[int]) -> dict[int, str]:
    rows = conn.execute(
        "select batch_id, status from ops.load_batches where batch_id = any(%s)", (batch_ids,)
    ).fetchall()
    return dict(rows)


# landed in an earlier try of its task, not published yet: a retry need not read it again
# (a published interval is read again when its task is cleared: that is how one re-reads)
RESUMABLE = ("landed", "gated")


def batches_of_run(
    conn: psycopg.Connection, channel_id: str, stream: str, run_id: str
) -> dict[datetime, int]:
    """The latest unpublished batch per interval start that a run's earlier tries landed."""
    rows = conn.execute(
        """select distinct on (interval_start) interval_start, batch_id
           from ops.load_batches
           where channel_id = %s and stream = %s and run_id = %s and status = any(%s)
             and replay_of is null
           order by interval_start, batch_id desc""",
        (channel_id, stream, run_id, list(RESUMABLE)),
    ).fetchall()
    return dict(rows)


def set_status(conn, batch_id: int, status: str, error: str | None = None, **counts) -> None:
    assignments = ["status = %s", "error = coalesce(%s, error)", "heartbeat_at = now()"]
    values: list = [status, error]
    for column, value in counts.items():
        assignments.append(f"{column} = %s")
        values.append(value)
    if status == "landed":
        assignments.append("landed_at = now()")
    if status in ("published", "held", "failed", "superseded", "skipped"):
        assignments.append("finished_at = now()")
    conn.execute(
        f"update ops.load_batches set {', '.join(assignments)} where batch_id = %s",
        (*values, batch_id),
    )


def advance_watermark(conn, batch: Batch) -> None:
    """Only ever forwards; called in the publishing transaction."""
    conn.execute(
        """insert into ops.watermarks (channel_id, stream, watermark, batch_id)
           values (%s, %s, %s, %s)
           on conflict (channel_id, stream) do update
             set watermark = excluded.watermark, batch_id = excluded.batch_id, updated_at = now()
             where ops.watermarks.watermark < excluded.watermark""",
        (batch.channel_id, batch.stream, batch.cursor_to, batch.batch_id),
    )


# A batch's task updates its heartbeat with every page; one this old was left behind by a
# crash or a killed worker (no task retry is coming for it).
STALE_AFTER_HOURS = 6.0
UNFINISHED = ("extracting", "landed", "gated")


def sweep_stale(
    conn,
    stale_after_hours: float = STALE_AFTER_HOURS,
    channel_id: str | None = None,
    stream: str | None = None,
) -> list[int]:
    """Fail the unfinished batches nobody will finish and drop their landing partitions.

    Their watermark never moved, so the stream's next run reads their window again (a
    snapshot stream's past day cannot be read again: see docs/operations.md). Returns the
    swept batch ids."""
    with conn.transaction():
        swept = conn.execute(
            """update ops.load_batches
               set status = 'failed', finished_at = now(), heartbeat_at = now(),
                   error = coalesce(error || '; ', '') || 'stale: unfinished (' || status
                           || ') and untouched for over ' || %(hours)s::text
                           || ' h; swept, the next run reads its window again'
               where status = any(%(unfinished)s)
                 and coalesce(heartbeat_at, started_at) < now() - make_interval(secs => %(secs)s)
                 and (%(channel)s::text is null or channel_id = %(channel)s)
                 and (%(stream)s::text is null or stream = %(stream)s)
               returning batch_id""",
            {
                "hours": stale_after_hours,
                "secs": stale_after_hours * 3600,
                "unfinished": list(UNFINISHED),
                "channel": channel_id,
                "stream": stream,
            },
        ).fetchall()
        ids = [r[0] for r in swept]
        for batch_id in ids:
            suffix = f"__b{batch_id}"
            for (table,) in conn.execute(
                "select c.relname from pg_class as c join pg_namespace as n on n.oid = "
                "c.relnamespace where n.nspname = 'landing' and right(c.relname, %s) = %s",
                (len(suffix), suffix),
            ).fetchall():
                schema.drop_landing_partitions(conn, table.removesuffix(suffix), [batch_id])
    return ids


def every_batch_balances(conn: psycopg.Connection | None = None) -> bool:
    """Every finished batch: rows received = rows published + rows quarantined."""
    if conn is None:
        from omnichannel import warehouse

        with warehouse.connect() as own:
            return every_batch_balances(own)
    [(unbalanced,)] = conn.execute(
        """select count(*) from ops.load_batches
           where status in ('published', 'held', 'skipped')
           and rows_received <> rows_published + coalesce(rows_quarantined, 0)"""
    ).fetchall()
    return unbalanced == 0

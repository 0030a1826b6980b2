"""Publish a gated batch into raw (keyed merge, latest version wins) or hold it in quarantine.

A version replaces the published one when its cursor is later, or when the cursor is the
same and the content differs (a report day re-read after the source revised it); the same
content again changes nothing, so re-running an interval is a no-op."""

from __future__ import annotations

import json

import psycopg
from psycopg import sql

from omnichannel.load import ledger
from omnichannel.streams import StreamSpec


def _typed_select(spec: StreamSpec, alias: str) -> sql.Composable:
    casts = [
        sql.SQL("{a}.{c}::{t} as {c}").format(
            a=sql.Identifier(alias), c=sql.Identifier(c.name), t=sql.SQL(c.sql_type)
        )
        for c in spec.columns
    ]
    return sql.SQL(", ").join(casts)


def publish(conn: psycopg.Connection, spec: StreamSpec, batch_id: int) -> ledger.Batch:
    """Merge the batch into raw and advance the watermark, all in one transaction."""
    table = sql.Identifier(spec.table)
    history = sql.Identifier(f"{spec.table}_history")
    names = ("channel_id", *spec.column_names, "payload", "batch_id", "published_at")
    cols = sql.SQL(", ").join(sql.Identifier(n) for n in names)
    key = sql.SQL(", ").join(sql.Identifier(k) for k in ("channel_id", *spec.key))
    cursor = sql.Identifier(spec.cursor)
    # one row per natural key and version; duplicates across pages collapse here (the last
    # one received wins)
    versions = sql.SQL("""
        select distinct on ({key}, {cursor}) l.channel_id, {typed}, l.payload, l.batch_id,
               now() as published_at
        from landing.{table} as l where l.batch_id = %(batch_id)s
        order by {key}, {cursor}, l.page_no desc, l.record_no desc""")
    with conn.transaction():
        conn.execute("set local work_mem = '256MB'")  # sorts of a large batch stay in memory
        batch = ledger.get_batch(conn, batch_id)
        if batch.status != "gated":
            raise RuntimeError(
                f"batch {batch_id} ({batch.channel_id}/{batch.stream}) is "
                f"{batch.status!r}; only a gated batch can be published"
            )
        conn.execute(
            sql.SQL("create temp table batch_versions on commit drop as ")
            + versions.format(key=key, cursor=cursor, typed=_typed_select(spec, "l"), table=table),
            {"batch_id": batch_id},
        )
        distinct_keys = conn.execute(
            sql.SQL("select count(*) from (select distinct {key} from batch_versions) k").format(
                key=key
            )
        ).fetchone()[0]
        versions_count = conn.execute("select count(*) from batch_versions").fetchone()[0]
        conn.execute(
            sql.SQL("""
            insert into raw.{history} ({cols}) select {cols} from batch_versions
            on conflict do nothing""").format(history=history, cols=cols)
        )
        updates = sql.SQL(", ").join(
            sql.SQL("{c} = excluded.{c}").format(c=sql.Identifier(n))
            for n in names
            if n not in ("channel_id", *spec.key)
        )
        # one version per key is the usual case: no second sort then
        latest = (
            sql.SQL("select {cols} from batch_versions")
            if distinct_keys == versions_count
            else sql.SQL(
                "select distinct on ({key}) {cols} from batch_versions "
                "order by {key}, {cursor} desc"
            )
        ).format(cols=cols, key=key, cursor=cursor)
        conn.execute(
            sql.SQL("""
            insert into raw.{table} ({cols})
            {latest}
            on conflict ({key}) do update set {updates}
            where raw.{table}.{cursor} < excluded.{cursor}
               or (raw.{table}.{cursor} = excluded.{cursor}
                   and raw.{table}.payload is distinct from excluded.payload)""").format(
                table=table, cols=cols, key=key, cursor=cursor, updates=updates, latest=latest
            )
        )
        ledger.set_status(
            conn,
            batch_id,
            "published",
            rows_published=distinct_keys,
            rows_duplicate=batch.rows_received - versions_count,
            rows_quarantined=0,
        )
        ledger.advance_watermark(conn, batch)
    return ledger.get_batch(conn, batch_id)


def hold(conn: psycopg.Connection, spec: StreamSpec, batch_id: int, reasons: list[dict]) -> None:
    """Keep every row of a failed batch in quarantine with the failed expectations."""
    key_expr = sql.SQL(" || '|' || ").join(
        sql.SQL("coalesce({}, '')").format(sql.Identifier(k)) for k in spec.key
    )
    with conn.transaction():
        batch = ledger.get_batch(conn, batch_id)
        conn.execute(
            sql.SQL("""
            insert into quarantine.records (batch_id, channel_id, stream, record_key, reasons,
                                            payload)
            select batch_id, channel_id, %(stream)s, {key_expr}, %(reasons)s::jsonb, payload
            from landing.{table} where batch_id = %(batch_id)s""").format(
                key_expr=key_expr, table=sql.Identifier(spec.table)
            ),
            {"stream": spec.stream, "reasons": json.dumps(reasons), "batch_id": batch_id},
        )
        ledger.set_status(
            conn,
            batch_id,
            "held",
            rows_published=0,
            rows_quarantined=batch.rows_received,
            error="; ".join(r["expectation"] for r in reasons)[:2000],
        )

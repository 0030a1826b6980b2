"""Land pages in landing.<channel>__<stream> with COPY (never row-by-row inserts)."""

from __future__ import annotations

import json

import psycopg
from psycopg import sql

from omnichannel.streams import Page, StreamSpec


def land_page(
    conn: psycopg.Connection, spec: StreamSpec, batch_id: int, channel_id: str, page: Page
) -> int:
    columns = ("batch_id", "channel_id", "page_no", "record_no", *spec.column_names, "payload")
    statement = sql.SQL("copy landing.{} ({}) from stdin").format(
        sql.Identifier(spec.table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    names = spec.column_names
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for number, record in enumerate(page.records, start=1):
            get = record.get
            copy.write_row(
                (
                    batch_id,
                    channel_id,
                    page.number,
                    number,
                    *[get(name) for name in names],
                    dumps(record["payload"]),
                )
            )
    return len(page.records)

"""Schema drift: fields a channel starts sending that it did not send before.

The top-level fields of every payload are remembered per channel instance and stream
(`ops.payload_fields`). The first batch of a stream sets the baseline; afterwards a field
never seen before is recorded in `ops.schema_drift` with an example value and logged as a
warning, so it is surfaced (and kept in the payload), not silently dropped. Missing or
retyped fields fail in the connector or at the quality gate instead.
"""

from __future__ import annotations

import json
import logging

import psycopg

log = logging.getLogger(__name__)


class FieldTracker:
    """Collects the payload fields of a batch while its pages land."""

    def __init__(self):
        self.examples: dict[str, object] = {}

    def add(self, records: list[dict]) -> None:
        fields = getattr(records, "fields", None)
        if fields is not None:  # a streamed page, read once: its fields as it saw them
            for key, value in fields.items():
                self.examples.setdefault(key, value)
            return
        for record in records:
            payload = record.get("payload")
            if isinstance(payload, dict):
                for key, value in payload.items():
                    self.examples.setdefault(key, value)


def record(
    conn: psycopg.Connection, channel_id: str, stream: str, batch_id: int, tracker: FieldTracker
) -> list[str]:
    """Remember this batch's fields; returns (and records) the new ones after the baseline."""
    if not tracker.examples:
        return []
    known = {
        row[0]
        for row in conn.execute(
            "select field from ops.payload_fields where channel_id = %s and stream = %s",
            (channel_id, stream),
        )
    }
    new = sorted(set(tracker.examples) - known)
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            """insert into ops.payload_fields
                 (channel_id, stream, field, first_batch_id, last_batch_id)
               values (%s, %s, %s, %s, %s)
               on conflict (channel_id, stream, field)
               do update set last_batch_id = excluded.last_batch_id""",
            [(channel_id, stream, f, batch_id, batch_id) for f in tracker.examples],
        )
        if known and new:
            cur.executemany(
                """insert into ops.schema_drift
                     (batch_id, channel_id, stream, field, change, example)
                   values (%s, %s, %s, %s, 'new_field', %s)""",
                [
                    (
                        batch_id,
                        channel_id,
                        stream,
                        f,
                        json.dumps(tracker.examples[f], default=str)[:2000],
                    )
                    for f in new
                ],
            )
    if known and new:
        log.warning(
            "schema drift: channel %r, stream %r, batch %s: new field(s) %s (kept in payload)",
            channel_id,
            stream,
            batch_id,
            ", ".join(new),
        )
        return new
    return []

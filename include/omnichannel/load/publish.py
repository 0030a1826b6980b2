"""Publish a gated batch into raw (keyed merge, latest version wins) or hold it in quarantine.

A version replaces the published one when its cursor is later, or when the cursor is the
same and the content differs (a report day re-read after the source revised it); the same
content again changes nothing, so re-running an interval is a no-op. Replaced versions,
older versions inside the batch and versions older than the published one all go to
raw.<table>_history: every record received is kept."""

from __future__ import annotations

import psycopg
from psycopg import errors, sql

from omnichannel.load import ledger, schema
from omnichannel.streams import StreamSpec


def _typed(spec: StreamSpec, name: str) -> sql.Composable:
    return sql.SQL("l.{c}::{t}").format(
        c=sql.Identifier(name), t=sql.SQL(spec.column(name).sql_type)
    )


def _join(parts) -> sql.Composable:
    return sql.SQL(", ").join(parts)


class _Statements:
    """The SQL of one publish, composed once."""

    def __init__(self, spec: StreamSpec, batch_id: int):
        self.spec = spec
        self.source = schema.landing_partition(spec.table, batch_id)
        self.raw = sql.Identifier("raw", spec.table)
        self.history = sql.Identifier("raw", f"{spec.table}_history")
        self.names = ("channel_id", *spec.column_names, "payload", "batch_id", "published_at")
        self.cols = _join(sql.Identifier(n) for n in self.names)
        self.key = _join(sql.Identifier(k) for k in ("channel_id", *spec.key))
        self.cursor = sql.Identifier(spec.cursor)
        typed = [
            sql.SQL("{} as {}").format(_typed(spec, c), sql.Identifier(c))
            for c in spec.column_names
        ]
        self.select = sql.SQL(
            "select l.channel_id, {typed}, l.payload, l.batch_id, now() as published_at "
            "from {source} as l"
        ).format(typed=_join(typed), source=self.source)
        self.updates = _join(
            [
                *(
                    sql.SQL("{c} = excluded.{c}").format(c=sql.Identifier(n))
                    for n in self.names
                    if n not in ("channel_id", *spec.key)
                ),
                sql.SQL("deleted_at = null"),  # a record deleted, then sent again
            ]
        )

    def pick(self) -> sql.Composable:
        """One row per version (the last received wins), flagged when it is the latest."""
        versioned = self.spec.version_key
        aliases = [sql.Identifier(f"v{i}") for i in range(len(versioned))]
        key_aliases = aliases[: len(self.spec.key)]
        cursor_alias = aliases[versioned.index(self.spec.cursor)]
        return sql.SQL("""
            create temp table batch_pick on commit drop as
            select page_no, record_no,
                   row_number() over (partition by {keys} order by {cursor} desc) = 1 as latest
            from (select distinct on ({aliases}) page_no, record_no, {typed}
                  from {source} as l
                  order by {aliases}, page_no desc, record_no desc) as versions""").format(
            keys=_join(key_aliases),
            cursor=cursor_alias,
            aliases=_join(aliases),
            typed=_join(
                sql.SQL("{} as {}").format(_typed(self.spec, c), a)
                for c, a in zip(versioned, aliases, strict=True)
            ),
            source=self.source,
        )

    def picked(self, latest: bool) -> sql.Composable:
        return self.select + sql.SQL(
            " join batch_pick as p using (page_no, record_no) where {}p.latest"
        ).format(sql.SQL("" if latest else "not "))

    def _match(self, alias: str) -> sql.Composable:
        """A row of raw with the same natural key as row `alias`."""
        key = ("channel_id", *self.spec.key)
        return sql.SQL("select from {raw} as r where ({rk}) = ({sk})").format(
            raw=self.raw,
            rk=_join(sql.SQL("r.{}").format(sql.Identifier(k)) for k in key),
            sk=_join(
                sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(k)) for k in key
            ),
        )

    def update_existing(self, rows: sql.Composable) -> sql.Composable:
        """New versions of published records; an upsert rather than UPDATE … FROM because
        it fails when two rows of the batch share a key instead of picking one."""
        return sql.SQL("""
            insert into {raw} ({cols}) select * from ({rows}) as s where exists ({match})
            on conflict ({key}) do update set {updates}
            where {raw}.{cursor} < excluded.{cursor}
               or ({raw}.{cursor} = excluded.{cursor}
                   and ({raw}.payload is distinct from excluded.payload
                        or {raw}.deleted_at is not null))""").format(
            raw=self.raw, cols=self.cols, rows=rows, match=self._match("s"), key=self.key,
            updates=self.updates, cursor=self.cursor,
        )  # fmt: skip

    def insert_new(self, rows: sql.Composable) -> sql.Composable:
        """Records raw has never seen: a plain insert (no speculative insertion)."""
        return sql.SQL(
            "insert into {raw} ({cols}) select * from ({rows}) as s where not exists ({match})"
        ).format(raw=self.raw, cols=self.cols, rows=rows, match=self._match("s"))

    def to_history(self, rows: sql.Composable) -> sql.Composable:
        return sql.SQL("insert into {h} ({cols}) {rows} on conflict do nothing").format(
            h=self.history, cols=self.cols, rows=rows
        )

    def stale(self, rows: sql.Composable) -> sql.Composable:
        """Versions older than the one already published."""
        return sql.SQL(
            "select s.* from ({rows}) as s where exists ({match} and r.{cursor} > s.{cursor})"
        ).format(rows=rows, match=self._match("s"), cursor=self.cursor)


def _is_empty(conn: psycopg.Connection, table: sql.Identifier) -> bool:
    return conn.execute(sql.SQL("select not exists (select from {})").format(table)).fetchone()[0]


def _first_load(conn: psycopg.Connection, q: _Statements) -> bool:
    """Into an empty raw table, insert first and build the key index after: a sorted index
    build instead of a million random inserts (pg_restore does the same). Backfills and
    first syncs are the large batches. False, having changed nothing, if raw has rows."""
    if not _is_empty(conn, q.raw):
        return False
    # exclusive from here: a concurrent publish into the same table waits for this one
    conn.execute(sql.SQL("lock table {} in access exclusive mode").format(q.raw))
    if not _is_empty(conn, q.raw):
        return False
    name, definition = conn.execute(
        "select conname, pg_get_constraintdef(oid) from pg_constraint "
        "where conrelid = %s::regclass and contype = 'p'",
        (q.raw.as_string(conn),),
    ).fetchone()
    conn.execute(sql.SQL("alter table {} drop constraint {}").format(q.raw, sql.Identifier(name)))
    conn.execute(sql.SQL("insert into {raw} ({cols}) {rows}").format(
        raw=q.raw, cols=q.cols, rows=q.select
    ))  # fmt: skip
    # fails with a unique violation when the batch holds a record twice
    conn.execute(
        sql.SQL("alter table {} add constraint {} {}").format(
            q.raw, sql.Identifier(name), sql.SQL(definition)
        )
    )
    return True


def _merge(conn: psycopg.Connection, q: _Statements, rows: sql.Composable) -> None:
    conn.execute(q.to_history(q.stale(rows)))
    conn.execute(q.update_existing(rows))  # the replaced versions go to history (trigger)
    conn.execute(q.insert_new(rows))


def _mark_deleted(conn: psycopg.Connection, q: _Statements, batch: ledger.Batch) -> int:
    """Records of the groups the batch lists in full (a store's day, an order's refunds)
    that it does not hold were deleted at the source: marked `deleted_at` (their last
    version goes to history), not removed. The rest of such a group is published again
    (published_at), so incremental models rebuild what the deleted records were part of.

    Only records a batch of the same or an earlier interval published can be found gone:
    a read of an older interval published after a newer one (a catch-up's intervals run in
    any order; on the simulated clock each is read as at its end) must not delete what the
    newer read saw. A deletion the older read cannot prove is found by the next run."""
    spec = q.spec
    group = _join(sql.SQL("r.{}::text").format(sql.Identifier(c)) for c in spec.complete_for)
    key = ("channel_id", *spec.key)
    deleted = conn.execute(
        sql.SQL("""
        update {raw} as r set deleted_at = now(), published_at = now(), batch_id = %(batch)s
        where r.channel_id = %(channel)s and r.deleted_at is null
          and array[{group}] in (select covers from ops.batch_covers where batch_id = %(batch)s)
          and not exists (select from {source} as l where ({typed}) = ({keys}){latest})
          and (select b.interval_end from ops.load_batches as b where b.batch_id = r.batch_id)
              <= %(read_until)s
        returning {group_out}""").format(
            raw=q.raw,
            group=group,
            source=q.source,
            typed=_join(
                sql.SQL("l.channel_id") if k == "channel_id" else _typed(spec, k) for k in key
            ),
            keys=_join(sql.SQL("r.{}").format(sql.Identifier(k)) for k in key),
            group_out=group,
            # a later file restates its group: only the last file covering it counts
            latest=sql.SQL(
                " and l.page_no >= (select max(c.page_no) from ops.batch_covers as c "
                "where c.batch_id = %(batch)s and c.covers = array[{}])"
            ).format(group)
            if spec.later_page_replaces
            else sql.SQL(""),
        ),
        {"batch": batch.batch_id, "channel": batch.channel_id, "read_until": batch.interval_end},
    ).fetchall()
    if deleted:
        conn.execute("set local omni.republish = 'on'")  # not a new version: no history copy
        conn.execute(
            sql.SQL("""
            update {raw} as r set published_at = now()
            where r.channel_id = %(channel)s and r.deleted_at is null
              and array_to_string(array[{group}], chr(31)) = any(%(groups)s)""").format(
                raw=q.raw, group=group
            ),
            {"channel": batch.channel_id, "groups": ["\x1f".join(g) for g in set(deleted)]},
        )
        conn.execute("set local omni.republish = 'off'")
    return len(deleted)


class LandingLost(RuntimeError):
    """The batch's landing partition holds fewer rows than the ledger says were accepted:
    publishing it would record rows that never reached raw."""


def _landed(conn: psycopg.Connection, q: _Statements) -> int | None:
    """Rows in the batch's partition, or None when the partition is gone."""
    if conn.execute("select to_regclass(%s)", (q.source.as_string(conn),)).fetchone()[0] is None:
        return None
    return conn.execute(sql.SQL("select count(*) from {}").format(q.source)).fetchone()[0]


def publish(conn: psycopg.Connection, spec: StreamSpec, batch_id: int) -> ledger.Batch:
    """Merge the batch into raw and advance the watermark, all in one transaction; the
    batch's landing partition goes with it. Publishing a batch that is already published
    (a retry after a commit whose acknowledgement was lost) changes nothing and succeeds.

    The ledger's counts are counted from the partition the merge read, in the merge's
    transaction: a partition that lost rows (it should not, landing is logged, but a
    restored backup or a hand-made change can) fails the batch and publishes nothing."""
    q = _Statements(spec, batch_id)
    try:
        return _publish(conn, q, batch_id)
    except LandingLost as exc:
        with conn.transaction():
            ledger.set_status(conn, batch_id, "failed", error=str(exc)[:2000])
        raise


def _publish(conn: psycopg.Connection, q: _Statements, batch_id: int) -> ledger.Batch:
    with conn.transaction():
        conn.execute("set local work_mem = '256MB'")  # hashes of a large batch stay in memory
        # a merge join against raw sorts the wide landing rows (payloads) on disk: 3× slower
        # than hashing raw's keys or probing its index, which the planner picks otherwise
        conn.execute("set local enable_mergejoin = off")
        # one publish of a batch at a time: a retry waits for a publish still under way
        conn.execute("select pg_advisory_xact_lock(hashtext('omni.publish'), %s::int)", (batch_id,))
        batch = ledger.get_batch(conn, batch_id)
        if batch.status in ("published", "skipped"):  # done already, or nothing to publish
            return batch
        if batch.status != "gated":
            raise RuntimeError(
                f"batch {batch_id} ({batch.channel_id}/{batch.stream}) is "
                f"{batch.status!r}; only a gated batch can be published"
            )
        accepted = batch.rows_received - (batch.rows_quarantined or 0)
        landed = _landed(conn, q)
        if landed != accepted:
            raise LandingLost(
                f"channel {batch.channel_id!r}, stream {batch.stream!r}, batch {batch_id}: "
                f"{'no landing partition' if landed is None else f'{landed} rows in landing'}"
                f" but {accepted} accepted by the gate; nothing published, the watermark "
                "stays: re-run the interval"
            )
        try:
            with conn.transaction():  # the usual case: one version per record, no sort
                if not _first_load(conn, q):
                    _merge(conn, q, q.select)
            versions = landed
        except (errors.UniqueViolation, errors.CardinalityViolation):
            # records that come more than once: collapse them, then merge the latest
            conn.execute(q.pick())
            conn.execute(q.to_history(q.picked(latest=False)))
            _merge(conn, q, q.picked(latest=True))
            versions = conn.execute("select count(*) from batch_pick").fetchone()[0]
        # every landed row is published: to raw, to history, or (an exact copy of a
        # version received twice) collapsed onto that version
        deleted = _mark_deleted(conn, q, batch) if q.spec.complete_for else 0
        ledger.set_status(
            conn,
            batch_id,
            "published",
            rows_published=landed,
            rows_duplicate=landed - versions,
            rows_quarantined=batch.rows_quarantined or 0,
            rows_deleted=deleted,
        )
        ledger.advance_watermark(conn, batch)
        schema.drop_landing_partitions(conn, q.spec.table, [batch_id])
    return ledger.get_batch(conn, batch_id)

"""Warehouse tables owned by the library (dbt owns staging, intermediate and marts)."""

from __future__ import annotations

import hashlib

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from omnichannel.kinds import KINDS
from omnichannel.streams import StreamSpec

BASE_DDL = """
create schema if not exists landing;
create schema if not exists raw;
create schema if not exists quarantine;
create schema if not exists ops;

create table if not exists ops.channels (
    channel_id  text primary key,
    kind        text not null,
    timezone    text not null,
    currency    text not null,
    synced_at   timestamptz not null default now()
);
-- kind-specific options (dbt reads ga4's traffic_of: the channel a property measures)
alter table ops.channels add column if not exists options jsonb not null default '{}';
-- what the kinds registry says of the kind (dim_channels reads them)
alter table ops.channels add column if not exists role text;
alter table ops.channels add column if not exists channel_type text;
-- where a dbt run's tests start (dbt macro remember_test_window notes it per run)
create table if not exists ops.dbt_test_windows (
    window_key  text primary key,
    since       timestamptz,
    noted_at    timestamptz not null default now()
);
-- transform_dbt's builds: what each selected and how it ended. A run builds what changed
-- since the start of the last build that passed (omnichannel.changes)
create table if not exists ops.transform_builds (
    build_id          bigserial primary key,
    run_key           text not null,
    started_at        timestamptz not null default now(),
    finished_at       timestamptz,
    project_checksum  text not null,
    selection         text[],
    reason            text not null,
    status            text not null default 'running'
                      check (status in ('running', 'success', 'failed'))
);

create schema if not exists reference;
create table if not exists reference.products (
    sku                text primary key,
    title              text not null,
    category           text,
    brand              text,
    barcode            text,
    asin               text,
    amazon_seller_sku  text,
    unit_cost          numeric(18, 2),
    cost_currency      text,
    launch_date        date,
    loaded_at          timestamptz not null default now()
);
create table if not exists reference.fx_rates (
    rate_date     date not null,
    currency      text not null,
    usd_per_unit  numeric(18, 8) not null check (usd_per_unit > 0),
    loaded_at     timestamptz not null default now(),
    primary key (rate_date, currency)
);

create table if not exists ops.load_batches (
    batch_id          bigserial primary key,
    channel_id        text not null,
    stream            text not null,
    interval_start    timestamptz not null,
    interval_end      timestamptz not null,
    cursor_from       timestamptz not null,
    cursor_to         timestamptz not null,
    status            text not null check (status in
                      ('extracting', 'landed', 'gated', 'published', 'held', 'failed',
                       'superseded', 'skipped')),
    pages             integer not null default 0,
    rows_received     integer not null default 0,
    rows_published    integer,
    rows_duplicate    integer,
    rows_quarantined  integer,
    error             text,
    run_id            text,
    started_at        timestamptz not null default now(),
    landed_at         timestamptz,
    finished_at       timestamptz
);
create index if not exists load_batches_stream_idx
    on ops.load_batches (channel_id, stream, interval_start);

create table if not exists ops.watermarks (
    channel_id  text not null,
    stream      text not null,
    watermark   timestamptz not null,
    batch_id    bigint not null references ops.load_batches (batch_id),
    updated_at  timestamptz not null default now(),
    primary key (channel_id, stream)
);

create table if not exists ops.dq_results (
    batch_id          bigint not null references ops.load_batches (batch_id),
    suite             text not null,
    expectation       text not null,
    column_name       text,
    success           boolean not null,
    unexpected_count  integer,
    observed          jsonb,
    evaluated_at      timestamptz not null default now()
);
create index if not exists dq_results_batch_idx on ops.dq_results (batch_id);
alter table ops.dq_results add column if not exists severity text;
alter table ops.dq_results add column if not exists element_count integer;
alter table ops.dq_results add column if not exists seconds real;
-- the whole GX result of each batch's validation (per-row lists left out), for Data Docs
create table if not exists ops.dq_validations (
    batch_id      bigint primary key references ops.load_batches (batch_id),
    suite         text not null,
    result        jsonb not null,
    validated_at  timestamptz not null default now()
);

create table if not exists quarantine.records (
    batch_id        bigint not null references ops.load_batches (batch_id),
    channel_id      text not null,
    stream          text not null,
    record_key      text,
    reasons         jsonb not null,
    payload         jsonb not null,
    quarantined_at  timestamptz not null default now()
);
create index if not exists quarantine_records_batch_idx on quarantine.records (batch_id);
-- where the row was received, its landed columns (text, as received) for a replay, and
-- when a replay published it (released_to: the replay's batch)
alter table quarantine.records add column if not exists page_no integer;
alter table quarantine.records add column if not exists record_no integer;
alter table quarantine.records add column if not exists record jsonb;
alter table quarantine.records add column if not exists released_at timestamptz;
alter table quarantine.records add column if not exists released_to bigint;
alter table quarantine.records add column if not exists released_by text;
-- a replay is a batch of its own that re-publishes the quarantined rows of another
alter table ops.load_batches add column if not exists replay_of bigint;
-- the last time the batch's task touched it: a batch left unfinished by a crash is swept
-- once this is old (ledger.sweep_stale)
alter table ops.load_batches add column if not exists heartbeat_at timestamptz;
-- 'skipped': a snapshot stream's interval that was read already, or read too late to stand
-- for it (load_batches made before it was a status get it here)
do $$ begin
    if not exists (select from pg_constraint where conname = 'load_batches_status_check'
                   and pg_get_constraintdef(oid) like '%skipped%') then
        alter table ops.load_batches drop constraint if exists load_batches_status_check;
        alter table ops.load_batches add constraint load_batches_status_check check (status in
            ('extracting', 'landed', 'gated', 'published', 'held', 'failed', 'superseded',
             'skipped'));
    end if;
end $$;
-- records a batch marked deleted in raw (their group was covered, they were missing)
alter table ops.load_batches add column if not exists rows_deleted integer not null default 0;
-- the groups each landed batch lists in full (StreamSpec.complete_for); dropped with it
create table if not exists ops.batch_covers (
    batch_id  bigint not null,
    page_no   integer not null,
    covers    text[] not null
);
create index if not exists batch_covers_batch_idx on ops.batch_covers (batch_id);
-- files or pages quarantined whole (unreadable), beside the rows counted above
alter table ops.load_batches add column if not exists pages_quarantined integer not null
    default 0;
-- the channel's API as the batch met it: requests made, and seconds waited on its limits
-- (throttling, backoff, report polling) on the connector's clock: real seconds against a
-- real channel, simulated ones against the simulator (what the work costs at the channel)
alter table ops.load_batches add column if not exists api_calls integer;
alter table ops.load_batches add column if not exists api_wait_seconds numeric(12, 3);

-- alert records; the alerting issue routes them (Slack, e-mail) and adds the review page.
-- A repeat of an open alert (same fingerprint) counts on the same row.
create table if not exists ops.alerts (
    alert_id         bigserial primary key,
    kind             text not null check (kind in
                     ('pipeline', 'data_quality', 'freshness', 'volume', 'business')),
    severity         text not null check (severity in ('info', 'warning', 'critical')),
    channel_id       text,
    stream           text,
    batch_id         bigint,
    dag_id           text,
    task_id          text,
    run_id           text,
    message          text not null,
    details          jsonb not null default '{}',
    fingerprint      text not null,
    first_seen       timestamptz not null default now(),
    last_seen        timestamptz not null default now(),
    occurrences      integer not null default 1,
    status           text not null default 'open' check (status in
                     ('open', 'acknowledged', 'resolved')),
    acknowledged_by  text,
    acknowledged_at  timestamptz,
    resolved_at      timestamptz
);
create unique index if not exists alerts_open_fingerprint_idx
    on ops.alerts (fingerprint) where status <> 'resolved';
-- delivery (include/config/alerts.yml): announced once, when first opened
alter table ops.alerts add column if not exists notified_at timestamptz;
alter table ops.alerts add column if not exists notified_to text[];
alter table ops.alerts add column if not exists resolved_by text;

create table if not exists ops.payload_fields (
    channel_id      text not null,
    stream          text not null,
    field           text not null,
    first_batch_id  bigint not null,
    first_seen_at   timestamptz not null default now(),
    last_batch_id   bigint not null,
    primary key (channel_id, stream, field)
);

create table if not exists ops.schema_drift (
    batch_id     bigint not null references ops.load_batches (batch_id),
    channel_id   text not null,
    stream       text not null,
    field        text not null,
    change       text not null,
    example      jsonb,
    detected_at  timestamptz not null default now()
);
"""


# What DDL each part of the schema was last brought to: a task that finds its part current
# runs no DDL at all. `alter table … add column if not exists` takes an exclusive lock even
# when the column is there, so running it for every batch made tasks of two channels (and
# dbt reading raw) wait on each other, and deadlock.
APPLIED_DDL = """
create table if not exists ops.ddl_applied (
    part        text primary key,
    ddl_hash    text not null,
    applied_at  timestamptz not null default now()
)"""


def _current(conn: psycopg.Connection, part: str, digest: str, relations: tuple) -> bool:
    """The part was brought to this DDL, and its tables are there (a test may drop one)."""
    [(marked,)] = conn.execute("select to_regclass('ops.ddl_applied') is not null").fetchall()
    if not marked:
        return False
    row = conn.execute(
        """select bool_and(to_regclass(r) is not null) from unnest(%s::text[]) as r
           where exists (select 1 from ops.ddl_applied where part = %s and ddl_hash = %s)""",
        (list(relations), part, digest),
    ).fetchone()
    return bool(row and row[0])


def _mark(conn: psycopg.Connection, part: str, digest: str) -> None:
    conn.execute(APPLIED_DDL)
    conn.execute(
        """insert into ops.ddl_applied (part, ddl_hash) values (%s, %s)
           on conflict (part) do update set ddl_hash = excluded.ddl_hash, applied_at = now()""",
        (part, digest),
    )


def _digest(*parts) -> str:
    return hashlib.sha256("\n".join(map(str, parts)).encode()).hexdigest()


BASE_DIGEST = _digest(BASE_DDL)


def ensure_base(conn: psycopg.Connection) -> None:
    if _current(conn, "base", BASE_DIGEST, ("ops.load_batches", "ops.alerts")):
        return
    with conn.transaction():
        # one migrator at a time when several tasks start together
        conn.execute("select pg_advisory_xact_lock(hashtext('omnichannel.schema'))")
        conn.execute(BASE_DDL)
        _mark(conn, "base", BASE_DIGEST)


def landing_partition(table: str, batch_id: int) -> sql.Identifier:
    """The landing table of one batch: a partition of landing.<table>, dropped once the
    batch is published or held (its rows are in raw or quarantine by then)."""
    return sql.Identifier("landing", f"{table}__b{batch_id}")


def create_landing_partition(conn: psycopg.Connection, table: str, batch_id: int) -> None:
    # logged (not unlogged): crash recovery empties an unlogged table and a promoted standby
    # has none, and a snapshot stream cannot be re-read for a past day. The gate and publish
    # still count the partition against the ledger, so a lost row fails the batch loudly.
    conn.execute(
        sql.SQL("create table {} partition of landing.{} for values in ({})").format(
            landing_partition(table, batch_id), sql.Identifier(table), sql.Literal(batch_id)
        )
    )


def drop_landing_partitions(conn: psycopg.Connection, table: str, batch_ids) -> None:
    for batch_id in batch_ids:
        conn.execute(sql.SQL("drop table if exists {}").format(landing_partition(table, batch_id)))
        conn.execute("delete from ops.batch_covers where batch_id = %s", (batch_id,))


def ensure_stream_tables(conn: psycopg.Connection, spec: StreamSpec) -> None:
    landing_cols = sql.SQL(", ").join(
        sql.SQL("{} text").format(sql.Identifier(c.name)) for c in spec.columns
    )
    raw_cols = sql.SQL(", ").join(
        sql.SQL("{} {}{}").format(
            sql.Identifier(c.name), sql.SQL(c.sql_type), sql.SQL("" if c.nullable else " not null")
        )
        for c in spec.columns
    )
    key = sql.SQL(", ").join(sql.Identifier(k) for k in ("channel_id", *spec.key))
    history_key = sql.SQL(", ").join(sql.Identifier(k) for k in ("channel_id", *spec.version_key))
    table = spec.table
    statements = [
        # one partition per batch: COPY writes a table without indexes, publish reads the
        # whole partition, and clearing a batch is a drop, not a delete
        sql.SQL("""create table if not exists landing.{t} (
            batch_id bigint not null, channel_id text not null, page_no integer not null,
            record_no integer not null, {cols}, payload jsonb not null)
            partition by list (batch_id)""").format(t=sql.Identifier(table), cols=landing_cols),
        sql.SQL("""create table if not exists raw.{t} (
            channel_id text not null, {cols}, payload jsonb not null,
            batch_id bigint not null, published_at timestamptz not null,
            primary key ({key}))""").format(t=sql.Identifier(table), cols=raw_cols, key=key),
        sql.SQL("""create table if not exists raw.{t} (
            channel_id text not null, {cols}, payload jsonb not null,
            batch_id bigint not null, published_at timestamptz not null,
            primary key ({key}))""").format(
            t=sql.Identifier(f"{table}_history"), cols=raw_cols, key=history_key
        ),
        # deleted at the source (its group was read whole without it): kept, marked
        *(
            sql.SQL("alter table raw.{} add column if not exists deleted_at timestamptz").format(
                sql.Identifier(t)
            )
            for t in (table, f"{table}_history")
        ),
        # incremental dbt models read raw by publication time (the rows since their last run)
        sql.SQL("create index if not exists {i} on raw.{t} (published_at)").format(
            i=sql.Identifier(f"{table}__published_at"), t=sql.Identifier(table)
        ),
        # ... and the few records deleted at the source without scanning the live ones
        sql.SQL(
            "create index if not exists {i} on raw.{t} (published_at) where deleted_at is not null"
        ).format(i=sql.Identifier(f"{table}__deleted"), t=sql.Identifier(table)),
    ]
    # a column a newer connector version added: existing tables get it (nullable: old rows
    # were received without it)
    for c in spec.columns:
        name = sql.Identifier(c.name)
        statements.append(
            sql.SQL("alter table landing.{} add column if not exists {} text").format(
                sql.Identifier(table), name
            )
        )
        # a not-null column with a default (a key column a newer version added) fills the
        # rows already there
        filled = (
            sql.SQL(" not null default {}").format(sql.SQL(c.default)) if c.default else sql.SQL("")
        )
        for target in (table, f"{table}_history"):
            statements.append(
                sql.SQL("alter table raw.{} add column if not exists {} {}{}").format(
                    sql.Identifier(target), name, sql.SQL(c.sql_type), filled
                )
            )
            # a column that became optional (a files feed may give a SKU instead of a
            # barcode) stops refusing nulls; a key column never does
            if c.nullable and c.name not in spec.version_key:
                statements.append(
                    sql.SQL("alter table raw.{} alter column {} drop not null").format(
                        sql.Identifier(target), name
                    )
                )
    statements += _history_trigger(spec)
    part = f"stream:{table}"
    digest = _digest(*(s.as_string(conn) for s in statements), spec.key, spec.version_key)
    relations = (f"landing.{table}", f"raw.{table}", f"raw.{table}_history")
    if _current(conn, part, digest, relations):
        return
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('omnichannel.schema'))")
        _drop_unpartitioned_landing(conn, table)
        for statement in statements:
            conn.execute(statement)
        _migrate_key(conn, f"raw.{table}", ("channel_id", *spec.key))
        _migrate_key(conn, f"raw.{table}_history", ("channel_id", *spec.version_key))
        _mark(conn, part, digest)


def _migrate_key(conn: psycopg.Connection, table: str, key: tuple[str, ...]) -> None:
    """A table made when the stream's key had other columns gets the key it has now."""
    name, columns = conn.execute(
        """select c.conname, array_agg(a.attname order by k.n)
           from pg_constraint as c, unnest(c.conkey) with ordinality as k (attnum, n),
                pg_attribute as a
           where c.conrelid = %s::regclass and c.contype = 'p'
             and a.attrelid = c.conrelid and a.attnum = k.attnum
           group by c.conname""",
        (table,),
    ).fetchone()
    if tuple(columns) == key:
        return
    schema_name, relation = table.split(".")
    conn.execute(
        sql.SQL("alter table {t} drop constraint {c}, add primary key ({k})").format(
            t=sql.Identifier(schema_name, relation),
            c=sql.Identifier(name),
            k=sql.SQL(", ").join(sql.Identifier(k) for k in key),
        )
    )


def _history_trigger(spec: StreamSpec) -> list[sql.Composable]:
    """raw.<table> holds the latest version of each record; every version a publish
    replaces moves to raw.<table>_history in the same statement (a statement-level
    trigger over the replaced rows), so a first load writes each row once."""
    table = spec.table
    cols = sql.SQL(", ").join(
        sql.Identifier(n)
        for n in ("channel_id", *spec.column_names, "payload", "batch_id", "published_at")
    )
    function = sql.Identifier("raw", f"{table}__keep_history")
    body = sql.SQL(
        "begin if current_setting('omni.republish', true) = 'on' then return null; end if; "
        "insert into raw.{h} ({cols}) select {cols} from replaced "
        "on conflict do nothing; return null; end"
    ).format(h=sql.Identifier(f"{table}_history"), cols=cols)
    return [
        sql.SQL(
            "create or replace function {f}() returns trigger language plpgsql as {body}"
        ).format(f=function, body=sql.Literal(body.as_string())),
        sql.SQL("""create or replace trigger keep_history after update on raw.{t}
            referencing old table as replaced for each statement execute function {f}()""").format(
            t=sql.Identifier(table), f=function
        ),
    ]


def _drop_unpartitioned_landing(conn: psycopg.Connection, table: str) -> None:
    """Landing tables made before batches had partitions: their rows belong to batches
    that were published (and are in raw) or will be re-extracted by a re-run."""
    kind = conn.execute(
        "select relkind from pg_class where oid = to_regclass(%s)", (f"landing.{table}",)
    ).fetchone()
    if kind and kind[0] != "p":
        conn.execute(sql.SQL("drop table landing.{}").format(sql.Identifier(table)))


def sync_channels(conn: psycopg.Connection, channels) -> None:
    """Mirror the configured channel instances into ops.channels (dbt reads time zones here)."""
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            """insert into ops.channels (channel_id, kind, timezone, currency, options, role,
                                        channel_type)
               values (%s, %s, %s, %s, %s, %s, %s)
               on conflict (channel_id) do update set kind = excluded.kind,
                 timezone = excluded.timezone, currency = excluded.currency,
                 options = excluded.options, role = excluded.role,
                 channel_type = excluded.channel_type, synced_at = now()
               where (ops.channels.kind, ops.channels.timezone, ops.channels.currency,
                      ops.channels.options, ops.channels.role, ops.channels.channel_type)
                     is distinct from (excluded.kind, excluded.timezone, excluded.currency,
                                       excluded.options, excluded.role, excluded.channel_type)""",
            [
                (
                    c.channel_id,
                    c.kind,
                    c.timezone,
                    c.currency,
                    Jsonb(c.options),
                    KINDS[c.kind].role,
                    c.channel_type or KINDS[c.kind].channel_type,
                )  # fmt: skip
                for c in channels
            ],
        )

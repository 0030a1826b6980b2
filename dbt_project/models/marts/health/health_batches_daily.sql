-- Load batches per channel, stream, the channel's local day of the interval read, and
-- status: what arrived, what was published and what went to quarantine. A view over the
-- ledger (always current) that bi_reader may read, unlike ops itself.
{{ config(materialized='view') }}

with batches as (
    select * from {{ ref('stg_ops__load_batches') }}
),

channels as (
    select
        channel_id,
        timezone
    from {{ ref('stg_ops__channels') }}
)

select
    batches.channel_id,
    batches.stream,
    batches.status,
    (batches.interval_start at time zone channels.timezone)::date as batch_date,
    count(*)::integer as batches,
    sum(batches.rows_received)::bigint as rows_received,
    sum(batches.rows_published)::bigint as rows_published,
    sum(batches.rows_quarantined)::bigint as rows_quarantined,
    max(batches.finished_at) as last_finished_at
from batches
inner join channels on batches.channel_id = channels.channel_id
group by
    batches.channel_id,
    batches.stream,
    batches.status,
    (batches.interval_start at time zone channels.timezone)::date

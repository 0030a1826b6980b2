-- Per channel and stream: the end of the last interval published (how far the data
-- reaches) and when it was published; the hours since are computed when read.
{{ config(materialized='view') }}

with published as (
    select
        channel_id,
        stream,
        max(interval_end) as published_through,
        max(finished_at) as last_published_at,
        count(*)::integer as batches_published
    from {{ ref('stg_ops__load_batches') }}
    where status = 'published'
    group by channel_id, stream
),

latest as (
    select distinct on (channel_id, stream)
        channel_id,
        stream,
        status as latest_status,
        started_at as latest_started_at
    from {{ ref('stg_ops__load_batches') }}
    order by channel_id asc, stream asc, started_at desc, batch_id desc
)

select
    latest.channel_id,
    latest.stream,
    published.published_through,
    published.last_published_at,
    latest.latest_status,
    latest.latest_started_at,
    coalesce(published.batches_published, 0) as batches_published,
    round(extract(epoch from now() - published.last_published_at)::numeric / 3600, 1)
    ::numeric(12, 1) as hours_since_published
from latest
left join published
    on latest.channel_id = published.channel_id and latest.stream = published.stream

-- Ops alerts, one row each, with how long an open one has been open (hours).
{{ config(materialized='view') }}

select
    alert_id,
    kind,
    severity,
    status,
    channel_id,
    stream,
    message,
    first_seen,
    last_seen,
    occurrences,
    resolved_at,
    status != 'resolved' as is_open,
    round(
        extract(epoch from coalesce(resolved_at, now()) - first_seen)::numeric / 3600, 1
    )::numeric(12, 1) as hours_open
from {{ ref('stg_ops__alerts') }}

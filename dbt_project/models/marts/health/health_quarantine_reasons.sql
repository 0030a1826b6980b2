-- Quarantined records per channel, stream, reason and UTC day set aside, and how many of
-- them were released since (re-published after a fix).
{{ config(materialized='view') }}

select
    channel_id,
    stream,
    reason,
    quarantined_at::date as quarantined_date,
    count(*)::integer as records,
    (count(*) filter (where released_at is null))::integer as records_held
from {{ ref('stg_quarantine__records') }}
group by 1, 2, 3, 4

select
    batch_id,
    channel_id,
    stream,
    interval_start,
    interval_end,
    status,
    rows_received,
    started_at,
    finished_at,
    replay_of,
    coalesce(rows_published, 0) as rows_published,
    coalesce(rows_quarantined, 0) as rows_quarantined
from {{ source('ops', 'load_batches') }}

-- One row per quarantined record, with its first reason as one label: the check that
-- failed and the column it failed on, e.g. `expect_column_values_to_not_be_null(sku)`
select
    batch_id,
    channel_id,
    stream,
    record_key,
    quarantined_at,
    released_at,
    (reasons -> 0 ->> 'expectation')
    || coalesce('(' || (reasons -> 0 ->> 'column') || ')', '') as reason,
    jsonb_array_length(reasons) as reason_count
from {{ source('quarantine', 'records') }}

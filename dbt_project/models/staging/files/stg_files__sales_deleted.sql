-- Store receipt lines a corrected export no longer holds: deleted at the source, kept in
-- raw and marked (deleted_at). Incremental models read them to rebuild, or drop, the
-- orders and days the lines belonged to; nothing else counts them.
select
    channel_id,
    store_id,
    receipt_no,
    line_no,
    business_date as order_date,
    deleted_at,
    published_at,
    return_of is not null as is_return,
    coalesce(return_of, receipt_no) as sale_receipt_no,
    store_id || '/' || coalesce(return_of, receipt_no) as order_id
from {{ source('files', 'files__sales') }}
where deleted_at is not null

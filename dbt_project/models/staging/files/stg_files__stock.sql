select
    channel_id,
    store_id as location_id,
    count_date as snapshot_date,
    pos_code as barcode,
    on_hand,
    source_file,
    published_at
from {{ source('files', 'files__stock') }}
-- records deleted at the source (a corrected file, a deleted refund) stay in raw, marked
where deleted_at is null

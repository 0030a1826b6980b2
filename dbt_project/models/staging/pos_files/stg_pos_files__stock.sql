select
    channel_id,
    store_id as location_id,
    count_date as snapshot_date,
    pos_code as barcode,
    on_hand,
    source_file,
    published_at
from {{ source('pos_files', 'pos_files__stock') }}

select
    channel_id,
    store_id,
    business_date as traffic_date,
    hour,
    visitors,
    source_file,
    published_at
from {{ source('pos_files', 'pos_files__footfall') }}

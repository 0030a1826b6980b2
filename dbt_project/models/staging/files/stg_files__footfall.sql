select
    channel_id,
    store_id,
    business_date as traffic_date,
    hour,
    visitors,
    source_file,
    published_at
from {{ source('files', 'files__footfall') }}
-- records deleted at the source (a corrected file, a deleted refund) stay in raw, marked
where deleted_at is null

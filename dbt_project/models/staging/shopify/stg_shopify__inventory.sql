select
    channel_id,
    snapshot_date,
    snapshot_at,
    location_id as channel_location_id,
    location_name as location_id,
    inventory_item_id,
    available,
    on_hand,
    published_at,
    nullif(trim(sku), '') as sku
from {{ source('shopify', 'shopify__inventory') }}

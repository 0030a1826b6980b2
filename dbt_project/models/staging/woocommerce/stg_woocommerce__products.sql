select
    channel_id,
    product_id::text as product_id,
    nullif(trim(sku), '') as sku,
    (
        select nullif(trim(meta ->> 'value'), '')
        from jsonb_array_elements(payload -> 'meta_data') as meta
        where meta ->> 'key' = '_global_unique_id'
        limit 1
    ) as barcode,
    name as title,
    status,
    price,
    regular_price,
    stock_quantity,
    stock_status,
    date_created_gmt at time zone 'UTC' as created_at,
    date_modified_gmt at time zone 'UTC' as updated_at,
    published_at
from {{ source('woocommerce', 'woocommerce__products') }}

select
    channel_id,
    product_id::text as product_id,
    name as title,
    status,
    price,
    regular_price,
    stock_quantity,
    stock_status,
    published_at,
    nullif(trim(sku), '') as sku,
    (
        select min(nullif(trim(meta ->> 'value'), ''))
        from jsonb_array_elements(products.payload -> 'meta_data') as meta
        where meta ->> 'key' = '_global_unique_id'
    ) as barcode,
    date_created_gmt at time zone 'UTC' as created_at,
    date_modified_gmt at time zone 'UTC' as updated_at
from {{ source('woocommerce', 'woocommerce__products') }} as products

select
    channel_id,
    variant_id,
    product_id,
    inventory_item_id,
    title,
    vendor as brand,
    product_type as category,
    status,
    price,
    created_at,
    product_updated_at as updated_at,
    published_at,
    nullif(trim(sku), '') as sku,
    nullif(trim(barcode), '') as barcode
from {{ source('shopify', 'shopify__products') }}

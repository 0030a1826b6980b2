select
    channel_id,
    amazon_order_id as order_id,
    adjustment_item_id,
    posted_date as refunded_at,
    seller_sku,
    quantity as units,
    currency,
    published_at,
    -principal as refunded_amount,
    -coalesce(tax, 0) as refunded_tax,
    -principal + coalesce(tax, 0) as refunded_merchandise
from {{ source('amazon_sp', 'amazon_sp__refunds') }}

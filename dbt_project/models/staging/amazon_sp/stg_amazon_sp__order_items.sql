with items as (
    select * from {{ source('amazon_sp', 'amazon_sp__order_items') }}
)

select
    items.channel_id,
    items.amazon_order_id as order_id,
    items.order_item_id,
    items.purchase_date as created_at,
    items.order_status,
    items.asin,
    items.seller_sku,
    items.currency,
    items.quantity_ordered as units,
    items.item_price as gross_merchandise_value,
    items.published_at,
    items.order_status = 'Canceled' as is_cancelled,
    coalesce(items.promotion_discount, 0) as discounts,
    coalesce(items.item_tax, 0) as tax,
    items.item_price - coalesce(items.promotion_discount, 0)
    - coalesce(items.item_tax, 0) as net_merchandise
from items

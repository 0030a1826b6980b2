with orders as (
    select * from {{ source('amazon_sp', 'amazon_sp__orders') }}
)

select
    orders.channel_id,
    orders.amazon_order_id as order_id,
    orders.purchase_date as created_at,
    orders.last_update_date as updated_at,
    orders.order_status,
    orders.fulfillment_channel,
    orders.marketplace_id,
    orders.order_total,
    orders.currency,
    orders.is_prime,
    orders.is_business_order,
    orders.published_at,
    orders.order_status = 'Canceled' as is_cancelled,
    nullif(lower(trim(orders.buyer_email)), '') as email
from orders

with orders as (
    select * from {{ source('amazon_sp', 'amazon_sp__orders') }}
),

channels as (
    select
        channel_id,
        timezone
    from {{ ref('stg_ops__channels') }}
)

select
    orders.channel_id,
    orders.amazon_order_id as order_id,
    orders.purchase_date as created_at,
    orders.last_update_date as updated_at,
    {{ local_date('orders.purchase_date', 'channels.timezone') }} as order_date,
    orders.order_status,
    orders.order_status = 'Canceled' as is_cancelled,
    orders.fulfillment_channel,
    orders.marketplace_id,
    orders.order_total,
    orders.currency,
    nullif(lower(trim(orders.buyer_email)), '') as email,
    orders.is_prime,
    orders.is_business_order,
    orders.published_at
from orders
inner join channels on orders.channel_id = channels.channel_id

with orders as (
    select * from {{ source('shopify', 'shopify__orders') }}
),

channels as (
    select
        channel_id,
        timezone
    from {{ ref('stg_ops__channels') }}
)

select
    orders.channel_id,
    orders.order_id,
    orders.order_name,
    nullif(lower(trim(orders.email)), '') as email,
    orders.customer_id,
    orders.created_at,
    orders.updated_at,
    orders.cancelled_at,
    orders.cancelled_at is not null as is_cancelled,
    {{ local_date('orders.created_at', 'channels.timezone') }} as order_date,
    orders.financial_status,
    orders.currency,
    orders.subtotal + orders.total_discounts as gross_merchandise_value,
    orders.total_discounts as discounts,
    orders.subtotal,
    orders.refunded_subtotal as refunds,
    orders.subtotal - orders.refunded_subtotal as net_revenue,
    orders.total_shipping as shipping,
    orders.total_tax as tax,
    orders.total_price,
    orders.total_refunded,
    orders.units,
    orders.line_items_count,
    orders.published_at
from orders
inner join channels on orders.channel_id = channels.channel_id

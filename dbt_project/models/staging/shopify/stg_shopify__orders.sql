with orders as (
    select * from {{ source('shopify', 'shopify__orders') }}
)

select
    orders.channel_id,
    orders.order_id,
    orders.order_name,
    orders.customer_id,
    orders.created_at,
    orders.updated_at,
    orders.cancelled_at,
    orders.financial_status,
    orders.currency,
    orders.total_discounts as discounts,
    orders.subtotal,
    orders.refunded_subtotal as refunds,
    orders.total_shipping as shipping,
    orders.total_tax as tax,
    orders.total_price,
    orders.total_refunded,
    orders.units,
    orders.line_items_count,
    orders.published_at,
    nullif(lower(trim(orders.email)), '') as email,
    orders.cancelled_at is not null as is_cancelled,
    orders.subtotal + orders.total_discounts as gross_merchandise_value,
    orders.subtotal - orders.refunded_subtotal as net_revenue
from orders

-- Refunds of Shopify orders, one row per refund, from the order as read.
with orders as (
    select * from {{ source('shopify', 'shopify__orders') }}
),

refunds as (
    select
        orders.channel_id,
        orders.order_id,
        orders.currency,
        orders.published_at,
        refund.value ->> 'id' as refund_id,
        (refund.value ->> 'createdAt')::timestamptz as refunded_at,
        (refund.value -> 'totalRefundedSet' -> 'shopMoney' ->> 'amount')::numeric(18, 2)
            as refunded_amount,
        refund.value -> 'refundLineItems' -> 'nodes' as refund_lines
    from orders
    cross join lateral jsonb_array_elements(orders.payload -> 'refunds') as refund (value)
)

select
    channel_id,
    order_id,
    refund_id,
    refunded_at,
    currency,
    refunded_amount,
    published_at,
    (
        select coalesce(sum((refund_line ->> 'quantity')::integer), 0)
        from jsonb_array_elements(refunds.refund_lines) as refund_line
    ) as units,
    (
        select coalesce(sum((refund_line -> 'subtotalSet' -> 'shopMoney' ->> 'amount')::numeric), 0)
        from jsonb_array_elements(refunds.refund_lines) as refund_line
    )::numeric(18, 2) as refunded_merchandise
from refunds

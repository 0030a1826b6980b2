-- Line items of every Shopify order, from the order as read (the payload keeps every
-- line: nested pages are followed at extraction). Shop prices exclude tax.
with orders as (
    select * from {{ source('shopify', 'shopify__orders') }}
),

lines as (
    select
        orders.channel_id,
        orders.order_id,
        orders.created_at,
        orders.cancelled_at,
        orders.currency,
        orders.published_at,
        item.ordinality::integer as line_number,
        item.value ->> 'id' as line_id,
        item.value ->> 'sku' as sku,
        item.value -> 'variant' ->> 'id' as variant_id,
        item.value ->> 'name' as title,
        (item.value ->> 'quantity')::integer as units,
        (item.value -> 'originalUnitPriceSet' -> 'shopMoney' ->> 'amount')::numeric(18, 2)
            as unit_price,
        (item.value -> 'discountedTotalSet' -> 'shopMoney' ->> 'amount')::numeric(18, 2)
            as net_merchandise
    from orders
    cross join
        lateral jsonb_array_elements(orders.payload -> 'lineItems' -> 'nodes')
        with ordinality as item (value, ordinality)
)

select
    lines.channel_id,
    lines.order_id,
    lines.line_id,
    lines.line_number,
    lines.created_at,
    lines.sku,
    lines.variant_id,
    lines.title,
    lines.currency,
    lines.units,
    lines.unit_price,
    lines.net_merchandise,
    lines.published_at,
    lines.cancelled_at is not null as is_cancelled,
    lines.unit_price * lines.units as gross_merchandise_value,
    lines.unit_price * lines.units - lines.net_merchandise as discounts
from lines

-- Line items of every WooCommerce order, from the order as read. subtotal is the line
-- before discounts and total after, both without tax; where the shop's prices include tax
-- (VAT), gross merchandise and discounts are priced with it, as the shop shows them.
with orders as (
    select * from {{ source('woocommerce', 'woocommerce__orders') }}
),

lines as (
    select
        orders.channel_id,
        orders.order_id,
        orders.status,
        orders.currency,
        orders.published_at,
        orders.date_created_gmt at time zone 'UTC' as created_at,
        coalesce(orders.prices_include_tax, false) as prices_include_tax,
        item ->> 'id' as line_id,
        nullif(trim(item ->> 'sku'), '') as sku,
        item ->> 'product_id' as product_id,
        item ->> 'name' as title,
        (item ->> 'quantity')::integer as units,
        (item ->> 'subtotal')::numeric(18, 2) as line_subtotal,
        (item ->> 'subtotal_tax')::numeric(18, 2) as line_subtotal_tax,
        (item ->> 'total')::numeric(18, 2) as line_total,
        (item ->> 'total_tax')::numeric(18, 2) as line_total_tax
    from orders
    cross join lateral jsonb_array_elements(orders.payload -> 'line_items') as item
)

select
    lines.channel_id,
    lines.order_id::text as order_id,
    lines.line_id,
    lines.created_at,
    lines.sku,
    lines.product_id,
    lines.title,
    lines.currency,
    lines.units,
    lines.line_total as net_merchandise,
    lines.line_total_tax as tax,
    lines.published_at,
    lines.status = 'cancelled' as is_cancelled,
    lines.line_subtotal
    + case when lines.prices_include_tax then lines.line_subtotal_tax else 0 end
        as gross_merchandise_value,
    lines.line_subtotal - lines.line_total
    + case
        when lines.prices_include_tax then lines.line_subtotal_tax - lines.line_total_tax
        else 0
    end as discounts
from lines

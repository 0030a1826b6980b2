with orders as (
    select * from {{ source('woocommerce', 'woocommerce__orders') }}
),

shaped as (
    select
        orders.*,
        orders.date_created_gmt at time zone 'UTC' as created_at,
        orders.total - orders.total_tax - orders.shipping_total as net_merchandise,
        orders.discount_total
        + case when orders.prices_include_tax then orders.discount_tax else 0 end
            as discounts
    from orders
)

select
    shaped.channel_id,
    shaped.order_id,
    shaped.order_number,
    shaped.status,
    shaped.created_at,
    shaped.currency,
    shaped.prices_include_tax,
    shaped.discounts,
    shaped.net_merchandise,
    shaped.total_tax as tax,
    shaped.shipping_total as shipping,
    shaped.total,
    shaped.line_items_count,
    shaped.published_at,
    nullif(lower(trim(shaped.billing_email)), '') as email,
    shaped.status = 'cancelled' as is_cancelled,
    shaped.net_merchandise
    + case when shaped.prices_include_tax then shaped.total_tax else 0 end
    + shaped.discounts as gross_merchandise_value,
    (
        select sum((item ->> 'quantity')::integer)
        from jsonb_array_elements(shaped.payload -> 'line_items') as item
    ) as units
from shaped

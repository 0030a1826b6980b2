with orders as (
    select * from {{ source('woocommerce', 'woocommerce__orders') }}
),

channels as (
    select
        channel_id,
        timezone
    from {{ ref('stg_ops__channels') }}
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
    nullif(lower(trim(shaped.billing_email)), '') as email,
    shaped.status,
    shaped.status = 'cancelled' as is_cancelled,
    shaped.created_at,
    {{ local_date('shaped.created_at', 'channels.timezone') }} as order_date,
    shaped.currency,
    shaped.prices_include_tax,
    shaped.net_merchandise
    + case when shaped.prices_include_tax then shaped.total_tax else 0 end
    + shaped.discounts as gross_merchandise_value,
    shaped.discounts,
    shaped.net_merchandise,
    shaped.total_tax as tax,
    shaped.shipping_total as shipping,
    shaped.total,
    shaped.line_items_count,
    (
        select sum((item ->> 'quantity')::integer)
        from jsonb_array_elements(shaped.payload -> 'line_items') as item
    ) as units,
    shaped.published_at
from shaped
inner join channels on shaped.channel_id = channels.channel_id

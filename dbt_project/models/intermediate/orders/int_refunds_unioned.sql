-- One row per refund (or refunded item, or store return line) of every channel, with
-- the order it refunds; merchandise refunded without tax, in the channel's currency.
with shopify as (
    select
        channel_id,
        order_id,
        refund_id,
        refunded_at,
        currency,
        units,
        refunded_merchandise,
        published_at
    from {{ ref('stg_shopify__refunds') }}
),

amazon as (
    select
        channel_id,
        order_id,
        adjustment_item_id || '@' || to_char(refunded_at at time zone 'UTC', 'YYYYMMDDHH24MISS')
            as refund_id,
        refunded_at,
        currency,
        units,
        refunded_merchandise,
        published_at
    from {{ ref('stg_amazon_sp__refunds') }}
),

woocommerce as (
    select
        refunds.channel_id,
        refunds.order_id::text as order_id,
        refunds.refund_id || '/' || refunds.refund_line_id as refund_id,
        refunds.refunded_at,
        orders.currency,
        refunds.units,
        refunds.refunded_merchandise,
        refunds.published_at
    from {{ ref('stg_woocommerce__refunds') }} as refunds
    inner join {{ ref('stg_woocommerce__orders') }} as orders
        on refunds.channel_id = orders.channel_id and refunds.order_id = orders.order_id
),

stores as (
    select
        sales.channel_id,
        sales.order_id,
        -- receipt numbers are a store's own: two stores print the same one
        sales.store_id || '/' || sales.receipt_no || '/' || sales.line_no as refund_id,
        sales.sold_at at time zone channels.timezone as refunded_at,
        sales.currency,
        -sales.units as units,
        -sales.net_merchandise as refunded_merchandise,
        sales.published_at
    from {{ ref('stg_files__sales') }} as sales
    inner join {{ ref('stg_ops__channels') }} as channels
        on sales.channel_id = channels.channel_id
    where sales.is_return
)

select * from shopify
union all
select * from amazon
union all
select * from woocommerce
union all
select * from stores

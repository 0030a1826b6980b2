-- One row per order of every channel, in the common vocabulary, money in the channel's
-- currency: gross merchandise as the channel prices it, discounts, net merchandise and
-- refunds without tax.
with shopify as (
    select
        channel_id,
        order_id::text as order_id,
        order_date,
        currency,
        is_cancelled,
        units,
        gross_merchandise_value,
        discounts,
        subtotal as net_merchandise,  -- shops whose prices exclude tax (all configured)
        refunds
    from {{ ref('stg_shopify__orders') }}
),

amazon_refunds as (
    select
        channel_id,
        order_id,
        sum(refunded_merchandise) as refunds
    from {{ ref('stg_amazon_sp__refunds') }}
    group by channel_id, order_id
),

amazon_orders as (
    select
        channel_id,
        order_id,
        min(order_date) as order_date,
        min(currency) as currency,
        bool_or(is_cancelled) as is_cancelled,
        sum(units) as units,
        sum(gross_merchandise_value) as gross_merchandise_value,
        sum(discounts) as discounts,
        sum(net_merchandise) as net_merchandise
    from {{ ref('stg_amazon_sp__order_items') }}
    group by channel_id, order_id
),

amazon as (
    select
        amazon_orders.*,
        coalesce(amazon_refunds.refunds, 0) as refunds
    from amazon_orders
    left join amazon_refunds
        on
            amazon_orders.channel_id = amazon_refunds.channel_id
            and amazon_orders.order_id = amazon_refunds.order_id
),

woo_refunds as (
    select
        channel_id,
        order_id,
        sum(refunded_merchandise) as refunds
    from {{ ref('stg_woocommerce__refunds') }}
    group by channel_id, order_id
),

woocommerce as (
    select
        orders.channel_id,
        orders.order_id::text as order_id,
        orders.order_date,
        orders.currency,
        orders.is_cancelled,
        orders.units,
        orders.gross_merchandise_value,
        orders.discounts,
        orders.net_merchandise,
        coalesce(woo_refunds.refunds, 0) as refunds
    from {{ ref('stg_woocommerce__orders') }} as orders
    left join woo_refunds
        on orders.channel_id = woo_refunds.channel_id and orders.order_id = woo_refunds.order_id
),

store_lines as (
    select * from {{ ref('stg_pos_files__sales') }}
),

stores as (
    select
        channel_id,
        order_id,
        min(order_date) filter (where not is_return) as order_date,
        min(currency) as currency,
        false as is_cancelled,
        sum(units) filter (where not is_return) as units,
        sum(gross_merchandise_value) filter (where not is_return) as gross_merchandise_value,
        sum(discounts) filter (where not is_return) as discounts,
        sum(net_merchandise) filter (where not is_return) as net_merchandise,
        coalesce(-sum(net_merchandise) filter (where is_return), 0) as refunds
    from store_lines
    group by channel_id, order_id
)

select * from shopify
union all
select * from amazon
union all
select * from woocommerce
union all
select * from stores
where order_date is not null

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['channel_id', 'order_id'],
        on_schema_change='fail',
        indexes=[
            {'columns': ['order_id', 'channel_id'], 'unique': True},
            {'columns': ['published_at']},
        ],
        post_hook="{{ delete_gone_orders() }}",
    )
}}
-- depends_on: {{ ref('int_orders_deleted') }}
-- depends_on: {{ ref('stg_files__sales_deleted') }}
-- depends_on: {{ ref('stg_woocommerce__refunds_deleted') }}
-- One row per order of every channel, in the common vocabulary, money in the channel's
-- currency: gross merchandise as the channel prices it, discounts, net merchandise and
-- refunds without tax. A table, since the orders of Amazon, WooCommerce and the stores
-- are put together from several streams: an incremental run finds the orders any of them
-- published since the last run (less the lookback) and rebuilds only those.
{%- set since = incremental_cutoff() if is_incremental() else none %}
with shopify as (
    select
        channel_id,
        order_id::text as order_id,
        created_at,
        email,
        currency,
        is_cancelled,
        units,
        gross_merchandise_value,
        discounts,
        subtotal as net_merchandise,  -- shops whose prices exclude tax (all configured)
        refunds,
        published_at
    from {{ ref('stg_shopify__orders') }}
    {% if is_incremental() %}
        where published_at > {{ since }}
    {% endif %}
),

{% if is_incremental() %}
    -- the orders an incremental run rebuilds: those with anything published since. Their
    -- rows are then looked up by raw's key index through `= any(array(...))` (a join
    -- with the few keys is planned as a scan of every row; an order id touched in one
    -- channel and present in another is rebuilt there too, unchanged)
    amazon_touched as (
        select
            channel_id,
            order_id
        from {{ ref('stg_amazon_sp__order_items') }}
        where published_at > {{ since }}
        union
        select
            channel_id,
            order_id
        from {{ ref('stg_amazon_sp__orders') }}
        where published_at > {{ since }}
        union
        select
            channel_id,
            order_id
        from {{ ref('stg_amazon_sp__refunds') }}
        where published_at > {{ since }}
    ),

    woo_touched as (
        select
            channel_id,
            order_id
        from {{ ref('stg_woocommerce__orders') }}
        where published_at > {{ since }}
        union
        select
            channel_id,
            order_id
        from {{ ref('stg_woocommerce__refunds') }}
        where published_at > {{ since }}
        union
        -- a deleted refund changes its order (the order is read again too, but need not be)
        select
            channel_id,
            order_id
        from {{ ref('stg_woocommerce__refunds_deleted') }}
        where published_at > {{ since }}
    ),

    stores_touched as (
        select
            channel_id,
            order_id
        from {{ ref('stg_files__sales') }}
        where published_at > {{ since }}
        union
        -- a line dropped from a corrected export (a return dropped changes the sale's order)
        select
            channel_id,
            order_id
        from {{ ref('stg_files__sales_deleted') }}
        where published_at > {{ since }}
    ),
{% endif %}

amazon_refunds as (
    select
        channel_id,
        order_id,
        sum(refunded_merchandise) as refunds,
        max(published_at) as published_at
    from {{ ref('stg_amazon_sp__refunds') }}
    {% if is_incremental() %}
        where
            channel_id = any(array(select amazon_touched.channel_id from amazon_touched))
            and order_id = any(array(select amazon_touched.order_id from amazon_touched))
    {% endif %}
    group by channel_id, order_id
),

amazon_orders as (
    select
        channel_id,
        order_id,
        min(created_at) as created_at,
        min(currency) as currency,
        bool_or(is_cancelled) as is_cancelled,
        sum(units) as units,
        sum(gross_merchandise_value) as gross_merchandise_value,
        sum(discounts) as discounts,
        sum(net_merchandise) as net_merchandise,
        max(published_at) as published_at
    from {{ ref('stg_amazon_sp__order_items') }}
    {% if is_incremental() %}
        where
            channel_id = any(array(select amazon_touched.channel_id from amazon_touched))
            and order_id = any(array(select amazon_touched.order_id from amazon_touched))
    {% endif %}
    group by channel_id, order_id
),

amazon as (
    select
        amazon_orders.channel_id,
        amazon_orders.order_id,
        amazon_orders.created_at,
        headers.email,
        amazon_orders.currency,
        amazon_orders.is_cancelled,
        amazon_orders.units,
        amazon_orders.gross_merchandise_value,
        amazon_orders.discounts,
        amazon_orders.net_merchandise,
        coalesce(amazon_refunds.refunds, 0) as refunds,
        -- a refund (a stream of its own) changes the order: the order counts as published again
        greatest(
            amazon_orders.published_at, headers.published_at, amazon_refunds.published_at
        ) as published_at
    from amazon_orders
    left join amazon_refunds
        on
            amazon_orders.channel_id = amazon_refunds.channel_id
            and amazon_orders.order_id = amazon_refunds.order_id
    left join {{ ref('stg_amazon_sp__orders') }} as headers
        on
            amazon_orders.channel_id = headers.channel_id
            and amazon_orders.order_id = headers.order_id
),

woo_refunds as (
    select
        channel_id,
        order_id,
        sum(refunded_merchandise) as refunds,
        max(published_at) as published_at
    from {{ ref('stg_woocommerce__refunds') }}
    {% if is_incremental() %}
        where
            channel_id = any(array(select woo_touched.channel_id from woo_touched))
            and order_id = any(array(select woo_touched.order_id from woo_touched))
    {% endif %}
    group by channel_id, order_id
),

woocommerce as (
    select
        orders.channel_id,
        orders.order_id::text as order_id,
        orders.created_at,
        orders.email,
        orders.currency,
        orders.is_cancelled,
        orders.units,
        orders.gross_merchandise_value,
        orders.discounts,
        orders.net_merchandise,
        coalesce(woo_refunds.refunds, 0) as refunds,
        greatest(orders.published_at, woo_refunds.published_at) as published_at
    from {{ ref('stg_woocommerce__orders') }} as orders
    left join woo_refunds
        on orders.channel_id = woo_refunds.channel_id and orders.order_id = woo_refunds.order_id
    {% if is_incremental() %}
        where
            orders.channel_id = any(array(select woo_touched.channel_id from woo_touched))
            and orders.order_id = any(array(select woo_touched.order_id from woo_touched))
    {% endif %}
),

store_lines as (
    select * from {{ ref('stg_files__sales') }}
    {% if is_incremental() %}
        where (channel_id, order_id) in (
            select
                stores_touched.channel_id,
                stores_touched.order_id
            from stores_touched
        )
    {% endif %}
),

stores as (
    select
        channel_id,
        order_id,
        false as is_cancelled,
        min(order_date) filter (where not is_return) as order_date,
        min(sold_at) filter (where not is_return) as sold_at,
        min(email) filter (where not is_return) as email,
        min(currency) as currency,
        sum(units) filter (where not is_return) as units,
        sum(gross_merchandise_value) filter (where not is_return) as gross_merchandise_value,
        sum(discounts) filter (where not is_return) as discounts,
        sum(net_merchandise) filter (where not is_return) as net_merchandise,
        coalesce(-sum(net_merchandise) filter (where is_return), 0) as refunds,
        max(published_at) as published_at
    from store_lines
    group by channel_id, order_id
),

channels as (
    select
        channel_id,
        timezone
    from {{ ref('stg_ops__channels') }}
),

-- orders read from an API carry a UTC timestamp: their reporting day is the channel's
-- local day of it
online as (
    select * from shopify
    union all
    select * from amazon
    union all
    select * from woocommerce
),

online_dated as (
    select
        online.channel_id,
        online.order_id,
        {{ local_date('online.created_at', 'channels.timezone') }} as order_date,
        online.created_at,
        online.email,
        online.currency,
        online.is_cancelled,
        online.units,
        online.gross_merchandise_value,
        online.discounts,
        online.net_merchandise,
        online.refunds,
        online.published_at
    from online
    inner join channels on online.channel_id = channels.channel_id
),

-- store receipts carry the business day and the local time of the till: the day is kept
-- as the file states it, the time is placed in UTC
stores_utc as (
    select
        stores.channel_id,
        stores.order_id,
        stores.order_date,
        stores.sold_at at time zone channels.timezone as created_at,
        stores.email,
        stores.currency,
        stores.is_cancelled,
        stores.units,
        stores.gross_merchandise_value,
        stores.discounts,
        stores.net_merchandise,
        stores.refunds,
        stores.published_at
    from stores
    inner join channels on stores.channel_id = channels.channel_id
    where stores.order_date is not null
)

select * from online_dated
union all
select * from stores_utc

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['channel_id', 'order_id'],
        on_schema_change='fail',
        indexes=[
            {'columns': ['order_id', 'channel_id'], 'unique': True},
            {'columns': ['customer_key']},
            {'columns': ['published_at']},
        ],
        post_hook="{{ delete_gone_orders() }}",
    )
}}
-- depends_on: {{ ref('int_orders_deleted') }}
-- One row per order of every channel: the channel's currency and the reporting currency
-- (the daily rate of the order's local date), the cross-channel customer and the order's
-- place in that customer's history (cancelled orders take no place).
-- Incremental: a run takes the orders published since the last run (less a lookback; a
-- refund publishes its order again), and re-numbers every order of each customer they
-- belong to, or belonged to before, from the rows already built.
with orders as (
    select * from {{ ref('int_orders_unioned') }}
    {% if is_incremental() %}
        where published_at > {{ incremental_cutoff() }}
    {% endif %}
),

rates as (
    select * from {{ ref('int_fx_rates_filled') }}
),

priced as (
    select
        orders.channel_id,
        orders.order_id,
        orders.order_date,
        orders.created_at,
        orders.is_cancelled,
        orders.currency,
        orders.published_at,
        rates.to_reporting as fx_rate,
        {{ customer_key('orders.email') }} as customer_key,
        orders.units::integer as units,
        orders.gross_merchandise_value::numeric(18, 2) as gmv,
        orders.discounts::numeric(18, 2) as discounts,
        orders.net_merchandise::numeric(18, 2) as net_merchandise,
        orders.refunds::numeric(18, 2) as refunds,
        (orders.net_merchandise - orders.refunds)::numeric(18, 2) as net_revenue,
        '{{ var("reporting_currency") }}'::text as reporting_currency,
        {{ to_reporting_currency('orders.gross_merchandise_value', 'rates') }}::numeric(18, 2)
            as gmv_reporting,
        {{ to_reporting_currency('orders.discounts', 'rates') }}::numeric(18, 2)
            as discounts_reporting,
        {{ to_reporting_currency('orders.net_merchandise', 'rates') }}::numeric(18, 2)
            as net_merchandise_reporting,
        {{ to_reporting_currency('orders.refunds', 'rates') }}::numeric(18, 2)
            as refunds_reporting,
        {{ to_reporting_currency('orders.net_merchandise - orders.refunds', 'rates') }}::numeric(18, 2)
            as net_revenue_reporting
    from orders
    left join rates
        on orders.currency = rates.currency and orders.order_date = rates.rate_date
),

{% if is_incremental() %}
    -- orders of which nothing is left at the source: they leave their customer's history
    -- here, and the table after the run (macro delete_gone_orders)
    gone as (
        select
            channel_id,
            order_id
        from {{ ref('int_orders_deleted') }}
        where is_gone
    ),

    -- `= any(array(...))`: the few keys are collected first, then looked up by index (a
    -- join would be planned for the whole table: the row estimates of the union are poor)
    affected_customers as (
        select priced.customer_key from priced
        where priced.customer_key is not null
        union
        -- an order whose e-mail changed leaves its former customer's history too
        select built.customer_key
        from {{ this }} as built
        where
            built.order_id = any(array(select priced.order_id from priced))
            and built.customer_key is not null
            and exists (
                select from priced
                where priced.channel_id = built.channel_id and priced.order_id = built.order_id
            )
        union
        select built.customer_key
        from {{ this }} as built
        inner join gone
            on built.channel_id = gone.channel_id and built.order_id = gone.order_id
        where built.customer_key is not null
    ),

    candidates as (
        select * from priced
        union all
        select
            built.channel_id,
            built.order_id,
            built.order_date,
            built.created_at,
            built.is_cancelled,
            built.currency,
            built.published_at,
            built.fx_rate,
            built.customer_key,
            built.units,
            built.gmv,
            built.discounts,
            built.net_merchandise,
            built.refunds,
            built.net_revenue,
            built.reporting_currency,
            built.gmv_reporting,
            built.discounts_reporting,
            built.net_merchandise_reporting,
            built.refunds_reporting,
            built.net_revenue_reporting
        from {{ this }} as built
        where
            built.customer_key = any(array(select affected_customers.customer_key from affected_customers))
            and not exists (
                select from priced
                where priced.channel_id = built.channel_id and priced.order_id = built.order_id
            )
            and not exists (
                select from gone
                where gone.channel_id = built.channel_id and gone.order_id = built.order_id
            )
    ),
{% else %}
    candidates as (
        select * from priced
    ),
{% endif %}

-- the customer's history across channels and in each channel (cancelled orders and
-- anonymous buyers take no place: their windows are computed and thrown away)
sequenced as (
    select
        candidates.*,
        candidates.customer_key is not null and not candidates.is_cancelled as has_place,
        row_number() over across_channels as customer_order_number,
        row_number() over in_channel as channel_order_number,
        candidates.order_date - lag(candidates.order_date) over across_channels
            as days_since_previous_order,
        candidates.order_date - lag(candidates.order_date) over in_channel
            as days_since_previous_channel_order
    from candidates
    window
        across_channels as (
            partition by candidates.customer_key, candidates.is_cancelled
            order by candidates.created_at, candidates.channel_id, candidates.order_id
        ),
        in_channel as (
            partition by candidates.customer_key, candidates.is_cancelled, candidates.channel_id
            order by candidates.created_at, candidates.order_id
        )
)

select
    channel_id,
    order_id,
    order_date,
    created_at,
    customer_key,
    is_cancelled,
    currency,
    units,
    gmv,
    discounts,
    net_merchandise,
    refunds,
    net_revenue,
    reporting_currency,
    fx_rate,
    gmv_reporting,
    discounts_reporting,
    net_merchandise_reporting,
    refunds_reporting,
    net_revenue_reporting,
    published_at,
    case when has_place then customer_order_number::integer end as customer_order_number,
    case when has_place then channel_order_number::integer end as channel_order_number,
    case when has_place then days_since_previous_order::integer end as days_since_previous_order,
    case when has_place then days_since_previous_channel_order::integer end
        as days_since_previous_channel_order,
    customer_key is null as is_anonymous,
    case when has_place then customer_order_number = 1 end as is_first_order
from sequenced

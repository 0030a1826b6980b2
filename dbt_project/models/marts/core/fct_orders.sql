-- One row per order of every channel: the channel's currency and the reporting currency
-- (the daily rate of the order's local date), the cross-channel customer and the order's
-- place in that customer's history (cancelled orders take no place).
with orders as (
    select * from {{ ref('int_orders_unioned') }}
),

rates as (
    select * from {{ ref('int_fx_rates_filled') }}
),

identified as (
    select
        orders.*,
        {{ customer_key('orders.email') }} as customer_key
    from orders
),

sequenced as (
    select
        identified.*,
        case
            when identified.customer_key is not null and not identified.is_cancelled
                then row_number() over (
                    partition by identified.customer_key, identified.is_cancelled
                    order by identified.created_at, identified.channel_id, identified.order_id
                )
        end as customer_order_number
    from identified
)

select
    sequenced.channel_id,
    sequenced.order_id,
    sequenced.order_date,
    sequenced.created_at,
    sequenced.customer_key,
    sequenced.customer_key is null as is_anonymous,
    sequenced.customer_order_number::integer as customer_order_number,
    sequenced.customer_order_number = 1 as is_first_order,
    sequenced.is_cancelled,
    sequenced.currency,
    sequenced.units::integer as units,
    sequenced.gross_merchandise_value::numeric(18, 2) as gmv,
    sequenced.discounts::numeric(18, 2) as discounts,
    sequenced.net_merchandise::numeric(18, 2) as net_merchandise,
    sequenced.refunds::numeric(18, 2) as refunds,
    (sequenced.net_merchandise - sequenced.refunds)::numeric(18, 2) as net_revenue,
    '{{ var("reporting_currency") }}'::text as reporting_currency,
    rates.to_reporting as fx_rate,
    {{ to_reporting_currency('sequenced.gross_merchandise_value', 'rates') }}::numeric(18, 2)
        as gmv_reporting,
    {{ to_reporting_currency('sequenced.discounts', 'rates') }}::numeric(18, 2)
        as discounts_reporting,
    {{ to_reporting_currency('sequenced.net_merchandise', 'rates') }}::numeric(18, 2)
        as net_merchandise_reporting,
    {{ to_reporting_currency('sequenced.refunds', 'rates') }}::numeric(18, 2)
        as refunds_reporting,
    {{ to_reporting_currency('sequenced.net_merchandise - sequenced.refunds', 'rates') }}::numeric(18, 2)
        as net_revenue_reporting,
    sequenced.published_at
from sequenced
left join rates
    on sequenced.currency = rates.currency and sequenced.order_date = rates.rate_date

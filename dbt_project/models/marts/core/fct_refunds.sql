select
    refunds.channel_id,
    refunds.order_id,
    refunds.refund_id,
    refunds.refunded_at,
    (refunds.refunded_at at time zone channels.timezone)::date as refund_date,
    orders.order_date,
    refunds.currency,
    refunds.units,
    refunds.refunded_merchandise::numeric(18, 2) as refunded_merchandise,
    {{ to_reporting_currency('refunds.refunded_merchandise', 'rates') }}::numeric(18, 2)
        as refunded_merchandise_reporting,
    '{{ var("reporting_currency") }}'::text as reporting_currency
from {{ ref('int_refunds_unioned') }} as refunds
inner join {{ ref('stg_ops__channels') }} as channels
    on refunds.channel_id = channels.channel_id
left join {{ ref('fct_orders') }} as orders
    on refunds.channel_id = orders.channel_id and refunds.order_id = orders.order_id
left join {{ ref('int_fx_rates_filled') }} as rates
    on
        refunds.currency = rates.currency
        and (refunds.refunded_at at time zone channels.timezone)::date = rates.rate_date

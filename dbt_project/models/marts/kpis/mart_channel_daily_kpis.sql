{{ config(materialized='table') }}

with orders as (
    select * from {{ ref('int_orders_unioned') }}
    where not is_cancelled
)

select
    channel_id,
    order_date,
    currency,
    count(*)::integer as orders_count,
    sum(units)::integer as units,
    sum(gross_merchandise_value)::numeric(18, 2) as gmv,
    sum(discounts)::numeric(18, 2) as discounts,
    sum(refunds)::numeric(18, 2) as refunds,
    sum(net_merchandise - refunds)::numeric(18, 2) as net_revenue,
    round(sum(gross_merchandise_value - discounts) / count(*), 2)::numeric(18, 2) as aov
from orders
group by channel_id, order_date, currency

-- Reconciliation: per channel and day the mart's money equals the sum over its orders.
with from_orders as (
    select
        channel_id,
        order_date,
        sum(gross_merchandise_value) as gmv,
        sum(net_merchandise - refunds) as net_revenue,
        count(*) as orders_count
    from {{ ref('int_orders_unioned') }}
    where not is_cancelled
    group by channel_id, order_date
)

select
    mart.channel_id,
    mart.order_date,
    mart.gmv,
    from_orders.gmv as orders_gmv
from (
    select * from {{ ref('mart_channel_daily_kpis') }}
    where orders_count > 0  -- days with traffic and no order are in the mart too
) as mart
full outer join from_orders
    on mart.channel_id = from_orders.channel_id and mart.order_date = from_orders.order_date
where
    mart.gmv is distinct from from_orders.gmv
    or mart.net_revenue is distinct from from_orders.net_revenue
    or mart.orders_count is distinct from from_orders.orders_count

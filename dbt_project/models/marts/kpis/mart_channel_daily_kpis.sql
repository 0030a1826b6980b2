-- Per channel and local day: the headline KPIs in the channel's currency and in the
-- reporting currency. Orders count on the day they were placed; refunds count against
-- the day of the order they refund; cancelled orders count nowhere.
with orders as (
    select * from {{ ref('fct_orders') }}
    where not is_cancelled
),

order_days as (
    select
        channel_id,
        order_date,
        min(currency) as currency,
        count(*)::integer as orders_count,
        sum(units)::integer as units,
        sum(gmv) as gmv,
        sum(discounts) as discounts,
        sum(refunds) as refunds,
        sum(net_merchandise) as net_merchandise,
        sum(net_revenue) as net_revenue,
        sum(gmv_reporting) as gmv_reporting,
        sum(discounts_reporting) as discounts_reporting,
        sum(refunds_reporting) as refunds_reporting,
        sum(net_revenue_reporting) as net_revenue_reporting,
        count(*) filter (where is_anonymous)::integer as anonymous_orders
    from orders
    group by channel_id, order_date
),

-- customers counted once a day, whatever the number of their orders that day (grouped
-- first: cheaper than a distinct count over every order of the channel)
customer_days as (
    select
        channel_id,
        order_date,
        customer_key,
        bool_or(is_first_order) as placed_first_order,
        bool_or(not is_first_order) as placed_later_order
    from {{ ref('fct_orders') }}  -- not `orders`: a CTE read twice is materialised whole
    where customer_key is not null and not is_cancelled
    group by channel_id, order_date, customer_key
),

customers as (
    select
        channel_id,
        order_date,
        count(*) filter (where placed_first_order)::integer as new_customers,
        count(*) filter (where placed_later_order)::integer as returning_customers
    from customer_days
    group by channel_id, order_date
),

traffic_days as (
    select
        channel_id,
        traffic_date,
        sum(sessions)::integer as sessions
    from {{ ref('fct_traffic_daily') }}
    group by channel_id, traffic_date
),

channels as (
    select * from {{ ref('dim_channels') }}
    where is_sales_channel
)

select
    channels.channel_id,
    coalesce(order_days.order_date, traffic_days.traffic_date) as order_date,
    channels.currency,
    coalesce(order_days.orders_count, 0) as orders_count,
    coalesce(order_days.units, 0) as units,
    coalesce(order_days.gmv, 0)::numeric(18, 2) as gmv,
    coalesce(order_days.discounts, 0)::numeric(18, 2) as discounts,
    coalesce(order_days.refunds, 0)::numeric(18, 2) as refunds,
    coalesce(order_days.net_revenue, 0)::numeric(18, 2) as net_revenue,
    round((order_days.gmv - order_days.discounts) / nullif(order_days.orders_count, 0), 2)
    ::numeric(18, 2) as aov,
    traffic_days.sessions,
    round(coalesce(order_days.orders_count, 0)::numeric / nullif(traffic_days.sessions, 0), 4)
    ::numeric(9, 4) as conversion_rate,
    coalesce(customers.new_customers, 0) as new_customers,
    coalesce(customers.returning_customers, 0) as returning_customers,
    coalesce(order_days.anonymous_orders, 0) as anonymous_orders,
    round(order_days.refunds / nullif(order_days.net_merchandise, 0), 4)::numeric(9, 4)
        as refund_rate,
    '{{ var("reporting_currency") }}'::text as reporting_currency,
    coalesce(order_days.gmv_reporting, 0)::numeric(18, 2) as gmv_reporting,
    coalesce(order_days.discounts_reporting, 0)::numeric(18, 2) as discounts_reporting,
    coalesce(order_days.refunds_reporting, 0)::numeric(18, 2) as refunds_reporting,
    coalesce(order_days.net_revenue_reporting, 0)::numeric(18, 2) as net_revenue_reporting,
    round(
        (order_days.gmv_reporting - order_days.discounts_reporting)
        / nullif(order_days.orders_count, 0),
        2
    )::numeric(18, 2) as aov_reporting
from order_days
full outer join traffic_days
    on
        order_days.channel_id = traffic_days.channel_id
        and order_days.order_date = traffic_days.traffic_date
inner join channels
    on coalesce(order_days.channel_id, traffic_days.channel_id) = channels.channel_id
left join customers
    on order_days.channel_id = customers.channel_id and order_days.order_date = customers.order_date

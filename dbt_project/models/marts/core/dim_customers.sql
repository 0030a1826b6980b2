-- One row per identified customer (hashed, normalised e-mail) across every channel.
-- Anonymous orders have no customer and are not here.
with orders as (
    select * from {{ ref('fct_orders') }}
    where customer_key is not null and not is_cancelled
),

firsts as (
    select
        customer_key,
        channel_id as first_channel_id,
        order_date as first_order_date
    from orders
    where is_first_order
)

select
    orders.customer_key,
    firsts.first_channel_id,
    firsts.first_order_date,
    date_trunc('month', firsts.first_order_date)::date as cohort_month,
    max(orders.order_date) as last_order_date,
    count(*)::integer as orders_count,
    count(distinct orders.channel_id)::integer as channels_count,
    sum(orders.units)::integer as units,
    sum(orders.net_revenue_reporting)::numeric(18, 2) as net_revenue_reporting,
    '{{ var("reporting_currency") }}'::text as reporting_currency
from orders
inner join firsts on orders.customer_key = firsts.customer_key
group by orders.customer_key, firsts.first_channel_id, firsts.first_order_date

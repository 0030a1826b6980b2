-- One row per identified customer (hashed, normalised e-mail) across every channel.
-- Anonymous orders have no customer and are not here. One pass over fct_orders: its
-- numbering says which order was the customer's first, and in how many channels they
-- have a first order.
select
    customer_key,
    max(channel_id) filter (where is_first_order) as first_channel_id,
    min(order_date) filter (where is_first_order) as first_order_date,
    date_trunc('month', min(order_date) filter (where is_first_order))::date as cohort_month,
    max(order_date) as last_order_date,
    count(*)::integer as orders_count,
    count(*) filter (where channel_order_number = 1)::integer as channels_count,
    sum(units)::integer as units,
    sum(net_revenue_reporting)::numeric(18, 2) as net_revenue_reporting,
    '{{ var("reporting_currency") }}'::text as reporting_currency
from {{ ref('fct_orders') }}
where customer_key is not null and not is_cancelled
group by customer_key

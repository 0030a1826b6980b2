-- Repurchase per channel and across channels ('all'): the share of identified customers
-- who ordered more than once, and the days between one order and the next.
with orders as (
    select
        channel_id,
        customer_key,
        order_date,
        created_at
    from {{ ref('fct_orders') }}
    where customer_key is not null and not is_cancelled
),

scoped as (
    select
        channel_id as scope,
        customer_key,
        order_date,
        created_at
    from orders
    union all
    select
        'all' as scope,
        customer_key,
        order_date,
        created_at
    from orders
),

gaps as (
    select
        scope,
        customer_key,
        order_date - lag(order_date) over (
            partition by scope, customer_key order by created_at
        ) as days_since_previous
    from scoped
),

per_customer as (
    select
        scope,
        customer_key,
        count(*) as orders_count
    from scoped
    group by scope, customer_key
),

customers as (
    select
        scope,
        count(*)::integer as customers,
        count(*) filter (where orders_count > 1)::integer as repeat_customers,
        sum(orders_count)::integer as orders_count
    from per_customer
    group by scope
),

intervals as (
    select
        scope,
        round(avg(days_since_previous), 1)::numeric(9, 1) as avg_days_between_orders,
        percentile_cont(0.5) within group (order by days_since_previous)::numeric(9, 1)
            as median_days_between_orders
    from gaps
    where days_since_previous is not null
    group by scope
)

select
    customers.scope as channel_id,
    customers.customers,
    customers.repeat_customers,
    customers.orders_count,
    intervals.avg_days_between_orders,
    intervals.median_days_between_orders,
    round(customers.repeat_customers::numeric / nullif(customers.customers, 0), 4)
    ::numeric(9, 4) as repurchase_rate
from customers
left join intervals on customers.scope = intervals.scope

-- Repurchase per channel and across channels ('all'): the share of identified customers
-- who ordered more than once, and the days between one order and the next. The places
-- and gaps come numbered from fct_orders (across channels and within each channel).
-- (fct_orders is read once per scope: a CTE read twice would be materialised whole)
with scoped as (
    select
        channel_id as scope,
        channel_order_number as order_number,
        days_since_previous_channel_order as days_since_previous
    from {{ ref('fct_orders') }}
    where customer_key is not null and not is_cancelled
    union all
    select
        'all' as scope,
        customer_order_number as order_number,
        days_since_previous_order as days_since_previous
    from {{ ref('fct_orders') }}
    where customer_key is not null and not is_cancelled
),

per_scope as (
    select
        scope,
        -- a customer's first order in scope counts the customer, the second a repeat one
        count(*) filter (where order_number = 1)::integer as customers,
        count(*) filter (where order_number = 2)::integer as repeat_customers,
        count(*)::integer as orders_count,
        round(avg(days_since_previous), 1)::numeric(9, 1) as avg_days_between_orders,
        percentile_cont(0.5) within group (order by days_since_previous)::numeric(9, 1)
            as median_days_between_orders
    from scoped
    group by scope
)

select
    scope as channel_id,
    customers,
    repeat_customers,
    orders_count,
    avg_days_between_orders,
    median_days_between_orders,
    round(repeat_customers::numeric / nullif(customers, 0), 4)::numeric(9, 4) as repurchase_rate
from per_scope

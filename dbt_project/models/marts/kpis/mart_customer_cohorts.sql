-- Monthly acquisition cohorts: customers by the month of their first order (across every
-- channel), by first channel and for all channels ('all'); per month since the first
-- order, the share still buying and the cumulative net revenue per customer (LTV).
with customers as (
    select
        customer_key,
        first_channel_id,
        cohort_month,
        last_order_date
    from {{ ref('dim_customers') }}
),

orders as (
    select
        customer_key,
        net_revenue_reporting,
        date_trunc('month', order_date)::date as order_month
    from {{ ref('fct_orders') }}
    where customer_key is not null and not is_cancelled
),

activity as (
    select
        customers.cohort_month,
        customers.first_channel_id,
        customers.customer_key,
        (
            (extract(year from orders.order_month) - extract(year from customers.cohort_month)) * 12
            + extract(month from orders.order_month) - extract(month from customers.cohort_month)
        )::integer as months_since_first,
        sum(orders.net_revenue_reporting) as net_revenue_reporting
    from customers
    inner join orders on customers.customer_key = orders.customer_key
    group by
        customers.cohort_month,
        customers.first_channel_id,
        customers.customer_key,
        months_since_first
),

sizes as (
    select
        cohort_month,
        coalesce(first_channel_id, 'all') as first_channel_id,
        count(*) as cohort_customers
    from customers
    group by grouping sets ((cohort_month, first_channel_id), (cohort_month))
),

-- the customers' last orders are the marts' last month (fct_orders is read once)
last_month as (
    select date_trunc('month', max(last_order_date))::date as order_month
    from customers
),

grid as (
    select
        sizes.cohort_month,
        sizes.first_channel_id,
        sizes.cohort_customers,
        months.months_since_first
    from sizes
    cross join last_month
    cross join lateral generate_series(
        0,
        (
            (extract(year from last_month.order_month) - extract(year from sizes.cohort_month)) * 12
            + extract(month from last_month.order_month) - extract(month from sizes.cohort_month)
        )::integer
    ) as months (months_since_first)
),

monthly as (
    select
        cohort_month,
        months_since_first,
        coalesce(first_channel_id, 'all') as first_channel_id,
        count(*) as active_customers,  -- activity has one row per customer and month
        sum(net_revenue_reporting) as net_revenue_reporting
    from activity
    group by grouping sets (
        (cohort_month, first_channel_id, months_since_first), (cohort_month, months_since_first)
    )
)

select
    grid.cohort_month,
    grid.first_channel_id,
    grid.months_since_first,
    grid.cohort_customers::integer as cohort_customers,
    coalesce(monthly.active_customers, 0)::integer as active_customers,
    round(coalesce(monthly.active_customers, 0)::numeric / grid.cohort_customers, 4)
    ::numeric(9, 4) as retention_rate,
    coalesce(monthly.net_revenue_reporting, 0)::numeric(18, 2) as net_revenue_reporting,
    round(
        sum(coalesce(monthly.net_revenue_reporting, 0)) over (
            partition by grid.cohort_month, grid.first_channel_id
            order by grid.months_since_first
        ) / grid.cohort_customers,
        2
    )::numeric(18, 2) as cumulative_net_revenue_per_customer,
    '{{ var("reporting_currency") }}'::text as reporting_currency
from grid
left join monthly
    on
        grid.cohort_month = monthly.cohort_month
        and grid.first_channel_id = monthly.first_channel_id
        and grid.months_since_first = monthly.months_since_first

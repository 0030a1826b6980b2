-- Recency, frequency and monetary value per identified customer, scored in quintiles
-- (5 is best: most recent, most orders, most net revenue) as of the last order day in the
-- marts, and named segments from the recency and frequency scores.
with customers as (
    select * from {{ ref('dim_customers') }}
),

as_of as (
    select max(last_order_date) as as_of_date from customers
),

measured as (
    select
        customers.customer_key,
        customers.first_channel_id,
        as_of.as_of_date,
        customers.orders_count as frequency,
        customers.net_revenue_reporting as monetary,
        (as_of.as_of_date - customers.last_order_date)::integer as recency_days
    from customers
    cross join as_of
),

scored as (
    select
        measured.*,
        ntile(5) over (order by measured.recency_days desc, measured.customer_key asc)::integer as recency_score,
        ntile(5) over (order by measured.frequency, measured.customer_key)::integer as frequency_score,
        ntile(5) over (order by measured.monetary, measured.customer_key)::integer as monetary_score
    from measured
)

select
    customer_key,
    first_channel_id,
    as_of_date,
    recency_days,
    frequency,
    monetary::numeric(18, 2) as monetary,
    recency_score,
    frequency_score,
    monetary_score,
    recency_score::text || frequency_score::text || monetary_score::text as rfm_cell,
    case
        when recency_score >= 4 and frequency_score >= 4 then 'champions'
        when recency_score >= 3 and frequency_score >= 3 then 'loyal'
        when recency_score >= 4 and frequency_score = 1 then 'new'
        when recency_score >= 3 then 'promising'
        when frequency_score >= 3 then 'at_risk'
        else 'hibernating'
    end as rfm_segment,
    '{{ var("reporting_currency") }}'::text as reporting_currency
from scored

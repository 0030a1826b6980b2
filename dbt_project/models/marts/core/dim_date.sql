{{ config(tags=["every_run"]) }}  -- reaches 90 days past today: built by every run
-- Calendar days from the first order or snapshot to 90 days after the last (forecasts
-- look ahead); also the time spine of the semantic layer.
with bounds as (
    select
        least(
            (select min(order_date) from {{ ref('fct_orders') }}),
            (select min(inventory_date) from {{ ref('fct_inventory_daily') }}),
            current_date
        ) as first_day,
        greatest(
            (select max(order_date) from {{ ref('fct_orders') }}),
            current_date
        ) + 90 as last_day
),

days as (
    select generate_series(first_day, last_day, interval '1 day')::date as date_day
    from bounds
)

select
    date_day,
    extract(isodow from date_day)::integer as iso_day_of_week,
    trim(to_char(date_day, 'Day')) as day_name,
    extract(isodow from date_day) in (6, 7) as is_weekend,
    date_trunc('week', date_day)::date as week_start,
    date_trunc('month', date_day)::date as month_start,
    date_trunc('quarter', date_day)::date as quarter_start,
    extract(year from date_day)::integer as calendar_year
from days

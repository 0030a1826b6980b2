-- One rate per currency and calendar day, from the first published rate to today:
-- days without a publication (weekends, holidays) carry the last rate forward.
-- to_reporting converts an amount in `currency` into var('reporting_currency').
with rates as (
    select * from {{ ref('stg_reference__fx_rates') }}
),

days as (
    select generate_series(
        (select min(rate_date) from rates),
        greatest((select max(rate_date) from rates), current_date),
        interval '1 day'
    )::date as rate_date
),

currencies as (
    select distinct currency from rates
),

filled as (
    select
        days.rate_date,
        currencies.currency,
        (
            select rates.usd_per_unit
            from rates
            where rates.currency = currencies.currency and rates.rate_date <= days.rate_date
            order by rates.rate_date desc
            limit 1
        ) as usd_per_unit
    from days
    cross join currencies
)

select
    filled.rate_date,
    filled.currency,
    filled.usd_per_unit,
    '{{ var("reporting_currency") }}'::text as reporting_currency,
    filled.usd_per_unit / reporting.usd_per_unit as to_reporting
from filled
inner join filled as reporting
    on
        filled.rate_date = reporting.rate_date
        and reporting.currency = '{{ var("reporting_currency") }}'
where filled.usd_per_unit is not null

-- Uplift of promoted days per channel and SKU. A promoted day is a day the SKU sold with
-- a discount on that channel. Its baseline is the average units of the same SKU and
-- channel on comparable days: the same weekday, without a promotion, within the SKU's
-- selling span. Uplift = units on promoted days / their baselines - 1.
with lines as (
    select * from {{ ref('fct_order_lines') }}
    where not is_cancelled and sku is not null
),

sold as (
    select
        channel_id,
        sku,
        order_date,
        sum(units) as units,
        bool_or(is_promoted) as is_promoted
    from lines
    group by channel_id, sku, order_date
),

spans as (
    select
        channel_id,
        sku,
        min(order_date) as first_day,
        max(order_date) as last_day
    from sold
    group by channel_id, sku
),

days as (
    select
        spans.channel_id,
        spans.sku,
        series_day::date as order_date,
        extract(isodow from series_day)::integer as iso_weekday
    from spans
    cross join lateral generate_series(spans.first_day, spans.last_day, interval '1 day') as series_day
),

daily as (
    select
        days.*,
        coalesce(sold.units, 0) as units,
        coalesce(sold.is_promoted, false) as is_promoted
    from days
    left join sold
        on
            days.channel_id = sold.channel_id
            and days.sku = sold.sku
            and days.order_date = sold.order_date
),

baselines as (
    select
        channel_id,
        sku,
        iso_weekday,
        avg(units) as baseline_units,
        count(*) as baseline_days
    from daily
    where not is_promoted
    group by channel_id, sku, iso_weekday
),

promoted as (
    select
        daily.channel_id,
        daily.sku,
        count(*)::integer as promoted_days,
        sum(daily.units)::integer as promoted_units,
        sum(baselines.baseline_units) as baseline_units,
        min(baselines.baseline_days)::integer as min_baseline_days
    from daily
    inner join baselines
        on
            daily.channel_id = baselines.channel_id
            and daily.sku = baselines.sku
            and daily.iso_weekday = baselines.iso_weekday
    where daily.is_promoted
    group by daily.channel_id, daily.sku
)

select
    channel_id,
    sku,
    promoted_days,
    promoted_units,
    min_baseline_days,
    round(baseline_units, 2)::numeric(12, 2) as baseline_units,
    round(promoted_units / nullif(baseline_units, 0) - 1, 4)::numeric(12, 4) as uplift
from promoted

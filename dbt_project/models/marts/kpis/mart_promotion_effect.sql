-- Uplift of promoted days per channel and SKU. A promoted day is a day the SKU sold with
-- a discount on that channel. Its baseline is the average units of the same SKU and
-- channel on comparable days: the same weekday, without a promotion, within the SKU's
-- selling span. Uplift = units on promoted days / their baselines - 1.
with sold as (
    select
        channel_id,
        sku,
        order_date,
        sum(units) as units,
        bool_or(is_promoted) as is_promoted
    from {{ ref('fct_sales_daily') }}
    where sku is not null and units > 0
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

weekdays as (
    -- days of each weekday in the SKU's selling span, counted rather than joined day by day
    select
        spans.channel_id,
        spans.sku,
        extract(isodow from series_day)::integer as iso_weekday,
        count(*) as span_days
    from spans
    cross join lateral generate_series(spans.first_day, spans.last_day, interval '1 day') as series_day
    group by spans.channel_id, spans.sku, extract(isodow from series_day)
),

sold_by_weekday as (
    select
        channel_id,
        sku,
        extract(isodow from order_date)::integer as iso_weekday,
        count(*) filter (where is_promoted) as promoted_days,
        coalesce(sum(units) filter (where is_promoted), 0) as promoted_units,
        coalesce(sum(units) filter (where not is_promoted), 0) as unpromoted_units
    from sold
    group by channel_id, sku, extract(isodow from order_date)
),

baselines as (
    -- a weekday's baseline: its units without a promotion over its days without one
    -- (days without a sale count, as zeros)
    select
        sold_by_weekday.channel_id,
        sold_by_weekday.sku,
        sold_by_weekday.iso_weekday,
        sold_by_weekday.promoted_days,
        sold_by_weekday.promoted_units,
        weekdays.span_days - sold_by_weekday.promoted_days as baseline_days,
        sold_by_weekday.unpromoted_units::numeric
        / (weekdays.span_days - sold_by_weekday.promoted_days) as baseline_units
    from sold_by_weekday
    inner join weekdays
        on
            sold_by_weekday.channel_id = weekdays.channel_id
            and sold_by_weekday.sku = weekdays.sku
            and sold_by_weekday.iso_weekday = weekdays.iso_weekday
    where
        sold_by_weekday.promoted_days > 0
        and weekdays.span_days > sold_by_weekday.promoted_days
),

promoted as (
    select
        channel_id,
        sku,
        sum(promoted_days)::integer as promoted_days,
        sum(promoted_units)::integer as promoted_units,
        sum(baseline_units * promoted_days) as baseline_units,
        min(baseline_days)::integer as min_baseline_days
    from baselines
    group by channel_id, sku
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

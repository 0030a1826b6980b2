-- Daily demand forecast per SKU × channel (and per SKU over every channel, channel_id
-- 'all') of the latest succeeded forecast run, with its model and intervals.
with latest_run as (
    select
        run_id,
        as_of_date
    from {{ ref('stg_forecast__runs') }}
    where status = 'succeeded'
    order by finished_at desc
    limit 1
)

select
    forecasts.run_id,
    latest_run.as_of_date,
    forecasts.channel_id,
    forecasts.sku,
    forecasts.forecast_date,
    forecasts.horizon_day,
    forecasts.model,
    forecasts.demand_class,
    forecasts.is_short_history,
    forecasts.units,
    forecasts.lower_80,
    forecasts.upper_80,
    forecasts.lower_95,
    forecasts.upper_95,
    forecasts.error_sigma
from {{ ref('stg_forecast__demand_forecasts') }} as forecasts
inner join latest_run on forecasts.run_id = latest_run.run_id

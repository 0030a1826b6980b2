-- Backtest accuracy of the latest forecast run per series (SKU × channel) and model, the
-- chosen model and the seasonal-naive baseline flagged, with the baseline's WAPE beside
-- every row so that the improvement reads off one row.
with scores as (
    select * from {{ ref('stg_forecast__backtest_scores') }}
    where run_id = (select max(run_id) from {{ ref('mart_demand_forecast') }})  -- noqa: RF02
),

baseline as (
    select
        channel_id,
        sku,
        wape as baseline_wape
    from scores
    where is_baseline
),

runs as (
    select
        run_id,
        as_of_date
    from {{ ref('stg_forecast__runs') }}
)

select
    scores.run_id,
    runs.as_of_date,
    scores.channel_id,
    scores.sku,
    scores.model,
    scores.is_chosen,
    scores.is_baseline,
    scores.demand_class,
    scores.origins,
    scores.actual_units,
    scores.abs_error_units,
    scores.wape,
    scores.mase,
    scores.bias,
    baseline.baseline_wape,
    round(1 - scores.wape / nullif(baseline.baseline_wape, 0), 4)::numeric(12, 4)
        as wape_improvement
from scores
inner join runs on scores.run_id = runs.run_id
left join baseline on scores.channel_id = baseline.channel_id and scores.sku = baseline.sku

select
    run_id,
    channel_id,
    sku,
    forecast_date,
    horizon_day,
    model,
    demand_class,
    is_short_history,
    units,
    lower_80,
    upper_80,
    lower_95,
    upper_95,
    error_sigma
from {{ source('forecast', 'demand_forecasts') }}

select
    run_id,
    channel_id,
    sku,
    model,
    is_chosen,
    is_baseline,
    demand_class,
    origins,
    actual_units,
    abs_error_units,
    wape,
    mase,
    bias
from {{ source('forecast', 'backtest_scores') }}

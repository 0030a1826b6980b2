select
    run_id,
    started_at,
    finished_at,
    as_of_date,
    horizon_days,
    backtest_origins,
    series,
    seconds,
    status
from {{ source('forecast', 'runs') }}

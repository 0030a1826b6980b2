select
    rate_date,
    currency,
    usd_per_unit
from {{ source('reference', 'fx_rates') }}

select
    channel_id,
    kind,
    timezone,
    currency,
    channel_type,
    traffic_of,
    role = 'sales' as is_sales_channel
from {{ ref('stg_ops__channels') }}

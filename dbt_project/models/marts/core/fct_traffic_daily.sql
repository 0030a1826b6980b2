select
    channel_id,
    traffic_date,
    traffic_source,
    sessions,
    add_to_carts
from {{ ref('int_traffic_unioned') }}

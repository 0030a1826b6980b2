select
    channel_id,
    kind,
    timezone,
    currency,
    role,
    channel_type,
    options ->> 'traffic_of' as traffic_of
from {{ source('ops', 'channels') }}

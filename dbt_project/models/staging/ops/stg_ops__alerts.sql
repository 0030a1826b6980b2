select
    alert_id,
    kind,
    severity,
    status,
    channel_id,
    stream,
    message,
    first_seen,
    last_seen,
    occurrences,
    resolved_at
from {{ source('ops', 'alerts') }}

-- GA4 sessions per property day and default channel group. The property is a channel
-- instance of its own; which web store it measures is read in the traffic area.
with traffic as (
    select * from {{ source('ga4', 'ga4__traffic') }}
)

select
    traffic.channel_id as property_channel_id,
    traffic.report_date as traffic_date,
    traffic.channel_group,
    traffic.sessions,
    traffic.total_users,
    traffic.add_to_carts,
    traffic.purchases,
    traffic.purchase_revenue,
    traffic.currency,
    traffic.time_zone,
    traffic.as_of,
    traffic.published_at
from traffic

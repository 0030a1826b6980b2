-- GA4 sessions per property day and default channel group. options.traffic_of of the GA4
-- channel instance names the sales channel whose web store the property measures.
with traffic as (
    select * from {{ source('ga4', 'ga4__traffic') }}
),

properties as (
    select
        channel_id,
        traffic_of
    from {{ ref('stg_ops__channels') }}
    where kind = 'ga4'
)

select
    traffic.channel_id as property_channel_id,
    properties.traffic_of as channel_id,
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
inner join properties on traffic.channel_id = properties.channel_id

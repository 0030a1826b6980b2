-- Sessions per channel and local day: web sessions of the GA4 property that measures a
-- web store, marketplace sessions from Amazon's Sales and Traffic report, store visitors
-- from door counters.
with properties as (
    -- a web analytics property (a channel instance of its own) measures the web store its
    -- options.traffic_of names
    select
        channel_id as property_channel_id,
        traffic_of as channel_id
    from {{ ref('stg_ops__channels') }}
    where traffic_of is not null
),

web as (
    select
        properties.channel_id,
        traffic.traffic_date,
        'ga4' as traffic_source,
        sum(traffic.sessions)::integer as sessions,
        sum(traffic.add_to_carts)::integer as add_to_carts,
        max(traffic.published_at) as published_at
    from {{ ref('stg_ga4__traffic') }} as traffic
    inner join properties on traffic.property_channel_id = properties.property_channel_id
    group by properties.channel_id, traffic.traffic_date
),

marketplace as (
    select
        channel_id,
        traffic_date,
        'amazon_sales_traffic' as traffic_source,
        sessions,
        null::integer as add_to_carts,
        published_at
    from {{ ref('stg_amazon_sp__sales_traffic') }}
),

stores as (
    select
        channel_id,
        traffic_date,
        'door_counter' as traffic_source,
        sum(visitors)::integer as sessions,
        null::integer as add_to_carts,
        max(published_at) as published_at
    from {{ ref('stg_files__footfall') }}
    group by channel_id, traffic_date
)

select * from web
union all
select * from marketplace
union all
select * from stores

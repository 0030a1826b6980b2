select
    channels.channel_id,
    channels.kind,
    channels.timezone,
    channels.currency,
    channels.kind in ('shopify', 'amazon_sp', 'woocommerce', 'pos_files') as is_sales_channel,
    case channels.kind
        when 'shopify' then 'web_store'
        when 'woocommerce' then 'web_store'
        when 'amazon_sp' then 'marketplace'
        when 'pos_files' then 'physical_store'
        when 'ga4' then 'web_analytics'
    end as channel_type,
    channels.options ->> 'traffic_of' as traffic_of
from {{ source('ops', 'channels') }} as channels

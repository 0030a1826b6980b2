select
    channel_id,
    report_date as traffic_date,
    as_of,
    sessions,
    page_views,
    units_ordered,
    total_order_items,
    ordered_product_sales,
    currency,
    buy_box_percentage,
    unit_session_percentage,
    published_at
from {{ source('amazon_sp', 'amazon_sp__sales_traffic') }}

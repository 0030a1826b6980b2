select
    channel_id,
    refund_id,
    refund_line_id,
    order_id,
    sku,
    published_at,
    date_created_gmt at time zone 'UTC' as refunded_at,
    -quantity as units,
    -subtotal as refunded_merchandise,
    -total_tax as refunded_tax
from {{ source('woocommerce', 'woocommerce__refunds') }}
-- records deleted at the source (a corrected file, a deleted refund) stay in raw, marked
where deleted_at is null

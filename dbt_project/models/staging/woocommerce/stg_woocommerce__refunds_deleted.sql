-- Refund lines the shop deleted (an order read again no longer lists the refund): kept in
-- raw and marked (deleted_at). Incremental models read them to rebuild the order they
-- refunded; nothing else counts them.
select
    channel_id,
    refund_id,
    refund_line_id,
    order_id,
    deleted_at,
    published_at
from {{ source('woocommerce', 'woocommerce__refunds') }}
where deleted_at is not null

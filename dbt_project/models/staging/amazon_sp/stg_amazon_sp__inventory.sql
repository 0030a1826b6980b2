-- FBA stock: Amazon's fulfilment network of the marketplace is one stock location,
-- named <channel_id>_fba.
select
    channel_id,
    snapshot_date,
    snapshot_at,
    seller_sku,
    asin,
    fn_sku,
    fulfillable_quantity as available,
    inbound_quantity,
    reserved_quantity,
    unfulfillable_quantity,
    total_quantity,
    published_at,
    channel_id || '_fba' as location_id,
    total_quantity - coalesce(inbound_quantity, 0) as on_hand
from {{ source('amazon_sp', 'amazon_sp__inventory') }}

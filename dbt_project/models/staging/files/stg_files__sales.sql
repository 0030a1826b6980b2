select
    channel_id,
    store_id,
    receipt_no,
    line_no,
    business_date as order_date,
    sold_at,
    pos_code,
    sku,
    currency,
    quantity as units,
    discount as discounts,
    line_total,
    published_at,
    return_of is not null as is_return,
    coalesce(return_of, receipt_no) as sale_receipt_no,
    store_id || '/' || coalesce(return_of, receipt_no) as order_id,
    nullif(lower(trim(loyalty_email)), '') as email,
    unit_price * quantity as gross_merchandise_value,
    coalesce(vat_amount, 0) as tax,
    line_total - coalesce(vat_amount, 0) as net_merchandise
from {{ source('files', 'files__sales') }}
-- records deleted at the source (a corrected file, a deleted refund) stay in raw, marked
where deleted_at is null

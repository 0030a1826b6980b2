-- Orders of which records were deleted at the source (a refund deleted in the shop, lines
-- dropped from a corrected store export), with the last time that was published. An
-- incremental run rebuilds those published since its cutoff; an order of which nothing
-- is left (`is_gone`: no sale line of a store receipt remains) is deleted from the
-- incremental models keyed by order (macro delete_gone_orders), since delete+insert only
-- replaces the orders a run rebuilds.
with store_lines as (
    select
        channel_id,
        order_id,
        store_id,
        sale_receipt_no,
        min(order_date) filter (where not is_return) as order_date,
        max(published_at) as published_at
    from {{ ref('stg_files__sales_deleted') }}
    group by channel_id, order_id, store_id, sale_receipt_no
),

stores as (
    select
        deleted.channel_id,
        deleted.order_id,
        deleted.order_date,
        deleted.published_at,
        not exists (
            select from {{ ref('stg_files__sales') }} as live
            where
                live.channel_id = deleted.channel_id
                and live.store_id = deleted.store_id
                and live.receipt_no = deleted.sale_receipt_no
                and not live.is_return
        ) as is_gone
    from store_lines as deleted
),

woocommerce as (
    -- the order itself stays: it is read again with its remaining refunds
    select
        channel_id,
        order_id::text as order_id,
        null::date as order_date,
        max(published_at) as published_at,
        false as is_gone
    from {{ ref('stg_woocommerce__refunds_deleted') }}
    group by channel_id, order_id
)

select * from stores
union all
select * from woocommerce

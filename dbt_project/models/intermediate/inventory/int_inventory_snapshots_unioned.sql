-- Units on hand per stock location, SKU and the local day a snapshot closes, from every
-- channel that reports stock: Shopify locations, Amazon FBA, store counts. (WooCommerce
-- reports only the current stock of a product, not a daily history.)
with crosswalk as (
    select * from {{ ref('int_products_mapped') }}
),

snapshots as (
    select
        shopify.channel_id,
        shopify.location_id,
        shopify.snapshot_date,
        coalesce(crosswalk.sku, shopify.sku) as sku,
        shopify.on_hand,
        shopify.published_at
    from {{ ref('stg_shopify__inventory') }} as shopify
    left join crosswalk
        on
            shopify.channel_id = crosswalk.channel_id
            and crosswalk.id_type = 'inventory_item_id'
            and shopify.inventory_item_id = crosswalk.channel_product_id
    union all
    select
        amazon.channel_id,
        amazon.location_id,
        amazon.snapshot_date,
        crosswalk.sku,
        amazon.on_hand,
        amazon.published_at
    from {{ ref('stg_amazon_sp__inventory') }} as amazon
    left join crosswalk
        on
            amazon.channel_id = crosswalk.channel_id
            and crosswalk.id_type = 'seller_sku'
            and amazon.seller_sku = crosswalk.channel_product_id
    union all
    select
        stores.channel_id,
        stores.location_id,
        stores.snapshot_date,
        crosswalk.sku,
        stores.on_hand,
        stores.published_at
    from {{ ref('stg_files__stock') }} as stores
    left join crosswalk
        on
            stores.channel_id = crosswalk.channel_id
            and crosswalk.id_type = 'barcode'
            and stores.barcode = crosswalk.channel_product_id
)

select * from snapshots

-- The SKU crosswalk: every id a channel uses for a product, mapped to the brand's SKU.
-- Channels that carry our SKU (Shopify, WooCommerce) map their own ids through it; the
-- product master maps what channels do not share (Amazon seller SKU and ASIN, the
-- barcode that is a till's only product code).
with channels as (
    select
        channel_id,
        kind
    from {{ ref('stg_ops__channels') }}
),

master as (
    select * from {{ ref('stg_reference__products') }}
),

shopify as (
    select
        channel_id,
        'variant_id' as id_type,
        variant_id as channel_product_id,
        sku
    from {{ ref('stg_shopify__products') }}
    where sku is not null
    union all
    select
        channel_id,
        'inventory_item_id' as id_type,
        inventory_item_id as channel_product_id,
        sku
    from {{ ref('stg_shopify__products') }}
    where sku is not null and inventory_item_id is not null
),

woocommerce as (
    select
        channel_id,
        'product_id' as id_type,
        product_id as channel_product_id,
        sku
    from {{ ref('stg_woocommerce__products') }}
    where sku is not null
),

amazon as (
    select
        channels.channel_id,
        ids.id_type,
        ids.channel_product_id,
        master.sku
    from master
    cross join
        lateral (
            values ('seller_sku', master.amazon_seller_sku), ('asin', master.asin)
        ) as ids (id_type, channel_product_id)
    inner join channels on channels.kind = 'amazon_sp'
    where ids.channel_product_id is not null
),

stores as (
    select
        channels.channel_id,
        'barcode' as id_type,
        master.barcode as channel_product_id,
        master.sku
    from master
    inner join channels on channels.kind = 'files'
    where master.barcode is not null
)

select * from shopify
union all
select * from woocommerce
union all
select * from amazon
union all
select * from stores

-- One row per order line of every channel, mapped to the brand's SKU, money in the
-- channel's currency: gross merchandise and discounts priced as the channel prices them
-- (VAT inside where prices include it), net merchandise without tax.
with crosswalk as (
    select * from {{ ref('int_products_mapped') }}
),

channels as (
    select
        channel_id,
        timezone
    from {{ ref('stg_ops__channels') }}
),

shopify as (
    select
        channel_id,
        order_id,
        line_id,
        created_at,
        is_cancelled,
        'variant_id' as id_type,
        coalesce(variant_id, sku) as channel_product_id,
        sku as channel_sku,
        currency,
        units,
        gross_merchandise_value,
        discounts,
        net_merchandise,
        published_at
    from {{ ref('stg_shopify__order_lines') }}
),

amazon as (
    select
        channel_id,
        order_id,
        order_item_id as line_id,
        created_at,
        is_cancelled,
        'seller_sku' as id_type,
        seller_sku as channel_product_id,
        null::text as channel_sku,
        currency,
        units,
        gross_merchandise_value,
        discounts,
        net_merchandise,
        published_at
    from {{ ref('stg_amazon_sp__order_items') }}
),

woocommerce as (
    select
        channel_id,
        order_id,
        line_id,
        created_at,
        is_cancelled,
        'product_id' as id_type,
        product_id as channel_product_id,
        sku as channel_sku,
        currency,
        units,
        gross_merchandise_value,
        discounts,
        net_merchandise,
        published_at
    from {{ ref('stg_woocommerce__order_lines') }}
),

stores as (
    select
        sales.channel_id,
        sales.order_id,
        sales.line_no::text as line_id,
        sales.order_date,
        sales.sold_at at time zone channels.timezone as created_at,
        false as is_cancelled,
        'barcode' as id_type,
        sales.pos_code as channel_product_id,
        -- a line an ERP or wholesale export names by the brand's SKU, not by barcode
        sales.sku as channel_sku,
        sales.currency,
        sales.units,
        sales.gross_merchandise_value,
        sales.discounts,
        sales.net_merchandise,
        sales.published_at
    from {{ ref('stg_files__sales') }} as sales
    inner join channels on sales.channel_id = channels.channel_id
    where not sales.is_return
),

-- lines read from an API carry a UTC timestamp: their reporting day is the channel's
-- local day of it (store receipts state their business day)
online as (
    select * from shopify
    union all
    select * from amazon
    union all
    select * from woocommerce
),

online_dated as (
    select
        online.channel_id,
        online.order_id,
        online.line_id,
        {{ local_date('online.created_at', 'channels.timezone') }} as order_date,
        online.created_at,
        online.is_cancelled,
        online.id_type,
        online.channel_product_id,
        online.channel_sku,
        online.currency,
        online.units,
        online.gross_merchandise_value,
        online.discounts,
        online.net_merchandise,
        online.published_at
    from online
    inner join channels on online.channel_id = channels.channel_id
),

lines as (
    select * from online_dated
    union all
    select * from stores
)

select
    lines.channel_id,
    lines.order_id,
    lines.line_id,
    lines.order_date,
    lines.created_at,
    lines.is_cancelled,
    lines.id_type,
    lines.channel_product_id,
    lines.currency,
    lines.units,
    lines.gross_merchandise_value,
    lines.discounts,
    lines.net_merchandise,
    lines.published_at,
    coalesce(crosswalk.sku, lines.channel_sku) as sku
from lines
left join crosswalk
    on
        lines.channel_id = crosswalk.channel_id
        and lines.id_type = crosswalk.id_type
        and lines.channel_product_id = crosswalk.channel_product_id

-- One row per order line of every channel, mapped to the brand's SKU, money in the
-- channel's currency: gross merchandise and discounts priced as the channel prices them
-- (VAT inside where prices include it), net merchandise without tax.
with crosswalk as (
    select * from {{ ref('int_products_mapped') }}
),

shopify as (
    select
        channel_id,
        order_id,
        line_id,
        order_date,
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
        order_date,
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
        order_date,
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
        null::text as channel_sku,
        sales.currency,
        sales.units,
        sales.gross_merchandise_value,
        sales.discounts,
        sales.net_merchandise,
        sales.published_at
    from {{ ref('stg_pos_files__sales') }} as sales
    inner join {{ ref('stg_ops__channels') }} as channels
        on sales.channel_id = channels.channel_id
    where not sales.is_return
),

lines as (
    select * from shopify
    union all
    select * from amazon
    union all
    select * from woocommerce
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

-- One row per SKU of the product master, with its unit cost in the reporting currency
-- (at the latest rate) and the channels that list it.
with master as (
    select * from {{ ref('stg_reference__products') }}
),

latest_rates as (
    select distinct on (currency)
        currency,
        to_reporting
    from {{ ref('int_fx_rates_filled') }}
    order by currency asc, rate_date desc
),

listings as (
    select
        sku,
        count(distinct channel_id)::integer as listed_channels
    from {{ ref('int_products_mapped') }}
    where id_type in ('variant_id', 'product_id', 'seller_sku')
    group by sku
)

select
    master.sku,
    master.title,
    master.category,
    master.brand,
    master.barcode,
    master.asin,
    master.amazon_seller_sku,
    master.launch_date,
    master.unit_cost,
    master.cost_currency,
    round(master.unit_cost * latest_rates.to_reporting, 2)::numeric(18, 2)
        as unit_cost_reporting,
    '{{ var("reporting_currency") }}'::text as reporting_currency,
    coalesce(listings.listed_channels, 0) as listed_channels
from master
left join latest_rates on master.cost_currency = latest_rates.currency
left join listings on master.sku = listings.sku

select
    sku,
    title,
    category,
    brand,
    barcode,
    asin,
    amazon_seller_sku,
    unit_cost,
    cost_currency,
    launch_date
from {{ source('reference', 'products') }}

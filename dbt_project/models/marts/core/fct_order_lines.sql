{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['channel_id', 'order_id'],
        on_schema_change='fail',
        indexes=[{'columns': ['published_at']}, {'columns': ['channel_id', 'order_id']}],
        post_hook="{{ delete_gone_orders() }}",
    )
}}
-- depends_on: {{ ref('int_orders_deleted') }}
-- One row per order line, mapped to the brand's SKU, with cost and margin. Incremental:
-- a run takes the orders published since the last run (less a lookback) and replaces all
-- lines of each such order, so an edited order loses the lines it no longer has; an
-- order of which nothing is left at the source is deleted (macro delete_gone_orders).
with lines as (
    select * from {{ ref('int_order_lines_unioned') }}
    {% if is_incremental() %}
        where published_at > {{ incremental_cutoff() }}
    {% endif %}
),

locations as (
    -- where a channel ships from when it has one stock location (stores: the till's store)
    select
        channel_id,
        min(location_id) as location_id
    from {{ ref('int_inventory_snapshots_unioned') }}
    group by channel_id
    having count(distinct location_id) = 1
),

rates as (
    select * from {{ ref('int_fx_rates_filled') }}
),

costs as (
    select
        products.sku,
        products.unit_cost,
        products.cost_currency
    from {{ ref('stg_reference__products') }} as products
)

select
    lines.channel_id,
    lines.order_id,
    lines.line_id,
    lines.order_date,
    lines.created_at,
    lines.is_cancelled,
    lines.sku,
    lines.id_type,
    lines.channel_product_id,
    case
        when channels.kind = 'files' then split_part(lines.order_id, '/', 1)
        else locations.location_id
    end as location_id,
    lines.currency,
    lines.units::integer as units,
    lines.gross_merchandise_value::numeric(18, 2) as gmv,
    lines.discounts::numeric(18, 2) as discounts,
    lines.net_merchandise::numeric(18, 2) as net_merchandise,
    lines.discounts > 0 as is_promoted,
    '{{ var("reporting_currency") }}'::text as reporting_currency,
    {{ to_reporting_currency('lines.gross_merchandise_value', 'rates') }}::numeric(18, 2)
        as gmv_reporting,
    {{ to_reporting_currency('lines.net_merchandise', 'rates') }}::numeric(18, 2)
        as net_merchandise_reporting,
    round(lines.units * costs.unit_cost * cost_rates.to_reporting, 2)::numeric(18, 2)
        as cost_reporting,
    (
        {{ to_reporting_currency('lines.net_merchandise', 'rates') }}
        - round(lines.units * costs.unit_cost * cost_rates.to_reporting, 2)
    )::numeric(18, 2) as margin_reporting,
    lines.published_at
from lines
inner join {{ ref('stg_ops__channels') }} as channels on lines.channel_id = channels.channel_id
left join locations on lines.channel_id = locations.channel_id
left join rates on lines.currency = rates.currency and lines.order_date = rates.rate_date
left join costs on lines.sku = costs.sku
left join rates as cost_rates
    on costs.cost_currency = cost_rates.currency and lines.order_date = cost_rates.rate_date

-- Per SKU and channel: units, revenue, cost and margin in the reporting currency over
-- every day sold in the marts (cancelled orders excluded), the ABC class by share of
-- the channel's net merchandise (A: the SKUs making the first 80%, B: the next 15%,
-- C: the rest) and sell-through against the stock the channel holds now.
with per_sku as (
    select
        channel_id,
        sku,
        sum(units)::integer as units,
        sum(orders_count)::integer as orders_count,
        sum(gmv_reporting) as gmv_reporting,
        sum(net_merchandise_reporting) as net_merchandise_reporting,
        sum(cost_reporting) as cost_reporting,
        sum(margin_reporting) as margin_reporting
    from {{ ref('fct_sales_daily') }}
    where sku is not null
    group by channel_id, sku
    having sum(units) > 0
),

ranked as (
    select
        per_sku.*,
        per_sku.net_merchandise_reporting
        / nullif(sum(per_sku.net_merchandise_reporting) over (partition by per_sku.channel_id), 0)
            as revenue_share,
        sum(per_sku.net_merchandise_reporting)
            over (
                partition by per_sku.channel_id
                order by per_sku.net_merchandise_reporting desc, per_sku.sku asc
                rows between unbounded preceding and 1 preceding
            )
        / nullif(sum(per_sku.net_merchandise_reporting) over (partition by per_sku.channel_id), 0)
            as share_before
    from per_sku
),

-- every SKU of a location has a row on the location's latest day (carried forward)
latest_days as (
    select
        location_id,
        max(inventory_date) as inventory_date
    from {{ ref('fct_inventory_daily') }}
    group by location_id
),

latest_stock as (
    select
        inventory.channel_id,
        inventory.sku,
        inventory.on_hand
    from {{ ref('fct_inventory_daily') }} as inventory
    inner join latest_days
        on
            inventory.location_id = latest_days.location_id
            and inventory.inventory_date = latest_days.inventory_date
),

stock as (
    select
        channel_id,
        sku,
        sum(on_hand)::integer as on_hand
    from latest_stock
    group by channel_id, sku
)

select
    ranked.channel_id,
    ranked.sku,
    ranked.units,
    ranked.orders_count,
    ranked.gmv_reporting::numeric(18, 2) as gmv_reporting,
    ranked.net_merchandise_reporting::numeric(18, 2) as net_merchandise_reporting,
    ranked.cost_reporting::numeric(18, 2) as cost_reporting,
    ranked.margin_reporting::numeric(18, 2) as margin_reporting,
    round(ranked.margin_reporting / nullif(ranked.net_merchandise_reporting, 0), 4)
    ::numeric(9, 4) as margin_rate,
    round(ranked.revenue_share, 4)::numeric(9, 4) as revenue_share,
    case
        when coalesce(ranked.share_before, 0) < 0.80 then 'A'
        when ranked.share_before < 0.95 then 'B'
        else 'C'
    end as abc_class,
    stock.on_hand,
    round(ranked.units::numeric / nullif(ranked.units + stock.on_hand, 0), 4)::numeric(9, 4)
        as sell_through,
    '{{ var("reporting_currency") }}'::text as reporting_currency
from ranked
left join stock on ranked.channel_id = stock.channel_id and ranked.sku = stock.sku

-- Per SKU and stock location, on the location's latest day: units on hand, demand over the
-- last var('demand_window_days') days, days of cover, turnover, stock-out days, estimated
-- lost sales and the stock-out risk flag. Average daily demand is measured on in-stock
-- days only: a day without stock sells nothing and says nothing about demand.
-- (only the window's days are read: the stock by its index on location and day)
with latest as (
    select
        location_id,
        max(inventory_date) as as_of_date
    from {{ ref('fct_inventory_daily') }}
    group by location_id
),

windowed as (
    select
        inventory.*,
        latest.as_of_date
    from {{ ref('fct_inventory_daily') }} as inventory
    inner join latest on inventory.location_id = latest.location_id
    where inventory.inventory_date > latest.as_of_date - {{ var('demand_window_days') }}
),

sales as (
    select
        location_id,
        sku,
        order_date,
        sum(units) as units,
        sum(net_merchandise_reporting) as net_merchandise_reporting
    from {{ ref('fct_sales_daily') }}
    where
        location_id is not null
        and sku is not null
        and order_date > (select min(latest.as_of_date) from latest) - {{ var('demand_window_days') }}
    group by location_id, sku, order_date
),

daily as (
    select
        windowed.location_id,
        windowed.sku,
        windowed.as_of_date,
        windowed.inventory_date,
        windowed.on_hand,
        windowed.is_stocked_out,
        coalesce(sales.units, 0) as units_sold,
        coalesce(sales.net_merchandise_reporting, 0) as net_merchandise_reporting
    from windowed
    left join sales
        on
            windowed.location_id = sales.location_id
            and windowed.sku = sales.sku
            and windowed.inventory_date = sales.order_date
),

measured as (
    select
        location_id,
        sku,
        as_of_date,
        max(on_hand) filter (where inventory_date = as_of_date) as on_hand,
        count(*)::integer as window_days,
        count(*) filter (where is_stocked_out)::integer as stockout_days,
        sum(units_sold)::integer as units_sold,
        sum(units_sold) filter (where not is_stocked_out) as units_sold_in_stock,
        count(*) filter (where not is_stocked_out) as in_stock_days,
        avg(on_hand) as avg_on_hand,
        sum(net_merchandise_reporting) / nullif(sum(units_sold), 0) as avg_unit_revenue
    from daily
    group by location_id, sku, as_of_date
),

rated as (
    select
        measured.*,
        coalesce(measured.units_sold_in_stock, 0)::numeric / nullif(measured.in_stock_days, 0)
            as avg_daily_demand
    from measured
)

select
    location_id,
    sku,
    as_of_date,
    on_hand,
    window_days,
    units_sold,
    coalesce(units_sold_in_stock, 0)::integer as units_sold_in_stock,
    in_stock_days::integer as in_stock_days,
    round(avg_daily_demand, 4)::numeric(12, 4) as avg_daily_demand,
    round(on_hand / nullif(avg_daily_demand, 0), 1)::numeric(12, 1) as days_of_cover,
    round(units_sold / nullif(avg_on_hand, 0), 4)::numeric(12, 4) as turnover,
    stockout_days,
    round(stockout_days * coalesce(avg_daily_demand, 0), 1)::numeric(12, 1)
        as estimated_lost_units,
    round(stockout_days * coalesce(avg_daily_demand, 0) * coalesce(avg_unit_revenue, 0), 2)
    ::numeric(18, 2) as estimated_lost_sales_reporting,
    on_hand <= 0
    or on_hand / nullif(avg_daily_demand, 0) < {{ var('stockout_risk_days') }}
        as is_stockout_risk,
    '{{ var("reporting_currency") }}'::text as reporting_currency
from rated

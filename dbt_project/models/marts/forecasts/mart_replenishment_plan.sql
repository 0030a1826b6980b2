-- Per SKU × stock location: what to order now. The location's daily demand is the
-- forecast of every channel it serves, by the channel's share of units shipped from it
-- over the last var('demand_window_days') days (a channel that does not say where it
-- ships from: split evenly over its locations). Safety stock covers the forecast error
-- over the lead time at the service level; the order brings stock up to the demand of
-- the lead time and the review period plus safety stock. Open purchase orders are not
-- known to the warehouse: the plan assumes none.
with forecasts as (
    select * from {{ ref('mart_demand_forecast') }}
    where channel_id != 'all'
),

channel_locations as (
    select distinct
        channel_id,
        location_id
    from {{ ref('fct_inventory_daily') }}
),

recent_sales as (
    select
        channel_id,
        location_id,
        sum(units) as units
    from {{ ref('fct_sales_daily') }}
    where
        location_id is not null
        and order_date > (select max(order_date) from {{ ref('fct_sales_daily') }})  -- noqa: RF02
        - {{ var('demand_window_days') }}
    group by channel_id, location_id
),

shares as (
    select
        channel_locations.channel_id,
        channel_locations.location_id,
        coalesce(
            recent_sales.units::numeric
            / nullif(sum(recent_sales.units) over (partition by channel_locations.channel_id), 0),
            1.0 / count(*) over (partition by channel_locations.channel_id)
        ) as channel_share
    from channel_locations
    left join recent_sales
        on
            channel_locations.channel_id = recent_sales.channel_id
            and channel_locations.location_id = recent_sales.location_id
),

location_daily as (
    select
        shares.location_id,
        forecasts.sku,
        forecasts.forecast_date,
        forecasts.horizon_day,
        sum(forecasts.units * shares.channel_share) as units,
        -- channels' errors taken as independent: variances add up
        sqrt(sum(power(forecasts.error_sigma * shares.channel_share, 2)))::numeric as error_sigma
    from forecasts
    inner join shares on forecasts.channel_id = shares.channel_id
    group by shares.location_id, forecasts.sku, forecasts.forecast_date, forecasts.horizon_day
),

stock as (
    select
        location_id,
        sku,
        as_of_date,
        on_hand
    from {{ ref('mart_inventory_health') }}
),

projected as (
    select
        location_daily.*,
        sum(location_daily.units) over (
            partition by location_daily.location_id, location_daily.sku
            order by location_daily.forecast_date
        ) as cumulative_units
    from location_daily
),

planned as (
    select
        projected.location_id,
        projected.sku,
        sum(projected.units) filter (
            where projected.horizon_day <= {{ var('replenishment_lead_time_days') }}
        ) as lead_time_demand,
        sum(projected.units) filter (
            where projected.horizon_day <= {{ var('replenishment_lead_time_days') }}
            + {{ var('replenishment_review_days') }}
        ) as cycle_demand,
        avg(projected.units) as avg_daily_forecast,
        max(projected.error_sigma) as error_sigma,
        min(projected.forecast_date) filter (
            where projected.cumulative_units >= coalesce(stock.on_hand, 0)
        ) as projected_stockout_date
    from projected
    left join stock on projected.location_id = stock.location_id and projected.sku = stock.sku
    group by projected.location_id, projected.sku
),

sized as (
    select
        planned.*,
        coalesce(stock.on_hand, 0) as on_hand,
        round(
            {{ normal_quantile(var('replenishment_service_level')) }}
            * planned.error_sigma * sqrt({{ var('replenishment_lead_time_days') }})::numeric, 2
        ) as safety_stock
    from planned
    left join stock on planned.location_id = stock.location_id and planned.sku = stock.sku
)

select
    location_id,
    sku,
    on_hand,
    {{ var('replenishment_lead_time_days') }} as lead_time_days,
    {{ var('replenishment_review_days') }} as review_days,
    {{ var('replenishment_service_level') }}::numeric(5, 4) as service_level,
    round(avg_daily_forecast, 3)::numeric(12, 3) as avg_daily_forecast,
    round(lead_time_demand, 2)::numeric(12, 2) as lead_time_demand,
    safety_stock::numeric(12, 2) as safety_stock,
    ceil(lead_time_demand + safety_stock)::integer as reorder_point,
    case
        when on_hand <= lead_time_demand + safety_stock
            then greatest(ceil(cycle_demand + safety_stock - on_hand), 0)::integer
        else 0
    end as suggested_order_quantity,
    on_hand <= lead_time_demand + safety_stock as should_reorder,
    projected_stockout_date,
    projected_stockout_date is not null
    and projected_stockout_date
    <= (select min(as_of_date) from {{ ref('mart_demand_forecast') }})  -- noqa: RF02
    + {{ var('replenishment_lead_time_days') }} as stockout_within_lead_time
from sized

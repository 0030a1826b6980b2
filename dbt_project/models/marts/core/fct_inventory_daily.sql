{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['location_id', 'sku', 'inventory_date'],
        on_schema_change='fail',
    )
}}
-- Units on hand per stock location, SKU and day, from the first snapshot of a location
-- to its latest: a day without a snapshot of a SKU carries the last one forward.
-- Incremental: rebuilds the days from the last built day less the lookback, carrying
-- forward from the last snapshot before them.
with snapshots as (
    select
        channel_id,
        location_id,
        sku,
        snapshot_date,
        on_hand
    from {{ ref('int_inventory_snapshots_unioned') }}
    where sku is not null
),

window_start as (
    select
        {% if is_incremental() %}
            coalesce(
                (select max(inventory_date) from {{ this }})
                - {{ var("incremental_lookback_days") }},
                '-infinity'::date
            )
        {% else %}
            '-infinity'::date
        {% endif %} as first_day
),

bounds as (
    select
        snapshots.channel_id,
        snapshots.location_id,
        greatest(min(snapshots.snapshot_date), max(window_start.first_day)) as first_day,
        max(snapshots.snapshot_date) as last_day
    from snapshots
    cross join window_start
    group by snapshots.channel_id, snapshots.location_id
),

days as (
    select
        bounds.channel_id,
        bounds.location_id,
        series_day::date as inventory_date
    from bounds
    cross join lateral generate_series(bounds.first_day, bounds.last_day, interval '1 day') as series_day
),

pairs as (
    select distinct
        location_id,
        sku
    from snapshots
),

grid as (
    select
        days.channel_id,
        days.location_id,
        pairs.sku,
        days.inventory_date
    from days
    inner join pairs on days.location_id = pairs.location_id
),

seeds as (
    -- the last snapshot before the rebuilt days, to carry forward from
    select distinct on (snapshots.location_id, snapshots.sku)
        snapshots.location_id,
        snapshots.sku,
        snapshots.on_hand
    from snapshots
    cross join window_start
    where snapshots.snapshot_date < window_start.first_day
    order by snapshots.location_id asc, snapshots.sku asc, snapshots.snapshot_date desc
),

observed as (
    select
        grid.*,
        snapshots.on_hand as snapshot_on_hand,
        seeds.on_hand as seed_on_hand
    from grid
    left join snapshots
        on
            grid.location_id = snapshots.location_id
            and grid.sku = snapshots.sku
            and grid.inventory_date = snapshots.snapshot_date
    left join seeds on grid.location_id = seeds.location_id and grid.sku = seeds.sku
),

grouped as (
    select
        observed.*,
        count(observed.snapshot_on_hand) over (
            partition by observed.location_id, observed.sku order by observed.inventory_date
        ) as snapshot_group
    from observed
),

carried as (
    select
        grouped.*,
        coalesce(
            max(grouped.snapshot_on_hand) over (partition by grouped.location_id, grouped.sku, grouped.snapshot_group),
            grouped.seed_on_hand
        ) as on_hand_carried
    from grouped
)

select
    channel_id,
    location_id,
    sku,
    inventory_date,
    on_hand_carried::integer as on_hand,
    snapshot_on_hand is null as is_carried_forward,
    on_hand_carried <= 0 as is_stocked_out
from carried
where on_hand_carried is not null

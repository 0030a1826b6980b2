{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['location_id', 'sku', 'inventory_date'],
        on_schema_change='fail',
        indexes=[{'columns': ['location_id', 'inventory_date']}],
    )
}}
-- Units on hand per stock location, SKU and day, from the first snapshot of a location
-- to its latest: a day without a snapshot of a SKU carries the last one forward.
-- Incremental: rebuilds the days from the last built day less the lookback, from the
-- snapshots of those days only, carrying forward what each SKU had on its location's last
-- day built before them.
{%- set first_day = incremental_cutoff('inventory_date', 'date') if is_incremental() else none %}
with snapshots as (
    select
        channel_id,
        location_id,
        sku,
        snapshot_date,
        on_hand
    from {{ ref('int_inventory_snapshots_unioned') }}
    {% if is_incremental() %}
        where sku is not null and snapshot_date >= {{ first_day }}
    {% else %}
        where sku is not null
    {% endif %}
),

{% if is_incremental() %}
    last_built as (
        select
            location_id,
            max(inventory_date) as inventory_date
        from {{ this }}
        where inventory_date < {{ first_day }}
        group by location_id
    ),

    seeds as (
        -- what each SKU had on its location's last day built before the rebuilt days
        select
            built.location_id,
            built.sku,
            built.on_hand
        from {{ this }} as built
        inner join last_built
            on
                built.location_id = last_built.location_id
                and built.inventory_date = last_built.inventory_date
    ),

    bounds as (
        -- a location built before goes on from the window's first day, a new one from
        -- its first snapshot
        select
            snapshots.channel_id,
            snapshots.location_id,
            case
                when snapshots.location_id in (select last_built.location_id from last_built)
                    then {{ first_day }}
                else min(snapshots.snapshot_date)
            end as first_day,
            max(snapshots.snapshot_date) as last_day
        from snapshots
        group by snapshots.channel_id, snapshots.location_id
    ),

    pairs as (
        select
            location_id,
            sku
        from snapshots
        union
        select
            location_id,
            sku
        from seeds
    ),
{% else %}
    seeds as (
        -- a full refresh has nothing built to carry forward from
        select
            location_id,
            sku,
            on_hand
        from snapshots
        where false
    ),

    bounds as (
        select
            channel_id,
            location_id,
            min(snapshot_date) as first_day,
            max(snapshot_date) as last_day
        from snapshots
        group by channel_id, location_id
    ),

    pairs as (
        select distinct
            location_id,
            sku
        from snapshots
    ),
{% endif %}

days as (
    select
        bounds.channel_id,
        bounds.location_id,
        series_day::date as inventory_date
    from bounds
    cross join lateral generate_series(bounds.first_day, bounds.last_day, interval '1 day') as series_day
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

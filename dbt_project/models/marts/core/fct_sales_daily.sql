{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['channel_id', 'order_date'],
        on_schema_change='fail',
        indexes=[{'columns': ['location_id', 'sku', 'order_date']}],
        post_hook="{{ delete_emptied_days() }}",
    )
}}
-- depends_on: {{ ref('int_orders_deleted') }}
-- Units and money sold per channel, stock location, SKU and local day: the daily demand
-- that product performance, promotion effect, inventory health and the forecasts read,
-- so that none of them scans every order line. Incremental: a run recomputes whole
-- channel days, those with an order line published since the last run (less a lookback).
-- Cancelled lines count nowhere but still keep their day's rows, so a day whose orders
-- were all cancelled is replaced with zeros rather than left stale, and a day of which no
-- line is left at the source is deleted (macro delete_emptied_days).
with lines as (
    select * from {{ ref('fct_order_lines') }}
),

{% if is_incremental() %}
    changed_days as (
        select distinct
            channel_id,
            order_date
        from lines
        where published_at > {{ incremental_cutoff() }}
        union
        -- a day that lost lines at the source (a corrected store export)
        select
            channel_id,
            order_date
        from {{ ref('int_orders_deleted') }}
        where order_date is not null and published_at > {{ incremental_cutoff() }}
    ),
{% endif %}

day_lines as (
    select lines.*
    from lines
    {% if is_incremental() %}
        inner join changed_days
            on
                lines.channel_id = changed_days.channel_id
                and lines.order_date = changed_days.order_date
    {% endif %}
)

select
    channel_id,
    location_id,
    sku,
    order_date,
    min(currency) as currency,
    coalesce(sum(units) filter (where not is_cancelled), 0)::integer as units,
    count(distinct order_id) filter (where not is_cancelled)::integer as orders_count,
    coalesce(sum(units) filter (where not is_cancelled and is_promoted), 0)::integer
        as promoted_units,
    coalesce(bool_or(is_promoted) filter (where not is_cancelled), false) as is_promoted,
    coalesce(sum(gmv) filter (where not is_cancelled), 0)::numeric(18, 2) as gmv,
    coalesce(sum(net_merchandise) filter (where not is_cancelled), 0)::numeric(18, 2)
        as net_merchandise,
    coalesce(sum(gmv_reporting) filter (where not is_cancelled), 0)::numeric(18, 2)
        as gmv_reporting,
    coalesce(sum(net_merchandise_reporting) filter (where not is_cancelled), 0)::numeric(18, 2)
        as net_merchandise_reporting,
    sum(cost_reporting) filter (where not is_cancelled)::numeric(18, 2) as cost_reporting,
    sum(margin_reporting) filter (where not is_cancelled)::numeric(18, 2) as margin_reporting,
    max(published_at) as published_at
from day_lines
group by channel_id, location_id, sku, order_date

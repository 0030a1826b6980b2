{#- Post-hook of the incremental models keyed by order. delete+insert replaces the orders
    a run rebuilds; an order of which nothing is left at the source (every line of a store
    receipt dropped from a corrected export) is not rebuilt, so it is deleted here. The
    model names int_orders_deleted in a `depends_on` comment, so it is built first. -#}
{% macro delete_gone_orders() -%}
    {% if is_incremental() %}
        delete from {{ this }} as built
        using {{ ref('int_orders_deleted') }} as deleted
        where
            deleted.is_gone
            and built.channel_id = deleted.channel_id
            and built.order_id = deleted.order_id
    {% endif %}
{%- endmacro %}

{#- Post-hook of fct_sales_daily: a channel day of which every line was deleted at the
    source has nothing to rebuild it from, so its rows are deleted. -#}
{% macro delete_emptied_days() -%}
    {% if is_incremental() %}
        delete from {{ this }} as built
        using {{ ref('int_orders_deleted') }} as deleted
        where
            deleted.is_gone
            and built.channel_id = deleted.channel_id
            and built.order_date = deleted.order_date
            and not exists (
                select from {{ ref('fct_order_lines') }} as lines
                where lines.channel_id = built.channel_id and lines.order_date = built.order_date
            )
    {% endif %}
{%- endmacro %}

{#- Post-hooks of incremental models for records deleted at the source. delete+insert
    replaces the keys a run rebuilds; an order of which nothing is left at the source
    (every line of a store receipt dropped from a corrected export) is not rebuilt, so
    its rows (and a day it leaves empty) are deleted here. The models name
    int_orders_deleted in a `depends_on` comment, so it is built first. -#}
{% macro delete_gone(keys, unless_in=none) -%}
    {% if is_incremental() %}
        delete from {{ this }} as built
        using {{ ref('int_orders_deleted') }} as deleted
        where
            deleted.is_gone
            {%- for key in keys %}
            and built.{{ key }} = deleted.{{ key }}
            {%- endfor %}
            {%- if unless_in is not none %}
            and not exists (
                select from {{ unless_in }} as kept
                where
                    {%- for key in keys %}
                    {{ "and " if not loop.first }}kept.{{ key }} = built.{{ key }}
                    {%- endfor %}
            )
            {%- endif %}
    {% endif %}
{%- endmacro %}

{#- The models keyed by order: the order's rows. -#}
{% macro delete_gone_orders() -%}
    {{ delete_gone(['channel_id', 'order_id']) }}
{%- endmacro %}

{#- fct_sales_daily: a channel day of which no order line is left. -#}
{% macro delete_emptied_days() -%}
    {{ delete_gone(['channel_id', 'order_date'], ref('fct_order_lines')) }}
{%- endmacro %}

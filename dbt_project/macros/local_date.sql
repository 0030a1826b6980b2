{#- The channel's local calendar day of a UTC timestamp (timestamptz). -#}
{% macro local_date(timestamp_column, timezone_column) -%}
    ({{ timestamp_column }} at time zone {{ timezone_column }})::date
{%- endmacro %}

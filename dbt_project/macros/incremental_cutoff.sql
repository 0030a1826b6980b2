{% macro incremental_cutoff(column='published_at') -%}
    {#- The publication time an incremental run starts from: the latest one already built
        less var('incremental_lookback_days'), as a literal. A literal rather than a
        subquery, so that PostgreSQL estimates the few new rows as few and pushes the
        filter into every branch of the staging views it reads. -#}
    {%- if execute -%}
        {%- set query -%}
            select coalesce(
                max({{ column }}) - interval '{{ var("incremental_lookback_days") }} days',
                '-infinity'::timestamptz
            )::text
            from {{ this }}
        {%- endset -%}
        '{{ run_query(query).columns[0].values()[0] }}'::timestamptz
    {%- else -%}
        '-infinity'::timestamptz
    {%- endif -%}
{%- endmacro %}

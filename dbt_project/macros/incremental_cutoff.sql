{% macro incremental_cutoff(column='published_at', type='timestamptz') -%}
    {#- Where an incremental run starts: the latest `column` already built less
        var('incremental_lookback_days'), as a literal of `type` (timestamptz or date). A
        literal rather than a subquery, so that PostgreSQL estimates the few new rows as
        few and pushes the filter into every branch of the staging views it reads. -#}
    {%- if execute -%}
        {%- set query -%}
            select coalesce(
                (max({{ column }}) - interval '{{ var("incremental_lookback_days") }} days')::{{ type }},
                '-infinity'::{{ type }}
            )::text
            from {{ this }}
        {%- endset -%}
        '{{ run_query(query).columns[0].values()[0] }}'::{{ type }}
    {%- else -%}
        '-infinity'::{{ type }}
    {%- endif -%}
{%- endmacro %}

{#- dbt calls this for the relation a generic test reads, with the test's `where` config.
    One placeholder more than dbt has: `__recently_published__`, the publication time this
    invocation's tests start from (macro remember_test_window). A daily run then tests the
    rows it published (and its lookback), not the whole history again; a full refresh, or
    `--vars '{test_all_rows: true}'` (the weekly full check), tests every row. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where and '__recently_published__' in where -%}
        {%- set since = recently_published() if has_publication_time(relation) else none -%}
        {%- set where = where | replace('__recently_published__', since) if since else none -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) as dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- Sources of the same folder (ops.channels) and reference data have no publication time:
    their tests always read every row. -#}
{% macro has_publication_time(relation) -%}
    {%- if not execute -%}
        {%- do return(false) -%}
    {%- endif -%}
    {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
    {%- do return('published_at' in names) -%}
{%- endmacro %}

{#- Where this invocation's tests start: what `remember_test_window` (on-run-start) noted
    before any model was rebuilt. None: test every row. -#}
{% macro recently_published() -%}
    {%- if not execute or flags.FULL_REFRESH or var('test_all_rows', false) -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set query -%}
        select since::text from ops.dbt_test_windows where invocation_id = '{{ invocation_id }}'
    {%- endset -%}
    {%- set rows = run_query(query).rows -%}
    {%- set since = rows[0][0] if rows else none -%}
    {%- do return("'" ~ since ~ "'::timestamptz" if since else none) -%}
{%- endmacro %}

{#- on-run-start: the latest publication the order lines fact held before this invocation,
    less the incremental lookback. Every row a run publishes is newer than that, so a daily
    run's tests read all it published; before the first build there is none (every row). -#}
{% macro remember_test_window() -%}
    {%- set fact = adapter.get_relation(target.database, 'marts', 'fct_order_lines') -%}
    create schema if not exists ops;
    create table if not exists ops.dbt_test_windows (
        invocation_id text primary key,
        since timestamptz,
        noted_at timestamptz not null default now()
    );
    delete from ops.dbt_test_windows where noted_at < now() - interval '7 days';
    insert into ops.dbt_test_windows (invocation_id, since)
    select
        '{{ invocation_id }}',
        {% if fact is not none -%}
            (select max(published_at) from {{ fact }})
                - interval '{{ var("incremental_lookback_days") }} days'
        {%- else -%}
            null::timestamptz
        {%- endif %}
    on conflict (invocation_id) do nothing;
{%- endmacro %}

{#- dbt calls this for the relation a generic test reads, with the test's `where` config.
    One placeholder more than dbt has: `__recently_published__`, the publication time this
    run's tests start from (macro remember_test_window). A daily run then tests the rows it
    published (and its lookback), not the whole history again; a full refresh, or
    `--vars '{test_all_rows: true}'` (transform_dbt's weekly run), tests every row. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where and '__recently_published__' in where -%}
        {%- set since = recently_published() -%}
        {%- set since = since if since and has_publication_time(relation) else none -%}
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

{#- Where this run's tests start: what `remember_test_window` (on-run-start) noted before
    any model was rebuilt. None: test every row. -#}
{% macro recently_published() -%}
    {%- if not execute or flags.FULL_REFRESH or test_all_rows() -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- if adapter.get_relation(target.database, 'ops', 'dbt_test_windows') is none -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set query -%}
        select since::text from ops.dbt_test_windows where window_key = '{{ test_window_key() }}'
    {%- endset -%}
    {%- set rows = run_query(query).rows -%}
    {%- set since = rows[0][0] if rows else none -%}
    {%- do return("'" ~ since ~ "'::timestamptz" if since else none) -%}
{%- endmacro %}

{#- Every row: var test_all_rows, or OMNI_DBT_TEST_ALL_ROWS (transform_dbt sets it to
    "True" on its weekly run). -#}
{% macro test_all_rows() -%}
    {%- set asked = var('test_all_rows', false) or env_var('OMNI_DBT_TEST_ALL_ROWS', '') -%}
    {%- do return((asked | string | lower) in ['true', '1', 'yes']) -%}
{%- endmacro %}

{#- One window per run of the pipeline: var test_window_key, else the Airflow DAG run
    (which runs one dbt invocation per model), else this dbt invocation. -#}
{% macro test_window_key() -%}
    {%- set dag_run = env_var('AIRFLOW_CTX_DAG_ID', '') ~ '/' ~ env_var('AIRFLOW_CTX_DAG_RUN_ID', '') -%}
    {%- do return(var('test_window_key', none) or (dag_run if dag_run != '/' else invocation_id)) -%}
{%- endmacro %}

{#- on-run-start: the latest publication the order lines fact held before this run, less
    the incremental lookback. Every row a run publishes is newer than that, so a daily run's
    tests read all it published; before the first build there is none (every row). The
    first invocation of a run notes it, before any model is rebuilt; later invocations of
    the same run (same key) keep it. -#}
{% macro remember_test_window() -%}
    {%- set fact = adapter.get_relation(target.database, 'marts', 'fct_order_lines') -%}
    {%- set windows = adapter.get_relation(target.database, 'ops', 'dbt_test_windows') -%}
    {%- if windows is none -%}
    -- ops.dbt_test_windows is the loader's (omnichannel.load.schema): before it exists the
    -- pipeline has published nothing, and the tests read every row
    select 1;
    {%- else -%}
    delete from ops.dbt_test_windows where noted_at < now() - interval '30 days';
    insert into ops.dbt_test_windows (window_key, since)
    select
        '{{ test_window_key() }}',
        {% if fact is not none -%}
            (select max(published_at) from {{ fact }})
                - interval '{{ var("incremental_lookback_days") }} days'
        {%- else -%}
            null::timestamptz
        {%- endif %}
    on conflict (window_key) do nothing;
    {%- endif %}
{%- endmacro %}

{#- The quoted names of a relation's number columns (numeric, float), read from the
    warehouse when the node runs (empty while parsing). -#}
{% macro number_columns(relation) -%}
    {%- set numbers = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- if column.is_numeric() or column.is_float() -%}
                {%- do numbers.append(adapter.quote(column.name)) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(numbers) }}
{%- endmacro %}

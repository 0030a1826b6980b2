{#- Money is exact: fails when the column is not of type numeric in the warehouse. -#}
{% test column_is_numeric(model, column_name) %}
select table_schema, table_name, column_name, data_type
from information_schema.columns
where table_schema = '{{ model.schema }}'
  and table_name = '{{ model.identifier }}'
  and column_name = '{{ column_name }}'
  and data_type <> 'numeric'
{% endtest %}

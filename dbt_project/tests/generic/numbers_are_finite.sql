{#- No number of the model is NaN or infinite. PostgreSQL's numeric takes 'NaN' (and, since
    14, infinities), which no not_null or range test catches and which makes every sum over
    it NaN. The number columns are read from the warehouse at run time, so a column added
    later is checked too. Fails with the rows that hold one. -#}
{% test numbers_are_finite(model) %}
select *
from {{ model }}
where
    false
    {%- for name in number_columns(model) %}
    or {{ name }}::float8 in ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8)
    {%- endfor %}
{% endtest %}

{#- An amount in the reporting currency (var reporting_currency), at the rate of the
    given day: `rates` is a join of int_fx_rates_filled on (currency, rate_date). -#}
{% macro to_reporting_currency(amount, rates) -%}
    round(({{ amount }}) * {{ rates }}.to_reporting, 2)
{%- endmacro %}

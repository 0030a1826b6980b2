{% macro normal_quantile(p) -%}
    {#- The standard normal quantile of probability p (0.5 <= p < 1), by the rational
        approximation 26.2.23 of Abramowitz and Stegun (absolute error below 4.5e-4):
        the z of a service level. -#}
    (
        sqrt(-2 * ln(1 - ({{ p }})))
        - (2.515517 + 0.802853 * sqrt(-2 * ln(1 - ({{ p }})))
            + 0.010328 * (-2 * ln(1 - ({{ p }}))))
        / (1 + 1.432788 * sqrt(-2 * ln(1 - ({{ p }})))
            + 0.189269 * (-2 * ln(1 - ({{ p }})))
            + 0.001308 * power(sqrt(-2 * ln(1 - ({{ p }}))), 3))
    )
{%- endmacro %}

{#- The cross-channel customer identity of an e-mail: trimmed, lower-cased, without a
    +tag in the local part, hashed (SHA-256, hex) with this installation's secret (the
    session setting omni.customer_key_secret, which `omni` gives dbt's connections), so
    marts carry no address and their keys cannot be matched against a list of plainly
    hashed ones. Null stays null: an anonymous buyer is kept as such, never merged into one
    "unknown" customer. -#}
{% macro normalise_email(email) -%}
    nullif(regexp_replace(lower(trim({{ email }})), '\+[^@]*@', '@'), '')
{%- endmacro %}

{% macro customer_key(email) -%}
    encode(sha256(convert_to(
        current_setting('omni.customer_key_secret') || ':' || {{ normalise_email(email) }},
        'UTF8'
    )), 'hex')
{%- endmacro %}

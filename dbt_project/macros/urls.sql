{#-
    Host of a URL, lower-cased, without userinfo, port, trailing dot and a leading "www.";
    null when the value is not an absolute URL (mirrors townsquare.connectors.trackbacks.domain_of).
-#}
{% macro url_domain(url) -%}
    nullif(
        regexp_replace(
            regexp_replace(
                regexp_extract(
                    lower(trim({{ url }})), '^[a-z][a-z0-9+.-]*://(?:[^@/?#]*@)?([^:/?#]+)', 1
                ),
                '\.$', ''
            ),
            '^www\.', ''
        ),
        ''
    )
{%- endmacro %}


{#- Normalises an already extracted domain the same way (lower, no www., no trailing dot). -#}
{% macro normalize_domain(domain) -%}
    nullif(regexp_replace(regexp_replace(lower(trim({{ domain }})), '\.$', ''), '^www\.', ''), '')
{%- endmacro %}


{#- A lake timestamp (timestamp with time zone) as a naive UTC timestamp. -#}
{% macro to_utc(column) -%}
    cast(timezone('UTC', {{ column }}) as timestamp)
{%- endmacro %}

{#-
    Models land in the schema named by their folder config (staging, intermediate, marts),
    not dbt's default "<target schema>_<custom>": BI tools query marts.<table>.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}

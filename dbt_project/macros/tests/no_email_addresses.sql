{#-
    Privacy guard for marts: fails for every row where any text column holds something shaped
    like an email address. Columns are read from the built relation, so new columns are covered.
-#}
{% test no_email_addresses(model) %}
    {%- set text_columns = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(model) -%}
            {%- if column.is_string() -%}
                {%- do text_columns.append(adapter.quote(column.name)) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    select *
    from {{ model }}
    where
        false
        {%- for column in text_columns %}
            or regexp_matches({{ column }}, '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}')
        {%- endfor %}
{% endtest %}

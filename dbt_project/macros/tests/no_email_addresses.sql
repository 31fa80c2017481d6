{#-
    Privacy guard for marts: fails for every row where any text column holds something shaped
    like an email address or an IP address (IPv4 dotted quad; IPv6 with `::` or a hex letter,
    so clock times such as 10:30:00 do not count). Columns are read from the built relation,
    so new columns are covered. A LIKE on the characters each shape needs runs first: the
    regular expressions see only the few values that have them (at scale 10 the test on
    fct_activities took 16 s with the expressions alone).
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
            or (
                {{ column }} like '%@%.%'
                and regexp_matches({{ column }}, '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}')
            )
            or {{ has_ip_address(column) }}
        {%- endfor %}
{% endtest %}


{% macro has_ip_address(column) -%}
    (
        (
            {{ column }} like '%.%.%.%'
            and regexp_matches({{ column }}, '(^|[^0-9.])((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])($|[^0-9.])')
        )
        or (
            {{ column }} like '%:%:%'
            and regexp_matches({{ column }}, '(?i)(^|[^0-9a-f:])[0-9a-f]{0,4}(:[0-9a-f]{0,4}){2,7}($|[^0-9a-f:])')
            and regexp_matches({{ column }}, '(?i)::|[a-f][0-9a-f]*:|:[0-9a-f]*[a-f]')
        )
    )
{%- endmacro %}

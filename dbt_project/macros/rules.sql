{#-
    Text rules (the intent_rules and conversation_code_rules seeds) compiled into the SQL as
    constant patterns. DuckDB compiles a regular expression once per query when the pattern is
    a constant, but once per row when it comes from a joined column: matching 20,000 messages
    against 8 rules took 12 s joined and 0.3 s constant.

    rule_rows(seed, columns, order_by): the seed's rows (a list of dicts) read when the model
    runs. A unit test sets them with `overrides: vars: {text_rules: {<seed>: [...]}}`, since
    its `given` rows are CTEs that cannot be read before the model's SQL is rendered.
-#}
{% macro rule_rows(seed_name, columns, order_by) -%}
    {%- set overrides = var('text_rules', {}) or {} -%}
    {%- if seed_name in overrides -%}
        {{- return(overrides[seed_name]) -}}
    {%- endif -%}
    {%- if not execute -%}
        {{- return([]) -}}
    {%- endif -%}
    {%- set result = run_query(
        'select ' ~ (columns | join(', ')) ~ ' from ' ~ ref(seed_name) ~ ' order by ' ~ order_by
    ) -%}
    {%- set rows = [] -%}
    {%- for row in result.rows -%}
        {%- set item = {} -%}
        {%- for column in columns -%}
            {%- do item.update({column: row[loop.index0]}) -%}
        {%- endfor -%}
        {%- do rows.append(item) -%}
    {%- endfor -%}
    {{- return(rows) -}}
{%- endmacro %}


{#- The names of the rules whose pattern matches `text` at least min_matches times (default 1),
    in the rules' order, as varchar[] (empty when none). -#}
{% macro matched_rule_names(text, rules) -%}
    {%- if rules | length == 0 -%}
        cast([] as varchar[])
    {%- else -%}
        list_filter([
            {%- for r in rules %}
            case when
                {%- if (r.get('min_matches') or 1) | int > 1 %}
                len(regexp_extract_all({{ text }}, {{ sql_string(r['pattern']) }})) >= {{ r['min_matches'] | int }}
                {%- else %}
                regexp_matches({{ text }}, {{ sql_string(r['pattern']) }})
                {%- endif %}
                then {{ sql_string(r['rule']) }}
            end{{ ',' if not loop.last }}
            {%- endfor %}
        ], lambda matched: matched is not null)
    {%- endif -%}
{%- endmacro %}


{#- A fingerprint of the rules, stored with each row: an incremental model re-matches every row
    when the rules change. -#}
{% macro rules_fingerprint(rules) -%}
    {%- set parts = [] -%}
    {%- for r in rules -%}
        {%- do parts.append(r['rule'] ~ '\x1f' ~ r['pattern'] ~ '\x1f' ~ (r.get('min_matches') or 1)) -%}
    {%- endfor -%}
    md5({{ sql_string(parts | join('\x1e')) }})
{%- endmacro %}


{#- post_hook of int_message_rule_matches: rows of activities that are gone. -#}
{% macro forget_removed_messages() -%}
    {%- if execute and model.resource_type != 'unit_test' -%}
        delete from {{ this }}
        where activity_key not in (select activity_key from {{ ref('int_activities') }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

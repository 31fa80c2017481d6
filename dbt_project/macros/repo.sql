{#-
    True when `column` (a login, a name or an email address) looks like an automation account:
    any pattern of the bot_patterns seed matches the lower-cased value, or, for an address,
    its local part (the text before "@").
-#}
{% macro is_bot(column) -%}
    {#- ref() here, not only in rule_rows (which reads the seed when the model runs): the
        model depends on the seed from parse time on -#}
    {%- set _seed = ref('bot_patterns') -%}
    {%- set patterns = rule_rows('bot_patterns', ['pattern'], 'pattern') -%}
    {%- if patterns | length == 0 -%}
        false
    {%- else -%}
        {#- one constant alternation of every pattern (each in its own group): compiled once
            per query, where a pattern column joined per row is compiled per row -#}
        {%- set alternatives = [] -%}
        {%- for p in patterns -%}{%- do alternatives.append('(?:' ~ p['pattern'] ~ ')') -%}{%- endfor -%}
        {%- set combined = sql_string(alternatives | join('|')) -%}
        coalesce(
            regexp_matches(lower(trim({{ column }})), {{ combined }})
            or regexp_matches(split_part(lower(trim({{ column }})), '@', 1), {{ combined }}),
            false
        )
    {%- endif -%}
{%- endmacro %}


{#-
    The GitHub login in a GitHub noreply address (`12345+octocat@users.noreply.github.com` or
    `octocat@users.noreply.github.com`), else null.
-#}
{% macro github_login_from_email(column) -%}
    nullif(
        regexp_extract(
            lower(trim({{ column }})),
            '^(?:[0-9]+\+)?([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\[bot\])?)@users\.noreply\.github\.com$',
            1
        ),
        ''
    )
{%- endmacro %}

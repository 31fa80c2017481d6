{#-
    True when `column` (a login, a name or an email address) looks like an automation account:
    any pattern of the bot_patterns seed matches the lower-cased value, or, for an address,
    its local part (the text before "@").
-#}
{% macro is_bot(column) -%}
    coalesce(
        (
            select bool_or(
                regexp_matches(lower(trim({{ column }})), bot_patterns.pattern)
                or regexp_matches(split_part(lower(trim({{ column }})), '@', 1), bot_patterns.pattern)
            )
            from {{ ref('bot_patterns') }} as bot_patterns
        ),
        false
    )
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

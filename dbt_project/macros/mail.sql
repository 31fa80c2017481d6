{#- A Message-ID as staging keys it: trimmed, without the angle brackets. -#}
{% macro clean_message_id(column) -%}
    nullif(trim({{ column }}, ' <>' || chr(9) || chr(10) || chr(13)), '')
{%- endmacro %}


{#-
    A subject without list tags ("[lumen-users]") and reply/forward prefixes (Re:, RE[2]:, Aw:,
    Sv:, Antw:, Fwd:, Fw:), in any order and repeated, lower-cased with whitespace collapsed.
-#}
{% macro thread_subject(column) -%}
    nullif(
        lower(
            regexp_replace(
                regexp_replace(
                    {{ column }},
                    '^\s*((\[[^\]]*\]\s*)|((re|aw|sv|antw|fwd?|fw)\s*(\[\d+\])?\s*:\s*))+',
                    '',
                    'i'
                ),
                '\s+', ' ', 'g'
            )
        ),
        ''
    )
{%- endmacro %}


{#- True when a subject says it answers another message (Re:, Aw:, Sv:, Antw:, after list tags). -#}
{% macro is_reply_subject(column) -%}
    coalesce(regexp_matches({{ column }}, '^\s*(\[[^\]]*\]\s*)*(re|aw|sv|antw)\s*(\[\d+\])?\s*:', 'i'), false)
{%- endmacro %}


{#-
    Replaces anything shaped like an email address (the marts' privacy rule) with a marker:
    user@host.tld, and the archive-obfuscated form "user at host.tld" (Pipermail).
-#}
{% macro mask_emails(column) -%}
    regexp_replace(
        {{ column }},
        '[A-Za-z0-9._%+-]+(@| at )[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}',
        '[email hidden]',
        'g'
    )
{%- endmacro %}

{#-
    A comparable email address, else null for text that is not one: lower-cased and trimmed;
    for providers of the email_providers seed the domain alias is replaced by its canonical
    domain, plus-tags are dropped where the provider ignores them (gmail, outlook, proton, ...)
    and dots where it ignores those (gmail). `jane.doe+lists@GoogleMail.com` → `janedoe@gmail.com`;
    `jane+x@acme.example` stays as it is (an unknown provider may route tags differently).
-#}
{% macro normalize_email(column) -%}
    {%- set address = 'lower(trim(' ~ column ~ '))' -%}
    {%- set local_part = "split_part(" ~ address ~ ", '@', 1)" -%}
    {%- set untagged = "split_part(" ~ local_part ~ ", '+', 1)" -%}
    case
        when regexp_full_match({{ address }}, '[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+')
            then (
                select
                    case
                        when bool_or(providers.ignores_dots) then replace({{ untagged }}, '.', '')
                        when bool_or(providers.strips_plus_tags) then {{ untagged }}
                        else {{ local_part }}
                    end
                    || '@'
                    || coalesce(max(providers.canonical_domain), split_part({{ address }}, '@', 2))
                from {{ ref('email_providers') }} as providers
                where providers.domain = split_part({{ address }}, '@', 2)
            )
    end
{%- endmacro %}


{#- The domain of an email address (lower-cased), else null. -#}
{% macro email_domain(column) -%}
    nullif(lower(trim(regexp_extract({{ column }}, '@([^@\s<>]+\.[^@\s<>]+)$', 1))), '')
{%- endmacro %}


{#-
    The registrable domain of a host name: the longest public_suffixes entry it ends with plus
    one label (mail.acme.co.uk → acme.co.uk), else its last two labels (eu.acme.com → acme.com).
-#}
{% macro registrable_domain(column) -%}
    {%- set host = "trim(lower(trim(" ~ column ~ ")), '.')" -%}
    case
        when nullif({{ host }}, '') is not null
            then coalesce(
                (
                    select
                        arg_max(
                            array_to_string(
                                list_slice(
                                    string_split({{ host }}, '.'),
                                    -(len(string_split(suffixes.suffix, '.')) + 1),
                                    -1
                                ),
                                '.'
                            ),
                            length(suffixes.suffix)
                        )
                    from {{ ref('public_suffixes') }} as suffixes
                    where {{ host }} like '%.' || suffixes.suffix
                ),
                array_to_string(list_slice(string_split({{ host }}, '.'), -2, -1), '.')
            )
    end
{%- endmacro %}


{#-
    The salt of the pseudonymous ids: var identity_salt (TOWNSQUARE_ID_SALT) when set, else
    the random salt the ingestion created with the lake (<lake>/_state/identity_salt), else
    (a lake nobody ingested into) the public default `townsquare`, with a warning.
-#}
{% macro identity_salt() -%}
    {%- set configured = var('identity_salt', '') | string | trim -%}
    {%- if configured -%}
        {{- return(configured) -}}
    {%- endif -%}
    {%- if execute -%}
        {%- set path = sql_string(lake_root() ~ '/_state/identity_salt') -%}
        {%- set found = run_query('select count(*) from glob(' ~ path ~ ')') -%}
        {%- if found.columns[0].values()[0] > 0 -%}
            {%- set salt = run_query('select trim(content) from read_text(' ~ path ~ ')') -%}
            {{- return(salt.columns[0].values()[0]) -}}
        {%- endif -%}
        {%- do log('identity_salt: no TOWNSQUARE_ID_SALT and no <lake>/_state/identity_salt: '
            ~ 'pseudonymous ids use the public default salt', info=true) -%}
    {%- endif -%}
    {{- return('townsquare') -}}
{%- endmacro %}


{#-
    A pseudonymous id: a prefix and the first 16 hex digits of sha256(salt || ':' || value),
    the salt from identity_salt() (secret: without it anyone could hash a known address and
    find the person).
-#}
{% macro pseudonym(prefix, column) -%}
    '{{ prefix }}' || left(sha256({{ sql_string(identity_salt()) }} || ':' || {{ column }}), 16)
{%- endmacro %}


{#-
    The day metrics that depend on "now" (revenue to date, lead recency) are computed for:
    var as_of_date (YYYY-MM-DD) when set, else today (UTC).
-#}
{% macro as_of_date() -%}
    {%- set configured = var('as_of_date', '') | string | trim -%}
    {%- if configured -%}
        cast({{ sql_string(configured) }} as date)
    {%- else -%}
        cast(current_date as date)
    {%- endif -%}
{%- endmacro %}

{#-
    The organizations at least one of whose people reached the engaged stage (see
    funnel_stages), counting neither staff nor bots (a person is either when any of their
    identities is): fct_monetization_funnel_monthly and fct_leads.
-#}
{% macro engaged_organizations(person_organizations, stages, identities) -%}
    select distinct {{ person_organizations }}.organization
    from {{ person_organizations }}
    inner join {{ stages }}
        on {{ person_organizations }}.person_id = {{ stages }}.person_id
    where
        {{ stages }}.reached_engaged
        and not exists (
            select 1
            from {{ identities }}
            where
                {{ identities }}.person_id = {{ person_organizations }}.person_id
                and ({{ identities }}.is_staff or {{ identities }}.is_bot)
        )
{%- endmacro %}

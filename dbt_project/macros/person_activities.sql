{#- The inputs int_person_activities records to tell what changed (incremental_state.sql). -#}

{#- int_person_activities: each identity of `identities` with its person and the person's flags. -#}
{% macro person_activity_identities(identities) -%}
    select
        identity_rows.identity_ref,
        identity_rows.identity_id,
        identity_rows.person_id,
        persons.is_bot,
        persons.is_staff
    from {{ identities }} as identity_rows
    inner join (
        select
            person_id,
            bool_or(is_bot) as is_bot,
            bool_or(is_staff) as is_staff
        from {{ identities }}
        group by person_id
    ) as persons
        on identity_rows.person_id = persons.person_id
{%- endmacro %}


{#- int_person_activities: the organization periods it reads of `organizations`. -#}
{% macro person_activity_periods(organizations) -%}
    select
        person_id,
        organization,
        valid_from,
        valid_to,
        evidence
    from {{ organizations }}
{%- endmacro %}


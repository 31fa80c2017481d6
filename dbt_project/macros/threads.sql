{#- int_forum_posts_threaded: what it reads of each forum topic (state table `topics`). -#}
{% macro forum_thread_topics(topics) -%}
    select
        topic_key,
        category_id,
        category_name,
        title,
        url,
        archetype
    from {{ topics }}
{%- endmacro %}


{#- fct_forum_threads: its rows whose thread has no opener left in `posts`. -#}
{% macro forum_thread_gone(posts) -%}
    not exists (
        select 1
        from {{ posts }} as posts
        where
            posts.thread_key = {{ this }}.thread_key
            and posts.is_countable
            and posts.post_position = 1
    )
{%- endmacro %}

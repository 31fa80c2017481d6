"""The dbt project end to end: a real Parquet lake -> `dbt build` -> marts in DuckDB.

The lake is written with pyarrow in the layout and schemas the ingestion library uses. Expected
mart rows are computed by hand from the rows below (see the comments next to them). dbtRunner is
not safe to run concurrently in one process, so every dbt invocation lives in this one module.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from dbt.cli.main import dbtRunner, dbtRunnerResult

from townsquare.schemas import ENTITIES

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
MARTS = (
    "fct_inbound_reach_monthly",
    "fct_inbound_reach_by_site",
    "fct_forum_threads",
    "fct_repo_activity_monthly",
    "dim_contributors",
    "fct_activities",
    "fct_contributors_monthly",
    "fct_community_funnel_monthly",
    "fct_cohort_retention",
    "fct_community_health_monthly",
    "fct_response_times_monthly",
    "fct_conversation_focus_monthly",
    "dim_organizations",
    "fct_organization_engagement_monthly",
    "fct_monetization_funnel_monthly",
    "fct_leads",
    "fct_revenue_by_channel",
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt")]

NOW = datetime.now(UTC).replace(microsecond=0)
OLD = NOW - timedelta(days=5)  # first comments load
THREE_DAYS_AGO = NOW - timedelta(days=3)  # comments' latest load: freshness warns (> 2 days)
RECENT = NOW - timedelta(hours=1)  # trackbacks' latest load: fresh

JAN = date(2024, 1, 1)
FEB = date(2024, 2, 1)
HELLO = "https://acme.example/2024/01/hello/"
SECOND = "https://acme.example/2024/02/second/"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- the lake ---------------------------------------------------------------------------------


def land(
    lake: Path,
    entity: str,
    source: str,
    run_id: str,
    ingested_at: datetime,
    rows: list[dict[str, Any]],
) -> Path:
    """Write one Parquet file of ``entity`` rows exactly where the ingestion library would."""
    spec = ENTITIES[entity]
    unknown = {key for row in rows for key in row} - set(spec.data_columns)
    assert not unknown, f"test rows carry columns {entity} does not have: {unknown}"
    records = [
        {
            "source": source,
            "ingested_at": ingested_at,
            "run_id": run_id,
            **{column: row.get(column) for column in spec.data_columns},
            "raw": json.dumps(row, default=str, sort_keys=True),
        }
        for row in rows
    ]
    folder = (
        lake
        / "raw"
        / entity
        / f"source={source}"
        / f"ingest_date={ingested_at.astimezone(UTC):%Y-%m-%d}"
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{run_id}-0.parquet"
    pq.write_table(pa.Table.from_pylist(records, schema=spec.schema), path)
    return path


def trackback(
    trackback_id: str,
    kind: str,
    source_url: str,
    received_at: datetime,
    target_post_id: str | None,
    target_url: str,
    source_domain: str | None = None,
    origin: str = "receiver",
) -> dict[str, Any]:
    return {
        "trackback_id": trackback_id,
        "kind": kind,
        "source_url": source_url,
        "source_domain": source_domain,
        "target_post_id": target_post_id,
        "target_url": target_url,
        "blog_name": None,
        "title": f"title of {trackback_id}",
        "excerpt": "an excerpt",
        "received_at": received_at,
        "origin": origin,
    }


def comment(
    comment_id: str,
    status: str,
    author_url: str | None,
    post_id: str,
    published_at: datetime,
    comment_type: str = "comment",
    author_email: str | None = None,
) -> dict[str, Any]:
    return {
        "comment_id": comment_id,
        "post_id": post_id,
        "post_url": {"1": HELLO, "2": SECOND}[post_id],
        "parent_id": None,
        "comment_type": comment_type,
        "status": status,
        "author_name": f"author of {comment_id}",
        "author_email": author_email,
        "author_url": author_url,
        "published_at": published_at,
        "content_text": "nice post",
    }


def post(post_id: str, title: str, url: str) -> dict[str, Any]:
    return {
        "post_id": post_id,
        "site_url": "https://acme.example",
        "post_type": "post",
        "status": "publish",
        "title": title,
        "slug": title.lower().replace(" ", "-"),
        "url": url,
        "author_name": "Ada",
        "author_login": "ada",
        "published_at": utc(2024, 1, 1),
        "modified_at": utc(2024, 1, 2),
        "content_text": "body",
        "categories": ["news"],
        "tags": ["dbt", "duckdb"],
        "comment_count": 3,
        "comments_feed_url": None,
    }


def land_trackbacks_and_comments(lake: Path) -> None:
    """Blog posts are not landed here: that entity takes the empty-relation path."""
    land(
        lake,
        "trackbacks",
        "acme",
        "r1",
        THREE_DAYS_AGO,
        [
            # superseded by run r2 below: must count once
            trackback(
                "tb-1",
                "trackback",
                "https://www.Friend.example/links",
                utc(2024, 1, 10, 12),
                "1",
                HELLO,
            ),
            # found as comment c-9, which is spam: excluded
            trackback(
                "c-9",
                "pingback",
                "https://spammy.example/x",
                utc(2024, 1, 22),
                "1",
                HELLO,
                "spammy.example",
                "wxr",
            ),
            # a post of the blog pinging another one: self-link, excluded
            trackback(
                "c-10", "pingback", SECOND, utc(2024, 2, 2), "1", HELLO, "acme.example", "wxr"
            ),
            trackback(
                "tb-3",
                "trackback",
                "https://friend.example/again",
                utc(2024, 2, 14),
                "2",
                SECOND,
                "friend.example",
            ),
            # only the target URL is known: resolved to post 2 once posts have landed
            trackback(
                "tb-6",
                "trackback",
                "https://third.example/x",
                utc(2024, 2, 25),
                None,
                SECOND,
                "third.example",
            ),
        ],
    )
    land(
        lake,
        "trackbacks",
        "acme",
        "r2",
        RECENT,
        [
            trackback(
                "tb-1",
                "trackback",
                "https://www.Friend.example/links",
                utc(2024, 1, 10, 12),
                "1",
                HELLO,
            ),
            # 23:30 at UTC-5 on January 31st is February 1st in UTC
            trackback(
                "tb-5",
                "pingback",
                "https://other.example/feb",
                datetime(2024, 1, 31, 23, 30, tzinfo=timezone(timedelta(hours=-5))),
                "1",
                HELLO,
                "Other.Example",
            ),
        ],
    )
    # Same ingested_at: the later run_id (r2b) wins, so tb-2 is a pingback.
    land(
        lake,
        "trackbacks",
        "acme",
        "r2a",
        RECENT,
        [
            trackback(
                "tb-2", "trackback", "https://other.example/post", utc(2024, 1, 20), "1", HELLO
            ),
        ],
    )
    land(
        lake,
        "trackbacks",
        "acme",
        "r2b",
        RECENT,
        [
            trackback(
                "tb-2", "pingback", "https://other.example/post", utc(2024, 1, 20), "1", HELLO
            ),
        ],
    )
    land(
        lake,
        "trackbacks",
        "beta",
        "r1",
        THREE_DAYS_AGO,
        [
            trackback(
                "tb-4",
                "trackback",
                "https://friend.example/links",
                utc(2024, 2, 20),
                "7",
                "https://beta.example/p7",
                "friend.example",
            ),
        ],
    )

    land(
        lake,
        "blog_comments",
        "acme",
        "r0",
        OLD,
        [
            # pending in the first load, approved in the next one: counts
            comment(
                "c-4",
                "hold",
                "https://Other.example/me",
                "2",
                utc(2024, 2, 3),
                author_email="o@other.example",
            ),
        ],
    )
    land(
        lake,
        "blog_comments",
        "acme",
        "r1",
        THREE_DAYS_AGO,
        [
            comment(
                "c-1",
                "1",
                "https://friend.example/",
                "1",
                utc(2024, 1, 15),
                author_email="friend@friend.example",
            ),
            comment("c-2", "hold", "https://other.example", "1", utc(2024, 1, 16)),  # pending
            comment(
                "c-3", "approved", None, "2", utc(2024, 2, 4), author_email="anon@mail.example"
            ),  # no site
            comment(
                "c-4",
                "approved",
                "https://Other.example/me",
                "2",
                utc(2024, 2, 3),
                author_email="o@other.example",
            ),
            comment("c-5", "trash", "https://friend.example/", "1", utc(2024, 1, 18)),
            comment(
                "c-6",
                "approved",
                "https://www.friend.example/blog",
                "2",
                utc(2024, 2, 16),
                comment_type="",
            ),
            comment(
                "c-9",
                "spam",
                "https://spammy.example/x",
                "1",
                utc(2024, 1, 22),
                comment_type="pingback",
            ),
            comment("c-10", "approved", SECOND, "1", utc(2024, 2, 2), comment_type="pingback"),
        ],
    )


def land_posts(lake: Path) -> None:
    land(
        lake, "blog_posts", "acme", "r3", NOW - timedelta(days=2), [post("1", "Hello wrld", HELLO)]
    )
    land(
        lake,
        "blog_posts",
        "acme",
        "r4",
        RECENT,
        [
            post("1", "Hello world", HELLO),
            post("2", "Second post", SECOND),
        ],
    )


# --- forum: Discourse topics/posts and mailing-list messages --------------------------------


def topic(topic_id: str, title: str, created_at: datetime, archetype: str = "regular") -> dict:
    return {
        "topic_id": topic_id,
        "site_url": "https://forum.acme.example",
        "title": title,
        "slug": title.lower().replace(" ", "-"),
        "url": f"https://forum.acme.example/t/{topic_id}",
        "category_id": "4",
        "category_name": "help",
        "tags": ["arm"],
        "created_at": created_at,
        "archetype": archetype,
        "pinned": False,
    }


def forum_post(
    post_id: str,
    topic_id: str,
    number: int,
    user: tuple[str, str],
    created_at: datetime,
    post_type: str = "regular",
    deleted_at: datetime | None = None,
    text: str = "a post",
) -> dict:
    return {
        "post_id": post_id,
        "topic_id": topic_id,
        "post_number": number,
        "post_type": post_type,
        "author_user_id": user[0],
        "author_username": user[1].lower(),
        "author_name": user[1],
        "created_at": created_at,
        "updated_at": created_at,
        "deleted_at": deleted_at,
        "content_text": text,
    }


def message(
    message_id: str,
    sender: str,
    email: str,
    subject: str,
    sent_at: datetime,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
) -> dict:
    return {
        "message_id": message_id,
        "message_id_generated": False,
        "list_name": "dev",
        "from_name": sender,
        "from_email": email,
        "subject": subject,
        "sent_at": sent_at,
        "sent_utc_offset_minutes": 60,
        "date_source": "header",
        "in_reply_to": in_reply_to,
        "references": references,
        "body_text": "hello",
    }


ANN, BOB, CY, STAFF = ("7", "Ann"), ("8", "Bob"), ("9", "Cy"), ("1", "Staff")
CET = timezone(timedelta(hours=1))


def land_forum(lake: Path) -> None:
    land(
        lake,
        "forum_topics",
        "forum",
        "f1",
        RECENT,
        [
            topic("1", "Install on ARM", utc(2024, 3, 1, 10)),
            topic("2", "A private message", utc(2024, 3, 1, 11), archetype="private_message"),
            topic("3", "Roadmap", utc(2024, 3, 5, 9)),
        ],
    )
    land(
        lake,
        "forum_posts",
        "forum",
        "f1",
        RECENT,
        [
            forum_post("11", "1", 1, ANN, utc(2024, 3, 1, 10)),
            # the opener following up is a reply, not a response
            forum_post("12", "1", 2, ANN, utc(2024, 3, 1, 10, 30)),
            # "pinned"/"closed" notices are not replies
            forum_post("13", "1", 3, STAFF, utc(2024, 3, 1, 10, 40), post_type="small_action"),
            forum_post("14", "1", 4, BOB, utc(2024, 3, 1, 12, 15), text="first version"),
            # deleted: neither a reply nor a participant
            forum_post("15", "1", 5, CY, utc(2024, 3, 1, 12, 20), deleted_at=utc(2024, 3, 2)),
            forum_post("16", "1", 6, CY, utc(2024, 3, 1, 13)),
            forum_post("21", "2", 1, ANN, utc(2024, 3, 1, 11)),  # private: not a thread
            forum_post("31", "3", 1, BOB, utc(2024, 3, 5, 9)),
        ],
    )
    # post 14 landed again by a later run (edited): one row, the later text
    land(
        lake,
        "forum_posts",
        "forum",
        "f2",
        RECENT,
        [forum_post("14", "1", 4, BOB, utc(2024, 3, 1, 12, 15), text="edited version")],
    )
    land(
        lake,
        "mail_messages",
        "dev",
        "m1",
        RECENT,
        [
            # 08:00 at UTC+1 is 07:00 UTC
            message(
                "<a@lists.example>",
                "Dee",
                "dee@corp.example",
                "Backups?",
                datetime(2024, 3, 2, 8, tzinfo=CET),
            ),
            # Dee again (the address differs only in case): a reply, not a response
            message(
                "<b@lists.example>",
                "Dee",
                "DEE@Corp.example",
                "Re: Backups?",
                utc(2024, 3, 2, 7, 30),
                in_reply_to="<a@lists.example>",
            ),
            # In-Reply-To names a message that is not in the archive: References finds b
            message(
                "<c@lists.example>",
                "Eve",
                "eve@x.example",
                "Re: Backups?",
                utc(2024, 3, 2, 10),
                in_reply_to="<gone@lists.example>",
                references=["<a@lists.example>", "<b@lists.example>"],
            ),
            # no threading headers: the subject (list tag and Re: removed) finds a
            message(
                "<d@lists.example>",
                "Fay",
                "fay@x.example",
                "[dev] Re: backups?",
                utc(2024, 3, 3, 7),
            ),
            message("<e@lists.example>", "Gus", "gus@y.example", "Crash on start", utc(2024, 3, 4)),
            # a reply whose sender's clock is 10 minutes behind: Gus still opened the thread,
            # and the response counts as 0 hours; the name is an address in archive disguise
            message(
                "<f@lists.example>",
                "hal at z.example",
                "hal@z.example",
                "Re: Crash on start",
                utc(2024, 3, 3, 23, 50),
                in_reply_to="<e@lists.example>",
            ),
        ],
    )


def mail_thread(root: str) -> str:
    return "dev:thread:" + hashlib.md5(root.encode()).hexdigest()[:16]


FORUM_SQL = """
    select
        thread_key, channel, source, container, title, started_at, opened_by,
        first_response_at, first_responder, hours_to_first_response, is_answered,
        replies, participants, last_activity_at
    from marts.fct_forum_threads
    order by thread_key
"""


# --- repositories: git commits, GitHub issues/comments/stars, GH Archive events ----------------


def commit(
    sha: str,
    when: datetime,
    name: str,
    email: str,
    parents: list[str] | None = None,
    co_authors: list[tuple[str, str]] | None = None,
) -> dict:
    co = co_authors or []
    return {
        "repo": "acme/app",
        "sha": sha,
        "parents": parents or ["p0"],
        "author_name": name,
        "author_email": email,
        "authored_at": when,
        "author_utc_offset_minutes": 0,
        "committer_name": name,
        "committer_email": email,
        "committed_at": when,
        "committer_utc_offset_minutes": 0,
        "message": f"change {sha}\n\nbody",
        "files_changed": 1,
        "insertions": 3,
        "deletions": 1,
        "is_merge": len(parents or ["p0"]) > 1,
        "co_author_names": [n for n, _ in co],
        "co_author_emails": [e for _, e in co],
    }


def gh_item(
    number: int,
    is_pr: bool,
    login: str,
    created: datetime,
    closed: datetime | None = None,
    merged: datetime | None = None,
    author_type: str = "User",
) -> dict:
    return {
        "repo": "acme/app",
        "number": number,
        "issue_id": str(1000 + number),
        "is_pull_request": is_pr,
        "title": f"item {number}",
        "state": "closed" if closed else "open",
        "labels": [],
        "author_login": login,
        "author_association": "CONTRIBUTOR",
        "author_type": author_type,
        "created_at": created,
        "updated_at": closed or created,
        "closed_at": closed,
        "merged_at": merged,
        "is_draft": False,
        "comments": 0,
        "url": f"https://github.com/acme/app/issues/{number}",
    }


def gh_comment(
    kind: str,
    comment_id: str,
    number: int,
    login: str,
    when: datetime,
    author_type: str = "User",
    review_state: str | None = None,
) -> dict:
    return {
        "repo": "acme/app",
        "kind": kind,
        "comment_id": comment_id,
        "number": number,
        "author_login": login,
        "author_association": "NONE",
        "author_type": author_type,
        "review_state": review_state,
        "created_at": when,
        "updated_at": when,
        "url": f"https://github.com/acme/app/issues/{number}#c{comment_id}",
        "body_text": "text",
    }


def ann_commit() -> dict[str, Any]:
    return commit(
        "c1", utc(2024, 1, 10), "Ann", "ann@x.example", co_authors=[("Bob", "Bob@X.example")]
    )


def second_git_run(cy_name: str = "Cy") -> list[dict[str, Any]]:
    """The rows of the git run ``g2``: Ann's commit again, Cy's, a bot's and a merge."""
    return [
        ann_commit(),  # landed again by the next run: one row
        commit("c2", utc(2024, 1, 20), cy_name, "cy@x.example"),
        commit(
            "c3",
            utc(2024, 1, 25),
            "dependabot[bot]",
            "49699333+dependabot[bot]@users.noreply.github.com",
        ),
        commit("c4", utc(2024, 2, 2), "Dee", "77+Dee@users.noreply.github.com", ["c2", "c3"]),
    ]


def land_repo(lake: Path) -> None:
    land(lake, "repo_commits", "app-git", "g1", RECENT, [ann_commit()])
    land(lake, "repo_commits", "app-git", "g2", RECENT, second_git_run())
    land(
        lake,
        "repo_issues",
        "app-gh",
        "h1",
        RECENT,
        [
            gh_item(1, False, "ann", utc(2024, 1, 5, 10), closed=utc(2024, 2, 10)),
            gh_item(2, True, "cy", utc(2024, 1, 8, 10), utc(2024, 1, 9, 10), utc(2024, 1, 9, 10)),
            gh_item(3, True, "dependabot[bot]", utc(2024, 1, 12), author_type="Bot"),
        ],
    )
    land(
        lake,
        "repo_comments",
        "app-gh",
        "h1",
        RECENT,
        [
            gh_comment("issue_comment", "11", 1, "ann", utc(2024, 1, 5, 10, 30)),  # the author
            gh_comment(
                "issue_comment", "12", 1, "github-actions[bot]", utc(2024, 1, 5, 10, 40), "Bot"
            ),
            gh_comment("issue_comment", "13", 1, "bob", utc(2024, 1, 5, 12)),
            gh_comment("review", "21", 2, "dee", utc(2024, 1, 8, 13), review_state="approved"),
        ],
    )
    land(
        lake,
        "repo_stars",
        "app-gh",
        "h1",
        RECENT,
        [
            {"repo": "acme/app", "login": "eve", "user_id": "5", "starred_at": utc(2024, 1, 3)},
            {"repo": "acme/app", "login": "fay", "user_id": "6", "starred_at": utc(2024, 1, 4)},
        ],
    )
    land(
        lake,
        "repo_users",
        "app-gh",
        "h1",
        RECENT,
        [
            # public profile emails tie the GitHub accounts to the commit addresses
            {"login": "ann", "user_id": "1", "name": "Ann A.", "email": "Ann@X.example"},
            {"login": "Bob", "user_id": "2", "name": "Bob B.", "email": "bob@x.example"},
            {"login": "cy", "user_id": "3", "name": "Cy C.", "company": "@x", "email": None},
        ],
    )
    land(
        lake,
        "repo_events",
        "gha",
        "a1",
        RECENT,
        [
            {
                "event_id": "e1",
                "event_type": "WatchEvent",
                "action": "started",
                "actor_login": "eve",
                "repo_name": "acme/app",
                "created_at": utc(2024, 1, 3),
                "payload": '{"action": "started"}',
            }
        ],
    )


REPO_SQL = """
    select
        repo, month, commits, commit_authors, issues_opened, issues_closed, prs_opened,
        prs_closed, prs_merged, issues_responded, prs_responded,
        issue_median_hours_to_first_response, pr_median_hours_to_first_response,
        change_request_closure_ratio
    from marts.fct_repo_activity_monthly
    order by repo, month
"""


# --- running dbt ------------------------------------------------------------------------------


def run_dbt(root: Path, *args: str) -> dbtRunnerResult:
    return dbtRunner().invoke(
        [
            *args,
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
            "--target-path",
            str(root / "target"),
            "--log-path",
            str(root / "logs"),
        ]
    )


def query(warehouse: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


MONTHLY_SQL = """
    select
        month, source, referring_domain, post_key, post_title, post_url,
        trackbacks, pingbacks, comments, inbound_links, distinct_referring_urls
    from marts.fct_inbound_reach_monthly
    order by month, source, referring_domain, post_key
"""
BY_SITE_SQL = """
    select
        month, referring_domain, trackbacks, pingbacks, comments, inbound_links,
        distinct_referring_urls, posts_reached, blogs_reached
    from marts.fct_inbound_reach_by_site
    order by month, referring_domain
"""


@dataclass
class Warehouse:
    root: Path
    lake: Path
    path: Path
    build_seconds: list[float] = field(default_factory=list)
    builds: list[dbtRunnerResult] = field(default_factory=list)
    monthly: list[list[tuple[Any, ...]]] = field(default_factory=list)
    by_site: list[list[tuple[Any, ...]]] = field(default_factory=list)
    forum: list[list[tuple[Any, ...]]] = field(default_factory=list)
    repo: list[list[tuple[Any, ...]]] = field(default_factory=list)
    text_values: list[tuple[str, str, str]] = field(default_factory=list)
    freshness: dbtRunnerResult | None = None

    def build(self) -> None:
        started = time.perf_counter()
        result = run_dbt(self.root, "build")
        self.build_seconds.append(time.perf_counter() - started)
        self.builds.append(result)
        assert result.success, f"dbt build failed: {result.exception or result.result}"
        self.monthly.append(query(self.path, MONTHLY_SQL))
        self.by_site.append(query(self.path, BY_SITE_SQL))
        self.forum.append(query(self.path, FORUM_SQL))
        self.repo.append(query(self.path, REPO_SQL))


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """Phase 1: trackbacks and comments landed, no posts; phase 2: posts land, build again."""
    root = tmp_path_factory.mktemp("dbt")
    wh = Warehouse(root=root, lake=root / "lake", path=root / "warehouse.duckdb")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TOWNSQUARE_LAKE", str(wh.lake))
        mp.setenv("TOWNSQUARE_WAREHOUSE", str(wh.path))
        mp.setenv("DO_NOT_TRACK", "1")
        mp.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        land_trackbacks_and_comments(wh.lake)
        land_forum(wh.lake)
        land_repo(wh.lake)
        wh.build()
        wh.text_values = query(
            wh.path,
            """
            select table_name, column_name, data_type
            from information_schema.columns
            where table_schema = 'marts'
            """,
        )
        wh.freshness = run_dbt(root, "source", "freshness")
        land_posts(wh.lake)
        wh.build()
        yield wh


# --- tests ------------------------------------------------------------------------------------

PHASE1_MONTHLY = [
    # month, source, referring_domain, post_key, post_title, post_url,
    # trackbacks, pingbacks, comments, inbound_links, distinct_referring_urls
    # January: tb-1 (landed twice, counted once) + c-1; c-5 trash and c-9 spam excluded
    (JAN, "acme", "friend.example", "acme:1", None, HELLO, 1, 0, 1, 1, 2),
    # tb-2: the later run r2b says pingback; c-2 is pending
    (JAN, "acme", "other.example", "acme:1", None, HELLO, 0, 1, 0, 1, 1),
    # February: tb-3 + c-6 (empty comment_type is a comment, www. stripped)
    (FEB, "acme", "friend.example", "acme:2", None, SECOND, 1, 0, 1, 1, 2),
    # tb-5 received 2024-01-31 23:30 -05:00 = February in UTC
    (FEB, "acme", "other.example", "acme:1", None, HELLO, 0, 1, 0, 1, 1),
    # c-4 approved in its latest load
    (FEB, "acme", "other.example", "acme:2", None, SECOND, 0, 0, 1, 0, 1),
    # tb-6 knows only its target URL and no post has landed yet
    (FEB, "acme", "third.example", f"acme:url:{SECOND}", None, SECOND, 1, 0, 0, 1, 1),
    (FEB, "beta", "friend.example", "beta:7", None, "https://beta.example/p7", 1, 0, 0, 1, 1),
]

PHASE1_BY_SITE = [
    # month, referring_domain, trackbacks, pingbacks, comments, inbound_links,
    # distinct_referring_urls, posts_reached, blogs_reached
    (JAN, "friend.example", 1, 0, 1, 1, 2, 1, 1),
    (JAN, "other.example", 0, 1, 0, 1, 1, 1, 1),
    # tb-3 (acme:2), tb-4 (beta:7), c-6 (acme:2); URLs .../again, .../links, www.friend.example/blog
    (FEB, "friend.example", 2, 0, 1, 2, 3, 2, 2),
    # tb-5 (acme:1), c-4 (acme:2)
    (FEB, "other.example", 0, 1, 1, 1, 2, 2, 1),
    (FEB, "third.example", 1, 0, 0, 1, 1, 1, 1),
]


def test_build_counts_inbound_reach_by_post_site_and_month(warehouse: Warehouse) -> None:
    assert warehouse.monthly[0] == PHASE1_MONTHLY
    assert warehouse.by_site[0] == PHASE1_BY_SITE


def test_posts_landing_later_fill_titles_and_resolve_target_urls(warehouse: Warehouse) -> None:
    titles = {"acme:1": "Hello world", "acme:2": "Second post"}  # r4 beats r3's "Hello wrld"
    expected = sorted(
        (
            row[0],
            row[1],
            row[2],
            "acme:2" if row[3] == f"acme:url:{SECOND}" else row[3],
            titles.get("acme:2" if row[3] == f"acme:url:{SECOND}" else row[3]),
            *row[5:],
        )
        for row in PHASE1_MONTHLY
    )
    assert warehouse.monthly[1] == expected
    assert warehouse.monthly[1][5] == (
        FEB,
        "acme",
        "third.example",
        "acme:2",
        "Second post",
        SECOND,
        1,
        0,
        0,
        1,
        1,
    )
    assert warehouse.by_site[1] == PHASE1_BY_SITE


def test_staging_dedups_on_natural_key_keeping_latest_ingestion(warehouse: Warehouse) -> None:
    rows = query(
        warehouse.path,
        """
        select trackback_id, kind, run_id, source_domain
        from staging.stg_trackback__trackbacks
        where trackback_id in ('tb-1', 'tb-2', 'tb-5')
        order by trackback_id
        """,
    )
    assert rows == [
        ("tb-1", "trackback", "r2", "friend.example"),
        ("tb-2", "pingback", "r2b", "other.example"),
        ("tb-5", "pingback", "r2", "other.example"),
    ]
    assert query(warehouse.path, "select count(*) from staging.stg_trackback__trackbacks") == [(8,)]
    comments = query(
        warehouse.path,
        """
        select comment_id, status, is_approved, comment_type, author_domain
        from staging.stg_blog__comments
        where comment_id in ('c-1', 'c-2', 'c-4', 'c-6')
        order by comment_id
        """,
    )
    assert comments == [
        ("c-1", "approved", True, "comment", "friend.example"),
        ("c-2", "pending", False, "comment", "other.example"),
        ("c-4", "approved", True, "comment", "other.example"),
        ("c-6", "approved", True, "comment", "friend.example"),
    ]
    assert query(
        warehouse.path,
        "select post_key, title, run_id, categories from staging.stg_blog__posts order by post_key",
    ) == [("acme:1", "Hello world", "r4", ["news"]), ("acme:2", "Second post", "r4", ["news"])]


def test_forum_threads_first_response_replies_and_participants(warehouse: Warehouse) -> None:
    a, e = mail_thread("a@lists.example"), mail_thread("e@lists.example")
    expected = [
        # Bob answers Ann 2h15 after she opened; replies 12, 14, 16 (13 is a small action,
        # 15 is deleted); participants Ann, Bob, Cy
        (
            "forum:1",
            "forum",
            "forum",
            "help",
            "Install on ARM",
            datetime(2024, 3, 1, 10),
            "Ann",
            datetime(2024, 3, 1, 12, 15),
            "Bob",
            2.25,
            True,
            3,
            3,
            datetime(2024, 3, 1, 13),
        ),
        (
            "forum:3",
            "forum",
            "forum",
            "help",
            "Roadmap",
            datetime(2024, 3, 5, 9),
            "Bob",
            None,
            None,
            None,
            False,
            0,
            1,
            datetime(2024, 3, 5, 9),
        ),
        # Dee opens at 07:00 UTC, answers herself at 07:30; Eve answers at 10:00 (3 hours);
        # Fay joins by subject; replies b, c, d; participants Dee, Eve, Fay
        (
            a,
            "mailing_list",
            "dev",
            "dev",
            "Backups?",
            datetime(2024, 3, 2, 7),
            "Dee",
            datetime(2024, 3, 2, 10),
            "Eve",
            3.0,
            True,
            3,
            3,
            datetime(2024, 3, 3, 7),
        ),
        (
            e,
            "mailing_list",
            "dev",
            "dev",
            "Crash on start",
            datetime(2024, 3, 4),
            "Gus",
            datetime(2024, 3, 3, 23, 50),
            "[email hidden]",
            0.0,
            True,
            1,
            2,
            datetime(2024, 3, 4),
        ),
    ]
    assert warehouse.forum[0] == sorted(expected)
    assert warehouse.forum[1] == warehouse.forum[0]  # the second build changes nothing


def test_forum_staging_dedups_and_threads(warehouse: Warehouse) -> None:
    assert query(warehouse.path, "select count(*) from staging.stg_discourse__posts") == [(8,)]
    assert query(
        warehouse.path,
        "select run_id, content_text from staging.stg_discourse__posts where post_id = '14'",
    ) == [("f2", "edited version")]
    assert query(
        warehouse.path,
        """
        select message_id, parent_message_id, parent_rule, thread_root_message_id
        from staging.stg_mail__messages order by message_id
        """,
    ) == [
        ("a@lists.example", None, None, "a@lists.example"),
        ("b@lists.example", "a@lists.example", "in_reply_to", "a@lists.example"),
        ("c@lists.example", "b@lists.example", "references", "a@lists.example"),
        ("d@lists.example", "a@lists.example", "subject", "a@lists.example"),
        ("e@lists.example", None, None, "e@lists.example"),
        ("f@lists.example", "e@lists.example", "in_reply_to", "e@lists.example"),
    ]


def test_repo_activity_by_month(warehouse: Warehouse) -> None:
    jan, feb = date(2024, 1, 1), date(2024, 2, 1)
    assert warehouse.repo[0] == [
        # c1 (landed twice), c2, c3; authors Ann, her co-author Bob, Cy (dependabot is a bot);
        # issue 1 answered by Bob after 2 h (Ann herself and github-actions[bot] do not count);
        # PR 2 approved by Dee after 3 h, merged; PR 3 (dependabot) unanswered: closure 1/2
        ("acme/app", jan, 3, 3, 1, 0, 2, 1, 1, 1, 1, 2.0, 3.0, 0.5),
        # c4, Dee's merge commit (a noreply address: login dee); issue 1 closed
        ("acme/app", feb, 1, 1, 0, 1, 0, 0, 0, 0, 0, None, None, None),
    ]
    assert warehouse.repo[1] == warehouse.repo[0]
    assert query(
        warehouse.path,
        "select sha, author_login, author_is_bot, is_merge from staging.stg_git__commits "
        "order by sha",
    ) == [
        ("c1", None, False, False),
        ("c2", None, False, False),
        ("c3", "dependabot[bot]", True, False),
        ("c4", "dee", False, True),
    ]
    assert query(
        warehouse.path,
        "select comment_key, author_is_bot, review_state from staging.stg_github__comments "
        "order by comment_key",
    ) == [
        ("acme/app:issue_comment:11", False, None),
        ("acme/app:issue_comment:12", True, None),
        ("acme/app:issue_comment:13", False, None),
        ("acme/app:review:21", False, "APPROVED"),
    ]


def test_people_resolve_across_git_and_github(warehouse: Warehouse) -> None:
    persons = dict(
        query(
            warehouse.path,
            "select identity_ref, person_anchor_ref from intermediate.int_identities "
            "where identity_ref similar to '(git|github):.*'",
        )
    )
    # Ann and Bob: their GitHub profiles show their commit addresses (Bob's co-author
    # trailer wrote it Bob@X.example); Cy's profile has no email: two persons. A person is
    # anchored on the identity seen first: Ann's issue (Jan 5) and Bob's comment (Jan 5)
    # come before the commit of Jan 10
    assert persons["github:ann"] == persons["git:ann@x.example"] == "github:ann"
    assert persons["github:bob"] == persons["git:bob@x.example"] == "github:bob"
    assert persons["github:cy"] == "github:cy"
    assert persons["git:cy@x.example"] == "git:cy@x.example"
    # Dee's only commit is a merge (not an activity); dependabot is its own (bot) person
    assert "git:77+dee@users.noreply.github.com" not in persons
    assert query(
        warehouse.path,
        "select rule, evidence_key from intermediate.int_identity_edges "
        "where identity_b in ('github:ann', 'github:bob') order by identity_b",
    ) == [("same_email", "email:ann@x.example"), ("same_email", "email:bob@x.example")]
    ann = query(
        warehouse.path,
        """
        select
            dim.display_name, dim.organization, dim.identities, dim.activities,
            dim.repository_activities, dim.weighted_activity, dim.acquisition_channel,
            dim.acquisition_activity_type, dim.first_seen_at, dim.first_contribution_at,
            dim.is_bot
        from marts.dim_contributors as dim
        inner join intermediate.int_identities as ids on dim.person_id = ids.person_id
        where ids.identity_ref = 'github:ann'
        """,
    )
    # issue 1 opened (4) on Jan 5 10:00, her own comment on it (2), commit c1 (5) on Jan 10;
    # the organization is her address's domain; the name is her GitHub profile's
    assert ann == [
        (
            "Ann A.",
            "x.example",
            2,
            3,
            3,
            11.0,
            "repository",
            "issue_opened",
            datetime(2024, 1, 5, 10),
            datetime(2024, 1, 10),
            False,
        )
    ]
    # Cy's GitHub company "@x" matches the known domain x.example (from the commit addresses)
    assert query(
        warehouse.path,
        """
        select orgs.organization, orgs.evidence
        from intermediate.int_person_organizations as orgs
        inner join intermediate.int_identities as ids on orgs.person_id = ids.person_id
        where ids.identity_ref = 'github:cy'
        """,
    ) == [("x.example", "github_company")]
    assert query(
        warehouse.path,
        "select bool_or(is_bot) from intermediate.int_identities "
        "where identity_ref like '%dependabot%'",
    ) == [(True,)]


def test_marts_hold_no_email_addresses(warehouse: Warehouse) -> None:
    # The emails did reach staging, so the check below is not vacuous.
    assert query(
        warehouse.path,
        "select author_email from staging.stg_blog__comments where comment_id = 'c-1'",
    ) == [("friend@friend.example",)]
    assert {table for table, _, _ in warehouse.text_values} == set(MARTS)
    assert all(column != "author_email" for _, column, _ in warehouse.text_values)
    text_columns = [(t, c) for t, c, data_type in warehouse.text_values if data_type == "VARCHAR"]
    assert ("fct_inbound_reach_monthly", "referring_domain") in text_columns
    for table, column in text_columns:
        found = query(
            warehouse.path,
            f"select count(*) from marts.{table} where contains(\"{column}\", '@')",
        )
        assert found == [(0,)], f"marts.{table}.{column} holds an '@'"


def test_docs_generate_documents_every_mart_column(warehouse: Warehouse) -> None:
    result = run_dbt(warehouse.root, "docs", "generate")
    assert result.success, result.exception
    target = warehouse.root / "target"
    catalog = json.loads((target / "catalog.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    assert (target / "index.html").stat().st_size > 10_000
    for name in MARTS:
        node_id = f"model.townsquare.{name}"
        # the catalog read the built table; the manifest carries rendered descriptions
        assert set(catalog["nodes"][node_id]["columns"]) == set(
            manifest["nodes"][node_id]["columns"]
        )
        assert manifest["nodes"][node_id]["description"], name
        for column, doc in manifest["nodes"][node_id]["columns"].items():
            assert doc["description"].strip(), f"{name}.{column} has no description"
    # docs blocks render into the descriptions
    funnel = manifest["nodes"]["model.townsquare.fct_community_funnel_monthly"]["description"]
    assert "Stages are nested" in funnel and "{{" not in funnel


def test_source_freshness_reports_stale_and_missing_sources(warehouse: Warehouse) -> None:
    assert warehouse.freshness is not None
    results = {r.node.unique_id: r for r in warehouse.freshness.result.results}
    status = {uid: str(r.status) for uid, r in results.items()}
    assert status == {
        "source.townsquare.trackback.trackbacks": "pass",  # newest row landed an hour ago
        "source.townsquare.blog.blog_comments": "warn",  # newest row is 3 days old
        "source.townsquare.blog.blog_posts": "error",  # nothing landed yet
        "source.townsquare.discourse.forum_topics": "pass",
        "source.townsquare.discourse.forum_posts": "pass",
        "source.townsquare.mail.mail_messages": "pass",
        "source.townsquare.git.repo_commits": "pass",
        "source.townsquare.github.repo_issues": "pass",
        "source.townsquare.github.repo_comments": "pass",
        "source.townsquare.github.repo_stars": "pass",
        "source.townsquare.github.repo_users": "pass",
        "source.townsquare.gharchive.repo_events": "pass",
        "source.townsquare.crm.accounts": "error",  # nothing landed yet
        "source.townsquare.crm.subscriptions": "error",
    }
    assert results["source.townsquare.trackback.trackbacks"].max_loaded_at == RECENT
    assert results["source.townsquare.blog.blog_comments"].max_loaded_at == THREE_DAYS_AGO


def test_every_build_passed_all_tests(warehouse: Warehouse) -> None:
    for result in warehouse.builds:
        statuses = [str(r.status) for r in result.result.results]
        assert statuses, "dbt build ran nothing"
        # the one expected warning: the overrides seed names the demo's identities, which
        # this lake does not have
        warned = {r.node.name for r in result.result.results if str(r.status) == "warn"}
        assert warned <= {"assert_identity_overrides_name_known_identities"}, warned
        assert set(statuses) <= {"success", "pass", "no-op", "warn"}, statuses
        kinds = {r.node.resource_type for r in result.result.results}
        assert {"model", "test", "unit_test"} <= {str(k) for k in kinds}


def test_parse_registers_lineage_and_enforces_mart_contracts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOWNSQUARE_LAKE", str(tmp_path / "lake"))
    monkeypatch.setenv("TOWNSQUARE_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    result = run_dbt(tmp_path, "parse")
    assert result.success, result.exception
    manifest = result.result
    for name in MARTS:
        node = manifest.nodes[f"model.townsquare.{name}"]
        assert node.config.contract.enforced is True
        # the activity stream and the threads are incremental (issue 8); the rest are small
        # aggregates
        expected = "incremental" if name in ("fct_activities", "fct_forum_threads") else "table"
        assert node.config.materialized == expected, name
        assert node.schema == "marts"
        assert all(column.data_type for column in node.columns.values())
    # lake_source() registers the dependency on the dbt source
    assert manifest.nodes["model.townsquare.stg_blog__posts"].depends_on.nodes == [
        "source.townsquare.blog.blog_posts"
    ]
    assert manifest.nodes["model.townsquare.stg_trackback__trackbacks"].depends_on.nodes == [
        "source.townsquare.trackback.trackbacks"
    ]
    exposure = manifest.exposures["exposure.townsquare.executive_dashboard"]
    assert sorted(exposure.depends_on.nodes) == [
        f"model.townsquare.{name}" for name in sorted(MARTS)
    ]
    freshness = manifest.sources["source.townsquare.blog.blog_comments"].freshness
    assert (freshness.warn_after.count, freshness.error_after.count) == (2, 7)


ARROW_TO_DUCKDB = {
    "string": "varchar",
    "int64": "bigint",
    "timestamp[us, tz=UTC]": "timestamp with time zone",
    "list<item: string>": "varchar[]",
    "bool": "boolean",
    "decimal128(18, 2)": "decimal(18,2)",
}


@pytest.mark.parametrize(
    ("yml", "entity"),
    [
        ("staging/blog/_blog__sources.yml", "blog_posts"),
        ("staging/blog/_blog__sources.yml", "blog_comments"),
        ("staging/trackback/_trackback__sources.yml", "trackbacks"),
        ("staging/discourse/_discourse__sources.yml", "forum_topics"),
        ("staging/discourse/_discourse__sources.yml", "forum_posts"),
        ("staging/mail/_mail__sources.yml", "mail_messages"),
        ("staging/git/_git__sources.yml", "repo_commits"),
        ("staging/github/_github__sources.yml", "repo_issues"),
        ("staging/github/_github__sources.yml", "repo_comments"),
        ("staging/github/_github__sources.yml", "repo_stars"),
        ("staging/github/_github__sources.yml", "repo_users"),
        ("staging/gharchive/_gharchive__sources.yml", "repo_events"),
        ("staging/crm/_crm__sources.yml", "accounts"),
        ("staging/crm/_crm__sources.yml", "subscriptions"),
    ],
)
def test_source_columns_match_lake_schema(yml: str, entity: str) -> None:
    """The declared columns (used for the empty-lake fallback) follow townsquare.schemas."""
    document = yaml.safe_load((PROJECT_DIR / "models" / yml).read_text())
    tables = [t for s in document["sources"] for t in s["tables"] if t["name"] == entity]
    assert len(tables) == 1
    assert tables[0]["config"]["meta"]["lake_entity"] == entity
    declared = [(c["name"], c["data_type"]) for c in tables[0]["columns"]]
    expected = [(f.name, ARROW_TO_DUCKDB[str(f.type)]) for f in ENTITIES[entity].schema]
    assert declared == expected


def test_production_builds_skip_unit_tests_unless_told_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI, the DAGs and the bench call dbt through townsquare.build.run_dbt with
    paths.dbt_env: unit tests (fixed inputs) are skipped there, as dbt advises for
    production; this suite's own builds run them (test_every_build_passed_all_tests).
    DBT_EXCLUDE_RESOURCE_TYPES set in the environment, even empty, wins."""
    from townsquare.build import run_dbt as production_dbt

    monkeypatch.setenv("TOWNSQUARE_ID_SALT", "unit-tests")

    def kinds() -> dict[str, int]:
        result = production_dbt(
            ["ls", "--resource-type", "unit_test", "test", "--output", "json",
             "--output-keys", "resource_type"],
            lake=str(tmp_path / "lake"),
            warehouse=str(tmp_path / "warehouse.duckdb"),
            target_path=str(tmp_path / "target"),
        )  # fmt: skip
        counts: dict[str, int] = {}
        for line in result.result:
            kind = json.loads(line)["resource_type"]
            counts[kind] = counts.get(kind, 0) + 1
        return counts

    monkeypatch.delenv("DBT_EXCLUDE_RESOURCE_TYPES", raising=False)
    skipped = kinds()
    assert "unit_test" not in skipped and skipped["test"] > 100, skipped
    monkeypatch.setenv("DBT_EXCLUDE_RESOURCE_TYPES", "")
    everything = kinds()
    assert everything["unit_test"] >= 30 and everything["test"] == skipped["test"], everything

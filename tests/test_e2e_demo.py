"""End to end: `townsquare demo` lands the samples, builds, checks; then we query the marts.

The expected mart totals are recomputed here straight from the sample files with the
standard library (independent oracles: the WXR with ElementTree, the recorded Discourse
JSON with json, the mbox with ``mailbox``), not copied from the pipeline's output.
"""

from __future__ import annotations

import csv
import gzip
import json
import mailbox
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pytest

from townsquare.paths import project_root, samples_dir

pytestmark = pytest.mark.e2e

WP = "{http://wordpress.org/export/1.2/}"


def _domain(url: str) -> str | None:
    host = urlsplit(url).hostname if url else None
    if not host:
        return None
    host = host.lower()
    return host[4:] if host.startswith("www.") else host


def expected_links_by_site() -> Counter:
    """Approved pingbacks/trackbacks per referring domain, minus links from the blog itself."""
    tree = ET.parse(samples_dir() / "blog" / "lumen-blog.wxr.xml")  # trusted, bundled file
    own = {
        _domain(tree.findtext("channel/link")),
        _domain(tree.findtext(f"channel/{WP}base_site_url")),
    }
    links: Counter = Counter()
    for item in tree.iterfind("channel/item"):
        if item.findtext(f"{WP}post_type") not in ("post", "page"):
            continue
        for c in item.iterfind(f"{WP}comment"):
            if c.findtext(f"{WP}comment_type") not in ("pingback", "trackback"):
                continue
            if c.findtext(f"{WP}comment_approved") != "1":
                continue
            domain = _domain(c.findtext(f"{WP}comment_author_url") or "")
            if domain and domain not in own:
                links[domain] += 1
    return links


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNSQUARE_")}
    proc = subprocess.run(
        [sys.executable, "-m", "townsquare.cli", "demo", "--home", str(home), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def discourse_first_responses() -> dict[str, tuple[int, float | None]]:
    """Per recorded topic: (replies, hours to the first reply by another user)."""
    folder = samples_dir() / "forum" / "discourse"
    out = {}
    for path in sorted(folder.glob("t__*.json")):
        if path.name.count("__") != 1:
            continue  # t__10__posts.post_ids-….json: the chunked posts, read below
        topic = json.loads(path.read_text())
        posts = list(topic["post_stream"]["posts"])
        for extra in folder.glob(f"t__{topic['id']}__posts.*.json"):
            posts += json.loads(extra.read_text())["post_stream"]["posts"]
        regular = sorted(
            (p for p in posts if p["post_type"] == 1 and not p.get("deleted_at")),
            key=lambda p: p["post_number"],
        )
        when = [datetime.fromisoformat(p["created_at"].replace("Z", "+00:00")) for p in regular]
        first = next(
            (i for i, p in enumerate(regular) if p["user_id"] != regular[0]["user_id"]), None
        )
        hours = (when[first] - when[0]).total_seconds() / 3600 if first is not None else None
        out[f"lumen-forum:{topic['id']}"] = (len(regular) - 1, hours)
    return out


def gharchive_events(repo: str) -> int:
    """Distinct events of ``repo`` in the bundled GH Archive hours."""
    ids = set()
    for path in (samples_dir() / "repo" / "gharchive").glob("*.json.gz"):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                event = json.loads(line)
                if event["repo"]["name"].lower() == repo:
                    ids.add(event["id"])
    return len(ids)


def lumen_git_commits(demo: dict) -> int:
    """Commits of every ref of the Lumen repository the demo built (plain git)."""
    repo = Path(demo["home"]) / "samples" / "lumen-git"
    out = subprocess.run(
        ["git", "-C", str(repo), "rev-list", "--all", "--count"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout)


def test_demo_lands_every_sample(demo: dict) -> None:
    by_source = {s["source"]: s["entities"] for s in demo["sources"]}
    assert set(by_source) == {
        "lumen-blog",
        "lumen-community",
        "lumen-releases",
        "lumen-dev",
        "lumen-forum",
        "lumen-users",
        "lumen-github",
        "lumen-gharchive",
        "lumen-git",
        "townsquare-git",
        "lumen-crm",
    }
    # The CRM export: every account and subscription lands
    crm = samples_dir() / "commercial" / "crm"
    for entity in ("accounts", "subscriptions"):
        with (crm / f"{entity}.csv").open(encoding="utf-8", newline="") as fh:
            rows = sum(1 for _ in csv.DictReader(fh))
        assert by_source["lumen-crm"][entity] == {"rows": rows, "quarantined": 0}
    # The WXR sample: 25 posts + 2 pages, 240 comments of which 40 are linkbacks.
    assert by_source["lumen-blog"]["blog_posts"] == {"rows": 27, "quarantined": 0}
    assert by_source["lumen-blog"]["trackbacks"] == {"rows": 40, "quarantined": 0}
    assert by_source["lumen-blog"]["blog_comments"]["rows"] == 240
    # The community RSS feed (10 posts) and its comment feed (30 comments).
    assert by_source["lumen-community"]["blog_posts"]["rows"] == 10
    assert by_source["lumen-community"]["blog_comments"]["rows"] == 30
    assert demo["layers"]["staging"]["stg_blog__posts"] == 27 + 10 + 8
    assert demo["build"]["marts"]["fct_inbound_reach_monthly"] > 0
    # The forum: 30 topics (2 pinned), 150 posts; the mailing lists: 120 + 60 messages.
    assert by_source["lumen-forum"]["forum_topics"] == {"rows": 30, "quarantined": 0}
    assert by_source["lumen-forum"]["forum_posts"] == {"rows": 150, "quarantined": 0}
    box = mailbox.mbox(samples_dir() / "forum" / "mail" / "lumen-dev.mbox", create=False)
    assert by_source["lumen-dev"]["mail_messages"] == {"rows": len(box), "quarantined": 0}
    box.close()
    assert by_source["lumen-users"]["mail_messages"] == {"rows": 60, "quarantined": 0}
    assert demo["layers"]["staging"]["stg_mail__messages"] == 180
    # The recorded GitHub API: 40 issues + 30 pull requests, 152 comments/reviews, 80 stars,
    # the profiles of the 80 people seen.
    assert by_source["lumen-github"] == {
        "repo_issues": {"rows": 70, "quarantined": 0},
        "repo_comments": {"rows": 152, "quarantined": 0},
        "repo_stars": {"rows": 80, "quarantined": 0},
        "repo_users": {"rows": 80, "quarantined": 0},
    }
    assert by_source["lumen-gharchive"]["repo_events"] == {
        "rows": gharchive_events("lumen-db/lumen"),
        "quarantined": 0,
    }
    # Lumen's history, built from the bundled fast-import stream into the demo home
    assert by_source["lumen-git"]["repo_commits"] == {
        "rows": lumen_git_commits(demo),
        "quarantined": 0,
    }
    # This project's own history: every commit reachable from any ref
    commits = subprocess.run(
        ["git", "-C", str(project_root()), "rev-list", "--all", "--count"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert by_source["townsquare-git"]["repo_commits"]["rows"] == int(commits.stdout)


def test_forum_threads_match_the_recorded_forum(demo: dict) -> None:
    expected = discourse_first_responses()
    with duckdb.connect(demo["warehouse"], read_only=True) as con:
        got = {
            key: (replies, hours)
            for key, replies, hours in con.execute(
                "select thread_key, replies, hours_to_first_response "
                "from marts.fct_forum_threads where channel = 'forum'"
            ).fetchall()
        }
        mail_threads = con.execute(
            "select count(*), sum(replies + 1) from marts.fct_forum_threads "
            "where channel = 'mailing_list'"
        ).fetchall()[0]
    assert set(got) == set(expected)
    for key, (replies, hours) in expected.items():
        assert got[key][0] == replies, key
        assert got[key][1] == pytest.approx(hours), key
    assert sum(h is None for _, h in expected.values()) >= 3  # unanswered topics exist
    # every mailing-list message is in exactly one thread
    assert mail_threads[1] == 180
    assert 20 < mail_threads[0] < 180


def test_mart_inbound_links_match_the_export(demo: dict) -> None:
    expected = expected_links_by_site()
    with duckdb.connect(demo["warehouse"], read_only=True) as con:
        got = dict(
            con.execute(
                "select referring_domain, sum(inbound_links)::int from marts.fct_inbound_reach_monthly "
                "group by 1 having sum(inbound_links) > 0"
            ).fetchall()
        )
        by_site = dict(
            con.execute(
                "select referring_domain, sum(inbound_links)::int from marts.fct_inbound_reach_by_site "
                "group by 1 having sum(inbound_links) > 0"
            ).fetchall()
        )
    assert got == dict(expected)
    assert by_site == dict(expected)
    assert sum(expected.values()) > 20  # the sample is rich enough to be interesting


def test_no_emails_or_ips_in_the_marts(demo: dict) -> None:
    with duckdb.connect(demo["warehouse"], read_only=True) as con:
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
        assert tables
        for (table,) in tables:
            text = " ".join(
                str(v) for row in con.execute(f"from marts.{table}").fetchall() for v in row
            )
            assert "@" not in text, table
            assert not re.search(r"\b\d{1,3}(\.\d{1,3}){3}\b", text), table
            assert not re.search(r"(?i)\b[0-9a-f]{1,4}(:[0-9a-f]{0,4}){2,7}::?[0-9a-f]*\b", text), (
                table
            )
        # the marts hold no address of any person the staging layer knows
        addresses = {
            a
            for (a,) in con.execute(
                "select distinct lower(author_email) from staging.stg_blog__comments "
                "where author_email is not null union "
                "select distinct from_email from staging.stg_mail__messages "
                "where from_email is not null union "
                "select distinct author_email from staging.stg_git__commits "
                "where author_email is not null"
            ).fetchall()
        }
        assert len(addresses) > 50
        people = " ".join(
            str(v) for row in con.execute("from marts.dim_contributors").fetchall() for v in row
        ).lower()
        assert not [a for a in addresses if a in people]
    raw = b"".join(p.read_bytes() for p in Path(demo["lake"]).rglob("*.parquet"))
    assert b"comment_author_IP" not in raw
    # the WXR export does carry commenter IPs (IPv4 and IPv6): they never reach the lake
    wxr = (samples_dir() / "blog" / "lumen-blog.wxr.xml").read_text()
    ips = re.findall(r"<wp:comment_author_IP><!\[CDATA\[([^\]]+)\]\]>", wxr)
    assert any(":" in ip for ip in ips) and any("." in ip for ip in ips)
    assert not [ip for ip in set(ips) if ip.encode() in raw]


def _normalized(address: str) -> str:
    """The identity rules' address normalization, restated for the oracle below."""
    local, _, domain = address.strip().lower().partition("@")
    if domain in ("gmail.com", "googlemail.com"):
        return local.split("+")[0].replace(".", "") + "@gmail.com"
    if domain in ("outlook.com", "proton.me", "yahoo.com"):
        return (local.split("+")[0] if domain != "yahoo.com" else local) + "@" + domain
    return f"{local}@{domain}"


def test_people_are_resolved_across_channels(demo: dict) -> None:
    """Oracle: the sample files themselves (mbox, WXR, git log), read with the stdlib."""
    blog = {
        _normalized(e.text or ""): e.text
        for e in ET.parse(samples_dir() / "blog" / "lumen-blog.wxr.xml").iter(
            f"{WP}comment_author_email"
        )
        if e.text and "@" in e.text
    }
    mail_variants = set()
    for message in mailbox.mbox(samples_dir() / "forum" / "mail" / "lumen-dev.mbox"):
        address = re.sub(r".*<([^>]+)>.*", r"\1", str(message["From"])).strip()
        if address != address.lower() or "+" in address:
            mail_variants.add(address)
    assert len(mail_variants) >= 4  # plus-tags and capitals were planted
    repo = Path(demo["home"]) / "samples" / "lumen-git"
    log = subprocess.run(
        ["git", "-C", str(repo), "log", "--all", "--no-merges", "--format=%ae%x09%aI"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    noreply = {
        line.split("\t")[0].lower()
        for line in log
        if line.lower().split("\t")[0].endswith("@users.noreply.github.com") and "[bot]" not in line
    }
    assert len(noreply) >= 10
    with duckdb.connect(demo["warehouse"], read_only=True) as con:
        person = dict(
            con.execute(
                "select identity_ref, person_id from intermediate.int_identities"
            ).fetchall()
        )
    # a mailing-list variant of a blog address is the blog commenter
    linked = 0
    for address in mail_variants:
        original = blog.get(_normalized(address))
        if original:
            assert person[f"mail:{address.lower()}"] == person[f"blog:{original.lower()}"], address
            linked += 1
    assert linked >= 4
    # a noreply commit address is the GitHub account it names
    for address in noreply:
        login = address.split("@")[0].split("+")[-1]
        assert person[f"git:{address}"] == person[f"github:{login}"], address
    # the overrides seed: the shared team address is split, each side merged with its owner
    team = "tessera-labs.example.net"
    assert person[f"mail:team@{team}"] == person[f"mail:soren.orsted@{team}"]
    assert person[f"git:team@{team}"] == person[f"blog:jonas.achterberg@{team}"]
    assert person[f"git:team@{team}"] != person[f"mail:team@{team}"]
    # the forum's kestrel-dev is not the GitHub stargazer kestrel-dev (a split override)
    assert person["discourse:lumen-forum:kestrel-dev"] != person["github:kestrel-dev"]
    # the forum signs in with GitHub: a hyphenated forum username is that GitHub account
    assert person["discourse:lumen-forum:omar-wendt"] == person["github:omar-wendt"]


def test_a_job_change_gives_two_organization_periods(demo: dict) -> None:
    # Vera's first activity under her new address: a commit or a Co-authored-by trailer
    repo = Path(demo["home"]) / "samples" / "lumen-git"
    address = "vera.okonkwo@windmill-analytics.example.org"
    log = subprocess.run(
        ["git", "-C", str(repo), "log", "--all", "--format=%x00%aI%x09%ae%n%B"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    moved = min(
        datetime.fromisoformat(entry.split("\t")[0])
        for entry in log[1:]
        if address in entry.lower()
    )
    with duckdb.connect(demo["warehouse"], read_only=True) as con:
        periods = con.execute(
            """
            select orgs.organization, orgs.valid_from, orgs.valid_to, orgs.is_current
            from intermediate.int_person_organizations as orgs
            where orgs.person_id = (
                select person_id from intermediate.int_identities
                where identity_ref = 'github:vera-okonkwo'
            )
            order by orgs.valid_from nulls first
            """
        ).fetchall()
    utc_moved = moved.astimezone(UTC).replace(tzinfo=None)
    assert periods == [
        ("contoso-iot.example.net", None, utc_moved, False),
        ("windmill-analytics.example.org", utc_moved, None, True),
    ]


def test_repo_mart_matches_the_recorded_github_and_the_git_history(demo: dict) -> None:
    with duckdb.connect(demo["warehouse"], read_only=True) as con:
        totals = dict(
            zip(
                ("issues_opened", "prs_opened", "prs_merged", "commits"),
                con.execute(
                    "select sum(issues_opened), sum(prs_opened), sum(prs_merged), sum(commits) "
                    "from marts.fct_repo_activity_monthly where repo = 'lumen-db/lumen'"
                ).fetchall()[0],
                strict=True,
            )
        )
        own = con.execute(
            "select sum(commits) from marts.fct_repo_activity_monthly "
            "where repo = 'townsquare/townsquare'"
        ).fetchall()[0][0]
    # the recording: 40 issues, 30 pull requests of which 18 merged; the git sample's commits
    assert totals == {
        "issues_opened": 40,
        "prs_opened": 30,
        "prs_merged": 18,
        "commits": lumen_git_commits(demo),
    }
    commits = subprocess.run(
        ["git", "-C", str(project_root()), "rev-list", "--all", "--count"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert own == int(commits.stdout)


def test_customers_and_revenue_match_the_crm_export(demo: dict) -> None:
    """Oracle: the CRM CSVs and the community's business email domains, in plain Python."""
    crm = samples_dir() / "commercial" / "crm"
    with (crm / "accounts.csv").open(encoding="utf-8", newline="") as fh:
        accounts = list(csv.DictReader(fh))
    with (crm / "subscriptions.csv").open(encoding="utf-8", newline="") as fh:
        subscriptions = list(csv.DictReader(fh))
    today = datetime.now(UTC)

    def when(text: str) -> datetime:
        day = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return day if day.tzinfo else day.replace(tzinfo=UTC)

    paying = {"active", "cancelled", "expired"}
    customers = {
        s["account_id"]
        for s in subscriptions
        if s["status"] in paying and when(s["started_at"]) <= today
    }
    with duckdb.connect(demo["warehouse"], read_only=True) as con:
        got = dict(
            con.execute(
                "select account_id, is_customer from marts.dim_organizations "
                "where account_id is not null"
            ).fetchall()
        )
        community = {
            account
            for (account,) in con.execute(
                "select account_id from marts.dim_organizations "
                "where in_community and account_id is not null"
            ).fetchall()
        }
        domains = {
            d
            for (d,) in con.execute(
                "select distinct business_domain from intermediate.int_identities "
                "where business_domain is not null"
            ).fetchall()
        }
        total = con.execute("select sum(customers) from marts.fct_revenue_by_channel").fetchall()
    # every account is an organization; its customer flag follows its paying subscriptions
    assert set(got) == {a["account_id"] for a in accounts}
    assert {a for a, is_customer in got.items() if is_customer} == customers
    assert total == [(len(customers),)]

    # an account is in the community exactly when one of its domains (www./eu. dropped)
    # is a business domain of someone in the community; a gmail.com account never is
    def roots(account: dict) -> set[str]:
        return {
            ".".join(d.strip().lower().split(".")[-3:])
            for d in re.split(r"[;,\s]+", account["domains"])
            if d.strip()
        }

    expected = {a["account_id"] for a in accounts if roots(a) & domains}
    assert community == expected
    assert len(community) >= 5
    assert not [a for a in accounts if "gmail.com" in a["domains"] and a["account_id"] in community]


# -- publishing: what BI tools and executives see ---------------------------------------------

NEW_MAIL = """\
From ines@newcomer.example Mon Nov 02 09:00:00 2026
From: Ines Newcomer <ines@newcomer.example>
To: lumen-dev@lists.lumen.example
Subject: First steps with Lumen
Date: Mon, 02 Nov 2026 09:00:00 +0000
Message-ID: <publish-test-1@newcomer.example>

How do I build Lumen from source?

From omar@otherco.example Mon Nov 02 11:00:00 2026
From: Omar Other <omar@otherco.example>
To: lumen-dev@lists.lumen.example
Subject: Re: First steps with Lumen
Date: Mon, 02 Nov 2026 11:00:00 +0000
Message-ID: <publish-test-2@otherco.example>
In-Reply-To: <publish-test-1@newcomer.example>

Run make, then make install.

"""


def _published_state(published: Path) -> dict:
    """Everything a reader could see: where `current` points, the snapshot's and the
    dashboard's bytes and times, the releases on disk."""
    import hashlib

    snapshot = published / "townsquare.duckdb"
    dashboard = published / "dashboard.html"
    return {
        "current": os.readlink(published / "current"),
        "releases": sorted(p.name for p in (published / "releases").iterdir()),
        "snapshot": hashlib.sha256(snapshot.read_bytes()).hexdigest(),
        "dashboard": hashlib.sha256(dashboard.read_bytes()).hexdigest(),
        "dashboard_mtime": dashboard.stat().st_mtime_ns,
    }


@pytest.fixture
def demo_copy(demo: dict, tmp_path: Path) -> dict:
    """A copy of the demo's lake, warehouse and published folder to build again into."""
    import shutil

    home = tmp_path / "home"
    home.mkdir()
    for name in ("lake", "published"):
        shutil.copytree(Path(demo["home"]) / name, home / name, symlinks=True)
    shutil.copy(demo["warehouse"], home / "warehouse.duckdb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNSQUARE_")}
    env["DBT_TARGET_PATH"] = str(tmp_path / "target")  # not dbt_project/target
    env["DBT_LOG_PATH"] = str(tmp_path / "dbt-logs")
    return {"home": home, "published": home / "published", "env": env, "tmp": tmp_path}


def _cli(copy: dict, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "townsquare.cli", *args],
        capture_output=True,
        text=True,
        env=env or copy["env"],
        timeout=900,
        check=False,
    )


def _build(copy: dict, env: dict | None = None) -> subprocess.CompletedProcess:
    home = copy["home"]
    return _cli(
        copy,
        "build",
        "--lake",
        str(home / "lake"),
        "--warehouse",
        str(home / "warehouse.duckdb"),
        "--publish",
        str(copy["published"]),
        env=env,
    )


def test_the_demo_publishes_a_snapshot_parquet_docs_and_the_dashboard(demo: dict) -> None:
    published = Path(demo["published"])
    release = demo["build"]["release"]
    assert demo["dashboard"] == str(published / "dashboard.html")
    assert os.readlink(published / "current") == f"releases/{release['release_id']}"
    with duckdb.connect(str(published / "townsquare.duckdb"), read_only=True) as con:
        counts = {
            t: con.execute(f"select count(*) from marts.{t}").fetchall()[0][0]
            for (t,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts'"
            ).fetchall()
        }
        undocumented = con.execute(
            "select table_name || '.' || column_name from duckdb_columns() "
            "where schema_name = 'marts' and coalesce(comment, '') = ''"
        ).fetchall()
    # the snapshot holds exactly what the checked warehouse's marts held
    assert counts == demo["build"]["marts"] == release["marts"]
    assert undocumented == []  # every column carries its dbt description for BI tools
    for mart, rows in counts.items():
        parquet = published / "parquet" / f"{mart}.parquet"
        assert duckdb.sql(f"select count(*) from '{parquet}'").fetchall() == [(rows,)]
    docs = (published / "docs" / "index.html").read_text(encoding="utf-8")
    assert "fct_contributors_monthly" in docs
    salt = (Path(demo["lake"]) / "_state" / "identity_salt").read_text().strip()
    for path in (published / "current").rglob("*"):  # the secret salt is never published
        if path.is_file() and path.suffix in (".html", ".json"):
            assert salt not in path.read_text(encoding="utf-8"), path
    html = (published / "dashboard.html").read_text(encoding="utf-8")
    assert release["release_id"] in html
    markup = re.sub(r"<script\b.*?</script>", "", html, flags=re.S)  # plotly.js mentions URLs
    assert not re.search(r"""(?:src|href)=["']https?://""", markup)
    assert not re.search(r"""<script[^>]+src=""", html)  # every script is inline


def test_bi_clients_read_the_same_numbers_from_the_published_marts(demo: dict) -> None:
    """The README's recipes: DuckDB CLI, Python, SQLAlchemy (Superset's duckdb-engine), Parquet."""
    import pyarrow.parquet as pq
    import sqlalchemy as sa

    published = Path(demo["published"])
    snapshot = published / "townsquare.duckdb"
    query = "select count(*), sum(score) from marts.fct_leads"
    with duckdb.connect(str(snapshot), read_only=True) as con:
        expected = con.execute(query).fetchall()[0]
    assert expected[0] > 0

    cli = Path(sys.executable).parent / "duckdb"  # the DuckDB CLI (PyPI duckdb-cli, 1.5)
    out = subprocess.run(
        [str(cli), "-readonly", "-csv", "-noheader", str(snapshot), "-c", query],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    count, total = out.split(",")
    assert (int(count), float(total)) == (expected[0], pytest.approx(expected[1]))

    code = (  # Superset: SQLAlchemy URI + engine parameters, in a process of its own
        "import sqlalchemy as sa, sys\n"
        f"e = sa.create_engine('duckdb:///{snapshot}', connect_args={{'read_only': True}})\n"
        "with e.connect() as c:\n"
        f"    print(list(c.execute(sa.text({query!r})).one()))\n"
        "    try:\n"
        "        c.execute(sa.text('create table marts.x (a int)'))\n"
        "    except Exception as exc:\n"
        "        print('refused', type(exc).__name__)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    first, second = proc.stdout.splitlines()
    assert json.loads(first)[0] == expected[0]
    assert json.loads(first)[1] == pytest.approx(expected[1])
    assert second.startswith("refused")  # read-only: a BI tool cannot write
    assert sa  # the driver is installed in the test environment

    table = pq.read_table(published / "parquet" / "fct_leads.parquet")
    assert table.num_rows == expected[0]
    assert sum(table.column("score").to_pylist()) == pytest.approx(expected[1])


def test_readers_never_fail_nor_see_a_mix_while_a_build_publishes(demo_copy: dict) -> None:
    """Two reader processes query the published marts throughout a full build and publish."""
    copy = demo_copy
    published, tmp = copy["published"], copy["tmp"]
    before = _published_state(published)
    mbox = tmp / "new-mail.mbox"
    mbox.write_text(NEW_MAIL)
    landed = _cli(
        copy, "ingest", "mbox", str(mbox), "--name", "late-list",
        "--lake", str(copy["home"] / "lake"),
    )  # fmt: skip
    assert landed.returncode == 0, landed.stderr[-2000:]

    stop = tmp / "stop"
    readers = {}
    reader = Path(__file__).parent / "snapshot_reader.py"
    for mode in ("fresh", "held"):
        out = tmp / f"{mode}.jsonl"
        readers[mode] = (
            subprocess.Popen(
                [sys.executable, str(reader), str(published), str(stop), str(out), mode]
            ),
            out,
        )
    deadline = time.monotonic() + 60
    while not all(out.exists() and out.read_text().count("\n") >= 3 for _, out in readers.values()):
        assert time.monotonic() < deadline, "the readers did not start"
        time.sleep(0.1)
    built = _build(copy)
    time.sleep(1.0)  # a few rounds on the new release
    stop.touch()
    for proc, _ in readers.values():
        assert proc.wait(timeout=60) == 0
    assert built.returncode == 0, built.stderr[-3000:]

    after = _published_state(published)
    old_id = before["current"].rsplit("/", 1)[1]
    new_id = after["current"].rsplit("/", 1)[1]
    assert new_id != old_id
    expected = {
        rid: json.loads((published / "releases" / rid / "release.json").read_text())["marts"]
        for rid in (old_id, new_id)
    }
    changed = [m for m in expected[new_id] if expected[new_id][m] != expected[old_id].get(m)]
    assert len(changed) >= 4, changed  # so a mix of the two would show in the counts

    rounds = {mode: [json.loads(line) for line in out.read_text().splitlines()]
              for mode, (_, out) in readers.items()}  # fmt: skip
    for mode, rows in rounds.items():
        assert [r["error"] for r in rows if "error" in r] == [], mode
        for r in rows:
            assert r["marts"] == expected[r["release_id"]], (mode, r["release_id"])
            if "parquet" in r:
                assert len(r["parquet"]["releases"]) == 1
                assert r["parquet"]["marts"] == expected[r["parquet"]["releases"][0]]
    seen_fresh = [r["release_id"] for r in rounds["fresh"]]
    assert seen_fresh[0] == old_id and seen_fresh[-1] == new_id  # it read across the flip
    assert seen_fresh == sorted(seen_fresh)  # never back to the old one
    assert {r["release_id"] for r in rounds["held"]} == {old_id}  # an open reader keeps its own
    print(
        f"\nreaders during build+publish: fresh {len(rounds['fresh'])} rounds, "
        f"held {len(rounds['held'])} rounds, 0 errors",
        file=sys.stderr,
    )


def test_a_failed_mart_check_or_build_leaves_the_published_release_untouched(
    demo_copy: dict,
) -> None:
    import shutil

    from townsquare.paths import expectations_dir

    copy = demo_copy
    published, tmp = copy["published"], copy["tmp"]
    before = _published_state(published)

    # a mart check that fails on this data: at most 1 lead
    strict = tmp / "expectations"
    shutil.copytree(expectations_dir(), strict)
    suite_path = strict / "marts" / "fct_leads.json"
    suite = json.loads(suite_path.read_text())
    suite["expectations"].append(
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"max_value": 1}}
    )
    suite_path.write_text(json.dumps(suite))
    env = {**copy["env"], "TOWNSQUARE_EXPECTATIONS_DIR": str(strict)}
    failed = _build(copy, env=env)
    assert failed.returncode != 0
    reason = failed.stderr.strip().splitlines()[-1]
    assert "mart checks failed" in reason and "fct_leads" in reason, reason
    assert _published_state(published) == before
    assert not list((published / "releases").glob(".staging-*"))

    # a build that fails in dbt: a corrupt Parquet file in the lake
    bad = copy["home"] / "lake" / "raw" / "blog_posts" / "source=broken" / "ingest_date=2026-11-01"
    bad.mkdir(parents=True)
    (bad / "x-0.parquet").write_bytes(b"PAR1 this is not parquet PAR1")
    failed = _build(copy)
    assert failed.returncode != 0
    assert "dbt build failed" in failed.stderr.strip().splitlines()[-1]
    assert _published_state(published) == before


def test_the_demo_dashboard_renders_every_chart_in_chromium(demo: dict) -> None:
    """Headless Chromium opens the published dashboard of the demo: no console error, no
    request leaving the file, every chart drawn with data points; screenshots are kept."""
    import dashboard_browser as db

    html = Path(demo["dashboard"])
    artifacts = db.artifacts_dir()
    report = db.inspect_dashboard(html, artifacts / "dashboard-demo.png", viewport=(1366, 900))
    assert report.errors == []
    assert report.external_requests == []
    assert set(report.points) >= {
        "contributors_active",
        "contributors_new",
        "community_funnel",
        "funnel_rates",
        "cohort_retention",
        "response_times",
        "health_factors",
        "conversation_focus",
        "inbound_reach",
        "monetization_funnel",
        "benchmark",
        "revenue_by_channel",
        "top_leads",
    }
    assert {chart: n for chart, n in report.points.items() if n == 0} == {}
    assert (artifacts / "dashboard-demo.png").stat().st_size > 50_000
    # filtered to one channel, the page still draws without errors
    forum = db.inspect_dashboard(
        html,
        artifacts / "dashboard-demo-forum.png",
        viewport=(1920, 1080),
        actions=[db.select_filters(channel="forum")],
    )
    assert forum.errors == []
    assert forum.points["contributors_active"] > 0
    # the dbt docs page published beside it opens offline too: nothing but the file loads
    docs = Path(demo["published"]) / "docs" / "index.html"
    with db.launch() as browser:
        page = browser.new_page()
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(docs.resolve().as_uri(), wait_until="load")
        page.wait_for_function("() => document.body.innerText.includes('Exposures')")
        page.screenshot(path=str(artifacts / "dbt-docs.png"))
    assert requests and all(url.startswith(db.LOCAL_SCHEMES) for url in requests), requests

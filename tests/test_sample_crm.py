"""The bundled CRM sample (samples/commercial/generate_crm.py → crm/*.csv, README.md).

The committed files are what the generator writes; the CSV files have the exact
columns and well-formed values. The story is checked against the other samples'
committed files (blog WXR, lumen-dev mbox, lumen-users Pipermail archive, git stream),
parsed here on their own rather than through the generator's record of first touches:
community organisations subscribe only after someone from them first showed up, and
the customers from outside the community use domains that no sample mentions.
"""

from __future__ import annotations

import csv
import gzip
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

import townsquare
from townsquare.samples.blog.generate import COMPANIES, FREEMAIL, UNIVERSITY, Generator

SAMPLES = Path(townsquare.__file__).resolve().parent / "samples"
COMMERCIAL = SAMPLES / "commercial"
CRM = COMMERCIAL / "crm"
EXPORTED_AT = datetime(2026, 10, 31, 18, 0, tzinfo=UTC)
VENDOR = "lumen.example.org"

ACCOUNT_COLUMNS = [
    "account_id",
    "name",
    "domains",
    "website",
    "industry",
    "country",
    "segment",
    "created_at",
    "updated_at",
]
SUBSCRIPTION_COLUMNS = [
    "subscription_id",
    "account_id",
    "product_kind",
    "product",
    "plan",
    "started_at",
    "ended_at",
    "amount",
    "currency",
    "status",
    "updated_at",
]
PAID = {"active", "expired", "cancelled"}
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z)?$")


def read(name: str) -> list[dict[str, str]]:
    with (CRM / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def when(text: str) -> datetime:
    assert ISO.match(text), text
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def domains(account: dict[str, str]) -> list[str]:
    """The account's domains, lower-cased and without ``www.``."""
    out = []
    for d in account["domains"].split(";"):
        d = d.strip().strip(".").lower()
        if d:
            out.append(d.removeprefix("www."))
    return out


@pytest.fixture(scope="module")
def accounts() -> list[dict[str, str]]:
    return read("accounts.csv")


@pytest.fixture(scope="module")
def subscriptions() -> list[dict[str, str]]:
    return read("subscriptions.csv")


@pytest.fixture(scope="module")
def first_touch() -> dict[str, datetime]:
    """Email domain → first activity of anyone there: blog comments (not spam), the
    lumen-dev mbox, the lumen-users archive, git authors and committers."""
    first: dict[str, datetime] = {}

    def note(address: str, at: datetime) -> None:
        domain = address.strip().lower().rpartition("@")[2]
        if domain and (domain not in first or at < first[domain]):
            first[domain] = at.astimezone(UTC)

    wxr = (SAMPLES / "blog" / "lumen-blog.wxr.xml").read_text(encoding="utf-8")
    for comment in re.findall(r"<wp:comment>(.*?)</wp:comment>", wxr, re.S):
        if "<wp:comment_approved><![CDATA[spam]]>" in comment:
            continue
        email = re.search(r"<wp:comment_author_email><!\[CDATA\[(.*?)\]\]>", comment)
        gmt = re.search(r"<wp:comment_date_gmt><!\[CDATA\[(.*?)\]\]>", comment)
        assert email and gmt
        note(email[1], datetime.fromisoformat(gmt[1]).replace(tzinfo=UTC))
    mbox = (SAMPLES / "forum" / "mail" / "lumen-dev.mbox").read_text(encoding="utf-8")
    for sender, date in re.findall(r"^From: .*<([^>]+)>\n(?:.*\n)*?Date: (.+)$", mbox, re.M):
        note(sender, parsedate_to_datetime(date))
    for archive in (SAMPLES / "forum" / "pipermail" / "lumen-users").glob("*.txt.gz"):
        text = gzip.decompress(archive.read_bytes()).decode("utf-8")
        for local, host, date in re.findall(r"^From: (\S+) at (\S+) .*\nDate: (.+)$", text, re.M):
            note(f"{local}@{host}", parsedate_to_datetime(date))
    stream = (SAMPLES / "repo" / "git" / "lumen.fastimport").read_text(encoding="utf-8")
    for address, seconds in re.findall(r"^(?:author|committer) .*<(.+)> (\d+) \S+$", stream, re.M):
        note(address, datetime.fromtimestamp(int(seconds), UTC))
    return first


def community_orgs(first_touch: dict[str, datetime]) -> dict[str, datetime]:
    """Organisation domains of the community (the blog's companies and university, where
    its people and the list-only members work), with their first touch."""
    orgs = {d for d, _n in COMPANIES} | {UNIVERSITY}
    people = {p.email.rpartition("@")[2] for p in Generator().people}
    assert orgs <= people
    return {d: first_touch[d] for d in orgs}


def matching_org(account: dict[str, str], orgs: dict[str, datetime]) -> str | None:
    for d in domains(account):
        if d in FREEMAIL:
            continue
        for org in orgs:
            if d == org or d.endswith("." + org):
                return org
    return None


# --------------------------------------------------------------------------- files


def test_the_committed_files_are_what_the_generator_writes(tmp_path: Path) -> None:
    from townsquare.samples.commercial.generate_crm import generate

    files = generate(tmp_path)
    assert {p.relative_to(tmp_path).as_posix() for p in files.values()} == {
        "crm/accounts.csv",
        "crm/subscriptions.csv",
        "README.md",
    }
    for path in files.values():
        committed = COMMERCIAL / path.relative_to(tmp_path)
        assert committed.read_bytes() == path.read_bytes(), committed
    assert sorted(p.name for p in CRM.iterdir()) == ["accounts.csv", "subscriptions.csv"]


def test_the_header_rows_are_exactly_the_columns() -> None:
    for name, columns in (
        ("accounts.csv", ACCOUNT_COLUMNS),
        ("subscriptions.csv", SUBSCRIPTION_COLUMNS),
    ):
        raw = (CRM / name).read_bytes()
        assert raw.split(b"\r\n", 1)[0].decode("ascii") == ",".join(columns)
        rows = list(csv.reader(raw.decode("utf-8").splitlines()))
        assert rows[0] == columns
        assert all(len(row) == len(columns) for row in rows), name


def test_rfc4180_quoting_and_utf8() -> None:
    text = (CRM / "accounts.csv").read_bytes().decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    assert '"Granite Peak Telecom, Inc."' in text  # a comma: quoted
    assert "Société Fluviale Rhône-Saône" in text
    subs = (CRM / "subscriptions.csv").read_bytes().decode("utf-8")
    assert '"Architecture review ""Lumen health check"""' in subs  # quotes doubled


def test_values_are_well_formed(
    accounts: list[dict[str, str]], subscriptions: list[dict[str, str]]
) -> None:
    assert 25 <= len(accounts) <= 35
    ids = [a["account_id"] for a in accounts]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"ACC-\d{4}", i) for i in ids)
    for a in accounts:
        assert a["name"] and re.fullmatch(r"[A-Z]{2}", a["country"]), a
        assert when(a["created_at"]) <= when(a["updated_at"]) <= EXPORTED_AT, a
    sub_ids = [s["subscription_id"] for s in subscriptions]
    assert len(set(sub_ids)) == len(sub_ids)
    assert all(re.fullmatch(r"SUB-\d{4}", i) for i in sub_ids)
    for s in subscriptions:
        assert s["product_kind"] in {"support", "training", "other"}, s
        assert s["plan"] in {"annual", "monthly", "one-off"}, s
        assert s["status"] in {"active", "cancelled", "expired", "trial", "pending"}, s
        assert s["currency"] in {"EUR", "USD"}, s
        assert re.fullmatch(r"\d+\.\d{2}", s["amount"]), s
        when(s["started_at"])
        assert when(s["updated_at"]) <= EXPORTED_AT, s
        if s["ended_at"]:
            when(s["ended_at"])
        if s["status"] == "expired":
            assert when(s["ended_at"]) < EXPORTED_AT, s
        if s["status"] == "active" and s["plan"] != "one-off":
            assert when(s["started_at"]) <= EXPORTED_AT, s
            assert not s["ended_at"] or when(s["ended_at"]) > EXPORTED_AT, s


def test_every_subscription_belongs_to_an_account(
    accounts: list[dict[str, str]], subscriptions: list[dict[str, str]]
) -> None:
    ids = {a["account_id"] for a in accounts}
    assert {s["account_id"] for s in subscriptions} <= ids


def test_no_subscription_ends_before_it_starts(subscriptions: list[dict[str, str]]) -> None:
    ended = [s for s in subscriptions if s["ended_at"]]
    assert len(ended) > 20
    for s in ended:
        assert when(s["ended_at"]) >= when(s["started_at"]), s


# --------------------------------------------------------------------------- the story


def test_the_story_has_renewal_cancellation_trial_monthly_and_quotes(
    subscriptions: list[dict[str, str]],
) -> None:
    statuses = {s["status"] for s in subscriptions}
    assert statuses == {"active", "cancelled", "expired", "trial", "pending"}
    assert {s["plan"] for s in subscriptions} == {"annual", "monthly", "one-off"}
    annual = {}
    for s in subscriptions:
        if s["product_kind"] == "support" and s["plan"] == "annual" and s["status"] in PAID:
            annual.setdefault(s["account_id"], []).append(s)
    renewals = [
        (a, b)
        for subs in annual.values()
        for a in subs
        for b in subs
        if a["ended_at"] and b["started_at"] == a["ended_at"]
    ]
    assert len(renewals) >= 1
    for s in subscriptions:
        amount = float(s["amount"])
        if s["product_kind"] == "support" and s["plan"] == "annual":
            assert 12_000 <= amount <= 60_000, s
        if s["product_kind"] == "training":
            assert s["plan"] == "one-off" and 3_000 <= amount <= 15_000, s
    currencies = [s["currency"] for s in subscriptions]
    assert currencies.count("EUR") > currencies.count("USD") > 0


def test_domain_forms_exercise_matching(accounts: list[dict[str, str]]) -> None:
    raw = [a["domains"].split(";") if a["domains"] else [] for a in accounts]
    listed = [d for ds in raw for d in ds]
    assert "eu.northwind-robotics.example.com" in listed
    assert any(d.startswith("www.") for d in listed)
    assert any(d != d.lower() for d in listed)
    # a merger: two organisations' domains (not a www. form or a subdomain of one)
    assert any(len({".".join(d.split(".")[-3:]) for d in domains(a)}) == 2 for a in accounts)
    assert [] in raw  # an empty domains field
    assert any(set(ds) & set(FREEMAIL) for ds in raw)  # a sole trader on gmail.com
    for a in accounts:
        assert not any(d == VENDOR or d.endswith("." + VENDOR) for d in domains(a)), a


def test_community_organisations_convert_after_their_first_touch(
    accounts: list[dict[str, str]],
    subscriptions: list[dict[str, str]],
    first_touch: dict[str, datetime],
) -> None:
    orgs = community_orgs(first_touch)
    assert "northwind-robotics.example.com" in orgs and "uni-nord.example" in orgs
    by_account: dict[str, list[dict[str, str]]] = {}
    for s in subscriptions:
        by_account.setdefault(s["account_id"], []).append(s)
    converted: dict[str, float] = {}  # org → days from first touch to first subscription
    for a in accounts:
        org = matching_org(a, orgs)
        paid = [
            when(s["started_at"])
            for s in by_account.get(a["account_id"], [])
            if s["status"] in PAID
        ]
        if org is None or not paid:
            continue
        assert org not in converted, org  # one account per organisation
        delay = min(paid) - orgs[org]
        assert delay.days > 14, (a["name"], org, delay)
        converted[org] = delay.days
    assert len(converted) >= 4
    assert len(set(converted.values())) == len(converted)  # the delays vary
    assert converted.keys() >= {
        "northwind-robotics.example.com",
        "fabrikam-energy.example.com",
        "windmill-analytics.example.org",
        "tessera-labs.example.net",
    }
    # most community organisations are prospects or not in the CRM at all
    in_crm = {matching_org(a, orgs) for a in accounts} - {None}
    assert len(orgs) - len(converted) >= 3 and len(in_crm) < len(orgs)
    # the freemail account matches nobody, not even by suffix
    sole = next(a for a in accounts if "gmail.com" in a["domains"])
    assert matching_org(sole, orgs) is None


def test_windmill_subscribes_after_vera_okonkwo_joined(
    accounts: list[dict[str, str]], subscriptions: list[dict[str, str]]
) -> None:
    stream = (SAMPLES / "repo" / "git" / "lumen.fastimport").read_text(encoding="utf-8")
    joined = min(
        datetime.fromtimestamp(int(t), UTC)
        for t in re.findall(
            r"^author Vera Okonkwo <[^@]+@windmill-analytics\.example\.org> (\d+)", stream, re.M
        )
    )
    windmill = next(a for a in accounts if "windmill-analytics.example.org" in a["domains"])
    starts = [
        when(s["started_at"]) for s in subscriptions if s["account_id"] == windmill["account_id"]
    ]
    assert starts and min(starts) > joined
    assert any(
        s["plan"] == "monthly" for s in subscriptions if s["account_id"] == windmill["account_id"]
    )


def test_customers_outside_the_community_use_domains_no_sample_mentions(
    accounts: list[dict[str, str]],
    subscriptions: list[dict[str, str]],
) -> None:
    corpus = []
    for path in sorted(SAMPLES.rglob("*")):
        if not path.is_file() or COMMERCIAL in path.parents or "__pycache__" in path.parts:
            continue
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        corpus.append(data.decode("utf-8", errors="replace").lower())
    text = "\n".join(corpus)
    assert "northwind-robotics.example.com" in text  # the corpus is the community
    outside = [a for a in accounts if domains(a) and not any(d in text for d in domains(a))]
    assert len(outside) >= 10
    customers = {s["account_id"] for s in subscriptions if s["status"] in PAID}
    assert 10 <= len([a for a in outside if a["account_id"] in customers]) <= 15

"""Generate the CRM export of the Lumen demo (deterministic, offline, stdlib only).

The story continues the community samples (``samples/blog``, ``samples/forum``,
``samples/repo``): *Lumen*, the fictional embedded time-series database, is developed
in the open by a small vendor (``lumen.example.org``, never a customer account) that
sells support plans and training (the blog's "Support & Training" page). Its CRM export
is what this module writes, next to it:

- ``crm/accounts.csv``: ``account_id,name,domains,website,industry,country,segment,
  created_at,updated_at`` (``domains``: web and email domains, ``;``-separated);
- ``crm/subscriptions.csv``: ``subscription_id,account_id,product_kind,product,plan,
  started_at,ended_at,amount,currency,status,updated_at``;
- ``README.md``: the story as tables, computed here (do not edit by hand).

Both CSV files are UTF-8 with a header row, RFC 4180 (CRLF line ends, fields with
commas, quotes or line breaks quoted, quotes doubled). The export is taken at
``EXPORTED_AT`` (2026-10-31 18:00 UTC, the end of the community samples).

The story (``STORY`` below; amounts and clock times come from ``random.Random(SEED)``):

- Five organisations from the community convert, some months after their people first
  showed up (a blog comment, a mailing-list message or a commit, computed from the
  committed sample files by :func:`community_touches`):
  Northwind Robotics buys annual support and **renews** it (two consecutive annual
  subscriptions) plus an on-site training; Fabrikam Energy (the wind-farm case study of
  the blog) starts with a training, then takes 24/7 support and an architecture review;
  Globex Industrial (merged with Halyard Automation: two domains) **cancels** its
  support after half a year; Tessera Labs bought a training and is **in trial** for
  support; Windmill Analytics pays support **monthly**, from two months after Vera
  Okonkwo joined it from Contoso IoT (the job change of the git sample, March 2026).
- Other community organisations stay prospects or are not in the CRM at all: Contoso
  IoT only has a ``pending`` quote, Vandelay Sensors an account without subscriptions;
  Initech and the university ``uni-nord.example`` are not in the CRM.
- 15 customers were never in the community: 13 invented companies at
  ``*.example.com/.net/.org`` domains no sample uses, a sole trader whose only domain
  is ``gmail.com`` (freemail: it must never match anyone) and a municipal utility whose
  domains field is empty. Four more invented accounts are prospects.
- Domain forms that matching has to handle: ``www.`` prefixes, a subdomain
  (``eu.northwind-robotics.example.com``: the account never lists the bare domain its
  people mail from), mixed case (``Deltaport.example.com``), two domains after a
  merger, freemail, empty.
- Mostly EUR, some USD. Dates are ISO 8601: days (``2026-03-01``) for contracts and
  orders, UTC instants (``2026-03-01T09:30:00Z``) for self-service plans, trials and
  ``created_at``/``updated_at``.

Status semantics: ``active`` (running, or a one-off order booked and not yet
delivered), ``expired`` (ended before the export without renewal, or a one-off order
delivered), ``cancelled`` (``ended_at`` is the cancellation date), ``trial`` (30 days,
``amount`` is the price after the trial), ``pending`` (a quote: ``started_at`` is the
proposed start, no ``ended_at``). Annual plans end on the anniversary of their start
(a renewal starts where the previous term ends); monthly plans are open-ended (no
``ended_at``) until cancelled; ``amount`` is per billing period.

Run ``python -m townsquare.samples.commercial.generate_crm`` to rewrite the files.
Output depends only on the constants below, ``SEED`` and the community samples' files
(for the first touches in the README; ``generate()`` asserts that every converting
organisation subscribed after its first touch).
"""

from __future__ import annotations

import csv
import gzip
import io
import mailbox
import random
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

SEED = 20261205
HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parent
EXPORTED_AT = datetime(2026, 10, 31, 18, 0, tzinfo=UTC)
VENDOR_DOMAIN = "lumen.example.org"
FREEMAIL = frozenset(
    ("gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "proton.me", "yahoo.com")
)
# domains people write from that are no organisation (besides freemail)
NOT_ORGANIZATIONS = FREEMAIL | {VENDOR_DOMAIN, "github.com", "users.noreply.github.com"}

ACCOUNT_COLUMNS = (
    "account_id",
    "name",
    "domains",
    "website",
    "industry",
    "country",
    "segment",
    "created_at",
    "updated_at",
)
SUBSCRIPTION_COLUMNS = (
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
)
PAID = ("active", "expired", "cancelled")  # statuses that mean a customer (not trial, quote)
TRIAL_DAYS = 30
RENEWAL_UPLIFT = 1.1

# key: (product_kind, product, plan, lowest amount, highest amount, step, days of a one-off)
PRODUCTS: dict[str, tuple[str, str, str, int, int, int, int]] = {
    "business": ("support", "Lumen Business Support", "annual", 12_000, 30_000, 500, 0),
    "enterprise": ("support", "Lumen 24/7 Enterprise Support", "annual", 36_000, 60_000, 1_000, 0),
    "business-monthly": ("support", "Lumen Business Support", "monthly", 1_000, 2_500, 50, 0),
    "fundamentals": (
        "training",
        "Lumen Fundamentals training, 2 days (remote)",
        "one-off",
        3_000,
        7_000,
        100,
        2,
    ),
    "onsite": ("training", "Lumen on-site training, 3 days", "one-off", 9_000, 15_000, 100, 3),
    "review": (
        "other",
        'Architecture review "Lumen health check"',
        "one-off",
        4_000,
        8_000,
        100,
        1,
    ),
}


@dataclass(frozen=True)
class Sub:
    """One subscription or order of the story."""

    product: str  # a PRODUCTS key
    start: str = ""  # a day, or a UTC instant for self-service plans and trials
    status: str = ""  # "": active or expired from the dates; or cancelled, trial, pending
    end: str = ""  # the cancellation date (cancelled only)
    renewal: bool = False  # starts where the previous term of the same product ends


@dataclass(frozen=True)
class Plan:
    """One account of the story."""

    name: str
    domains: tuple[str, ...]
    website: str
    industry: str
    country: str
    segment: str
    currency: str
    created: str  # the day the account was created
    note: str
    subs: tuple[Sub, ...] = ()


STORY: tuple[Plan, ...] = (
    # -- community organisations that convert
    Plan(
        "Northwind Robotics GmbH",
        ("eu.northwind-robotics.example.com", "www.northwind-robotics.example.com"),
        "https://eu.northwind-robotics.example.com",
        "Robotics",
        "DE",
        "enterprise",
        "EUR",
        "2025-10-08",
        "European entity; support renewed on its anniversary, on-site training",
        (
            Sub("business", "2025-10-27"),
            Sub("business", renewal=True),
            Sub("onsite", "2026-02-09"),
        ),
    ),
    Plan(
        "Fabrikam Energy",
        ("www.fabrikam-energy.example.com",),
        "https://www.fabrikam-energy.example.com",
        "Energy",
        "NL",
        "enterprise",
        "EUR",
        "2025-12-01",
        "training first, then 24/7 support; the blog's wind-farm case study",
        (
            Sub("fundamentals", "2026-01-19"),
            Sub("enterprise", "2026-03-02"),
            Sub("review", "2026-09-07"),
        ),
    ),
    Plan(
        "Globex Industrial Group",
        ("globex-industrial.example.org", "halyard-automation.example.com"),
        "https://globex-industrial.example.org",
        "Industrial automation",
        "US",
        "enterprise",
        "USD",
        "2025-12-15",
        "merged with Halyard Automation (two domains); cancelled support after the merger",
        (Sub("business", "2026-01-12", "cancelled", "2026-07-31"),),
    ),
    Plan(
        "Tessera Labs AB",
        ("tessera-labs.example.net",),
        "https://tessera-labs.example.net",
        "Hardware design",
        "SE",
        "mid-market",
        "EUR",
        "2026-02-20",
        "a remote training, now trying support",
        (
            Sub("fundamentals", "2026-03-16"),
            Sub("business", "2026-10-12T08:15:00Z", "trial"),
        ),
    ),
    Plan(
        "Windmill Analytics",
        ("windmill-analytics.example.org",),
        "https://windmill-analytics.example.org",
        "Industrial analytics",
        "US",
        "mid-market",
        "USD",
        "2026-03-23",
        "signed up after Vera Okonkwo joined from Contoso IoT (March 2026); pays monthly",
        (
            Sub("business-monthly", "2026-05-04T09:30:00Z"),
            Sub("fundamentals", "2026-06-15"),
        ),
    ),
    # -- community organisations that stay prospects
    Plan(
        "Contoso IoT",
        ("contoso-iot.example.net",),
        "https://www.contoso-iot.example.net",
        "IoT platforms",
        "DE",
        "mid-market",
        "EUR",
        "2026-09-14",
        "prospect: a training quote",
        (Sub("onsite", "2026-11-23", "pending"),),
    ),
    Plan(
        "Vandelay Sensors",
        ("vandelay-sensors.example.com",),
        "https://vandelay-sensors.example.com",
        "Sensors",
        "US",
        "smb",
        "USD",
        "2026-07-08",
        "prospect: a lead after the support announcement, no subscription",
    ),
    # -- customers who were never in the community
    Plan(
        "Aurora Freight Systems B.V.",
        ("aurora-freight.example.com", "www.aurora-freight.example.com"),
        "https://www.aurora-freight.example.com",
        "Logistics",
        "NL",
        "mid-market",
        "EUR",
        "2025-05-12",
        "a customer before the community data starts; did not renew",
        (Sub("business", "2025-06-02"),),
    ),
    Plan(
        "Everline Water SAS",
        ("everline-water.example.org", "www.everline-water.example.org"),
        "https://www.everline-water.example.org",
        "Water utilities",
        "FR",
        "mid-market",
        "EUR",
        "2025-06-10",
        "did not renew",
        (Sub("business", "2025-07-01"),),
    ),
    Plan(
        "Deltaport Logistics NV",
        ("Deltaport.example.com",),
        "https://Deltaport.example.com",
        "Logistics",
        "BE",
        "mid-market",
        "EUR",
        "2025-10-20",
        "training only; a domain in mixed case",
        (Sub("fundamentals", "2025-11-24"),),
    ),
    Plan(
        "Bluepeak Mining Corp.",
        ("bluepeak-mining.example.net",),
        "https://bluepeak-mining.example.net",
        "Mining",
        "CA",
        "enterprise",
        "USD",
        "2025-11-17",
        "24/7 support and an on-site training",
        (Sub("enterprise", "2026-01-05"), Sub("onsite", "2026-02-16")),
    ),
    Plan(
        "Granite Peak Telecom, Inc.",
        ("granitepeak-telecom.example.net",),
        "https://granitepeak-telecom.example.net",
        "Telecommunications",
        "US",
        "enterprise",
        "USD",
        "2025-12-03",
        "24/7 support and an architecture review",
        (Sub("enterprise", "2026-02-02"), Sub("review", "2026-05-11")),
    ),
    Plan(
        "Ironbark Agritech Pty Ltd",
        ("ironbark-agri.example.net",),
        "https://ironbark-agri.example.net",
        "Agriculture",
        "AU",
        "smb",
        "USD",
        "2025-12-29",
        "a monthly plan, cancelled after four months",
        (Sub("business-monthly", "2026-01-10T22:40:00Z", "cancelled", "2026-05-10T22:40:00Z"),),
    ),
    Plan(
        "Société Fluviale Rhône-Saône",
        ("sfrs.example.net",),
        "https://sfrs.example.net",
        "Inland shipping",
        "FR",
        "mid-market",
        "EUR",
        "2026-01-26",
        "business support",
        (Sub("business", "2026-03-16"),),
    ),
    Plan(
        "Cobalt Rail Services GmbH",
        ("cobalt-rail.example.org",),
        "https://cobalt-rail.example.org",
        "Rail",
        "AT",
        "enterprise",
        "EUR",
        "2026-02-09",
        "business support",
        (Sub("business", "2026-04-01"),),
    ),
    Plan(
        "Maple & Ash Brewing Co.",
        ("mapleash-brewing.example.net",),
        "https://mapleash-brewing.example.net",
        "Food and beverage",
        "CA",
        "smb",
        "USD",
        "2026-03-30",
        "training only",
        (Sub("fundamentals", "2026-04-20"),),
    ),
    Plan(
        "Lodestar Aerospace",
        ("lodestar-aero.example.com", "www.lodestar-aero.example.com"),
        "https://www.lodestar-aero.example.com",
        "Aerospace",
        "US",
        "enterprise",
        "USD",
        "2026-04-06",
        "an on-site training, a support quote pending",
        (Sub("onsite", "2026-05-18"), Sub("enterprise", "2026-11-02", "pending")),
    ),
    Plan(
        "Foxglove Medical Devices Ltd",
        ("foxglove-medical.example.com",),
        "https://foxglove-medical.example.com",
        "Medical devices",
        "IE",
        "mid-market",
        "EUR",
        "2026-04-27",
        "24/7 support",
        (Sub("enterprise", "2026-06-01"),),
    ),
    Plan(
        "Saltmarsh Offshore Wind Ltd",
        ("saltmarsh-wind.example.com",),
        "https://saltmarsh-wind.example.com",
        "Energy",
        "GB",
        "enterprise",
        "EUR",
        "2026-06-01",
        "24/7 support; an on-site training booked for November",
        (Sub("enterprise", "2026-07-13"), Sub("onsite", "2026-11-16")),
    ),
    Plan(
        "Juniper Smart Buildings A/S",
        ("juniper-buildings.example.org",),
        "https://juniper-buildings.example.org",
        "Building automation",
        "DK",
        "mid-market",
        "EUR",
        "2026-06-22",
        "business support and a remote training",
        (Sub("business", "2026-08-03"), Sub("fundamentals", "2026-09-21")),
    ),
    Plan(
        "Rui Almeida, Embedded Consulting",
        ("gmail.com",),
        "",
        "Consulting",
        "PT",
        "smb",
        "EUR",
        "2026-02-02",
        "a sole trader on freemail: gmail.com must never match anyone",
        (Sub("fundamentals", "2026-02-23"),),
    ),
    Plan(
        "Stadtwerke Nordhafen",
        (),
        "",
        "Utilities",
        "DE",
        "mid-market",
        "EUR",
        "2026-04-13",
        "no domains recorded",
        (Sub("business", "2026-05-11"),),
    ),
    # -- prospects who were never in the community
    Plan(
        "Orchard Cold Chain S.L.",
        ("orchard-coldchain.example.com",),
        "https://orchard-coldchain.example.com",
        "Cold-chain logistics",
        "ES",
        "mid-market",
        "EUR",
        "2026-05-25",
        "prospect, no subscription",
    ),
    Plan(
        "Zenith Orbital Services S.A.",
        ("zenith-orbital.example.org",),
        "https://zenith-orbital.example.org",
        "Space",
        "LU",
        "enterprise",
        "EUR",
        "2026-08-24",
        "prospect: a support quote",
        (Sub("enterprise", "2026-12-01", "pending"),),
    ),
    Plan(
        "Quarry Hill Instruments Ltd",
        ("quarryhill-instruments.example.net",),
        "https://quarryhill-instruments.example.net",
        "Test and measurement",
        "GB",
        "smb",
        "EUR",
        "2026-09-07",
        "prospect: a training quote",
        (Sub("fundamentals", "2026-11-09", "pending"),),
    ),
    Plan(
        "Pinecrest Health Systems",
        ("pinecrest-health.example.org",),
        "https://pinecrest-health.example.org",
        "Healthcare",
        "US",
        "enterprise",
        "USD",
        "2026-09-28",
        "prospect, no subscription",
    ),
)


# --------------------------------------------------------------------------- community


@dataclass(frozen=True)
class Touch:
    """The first activity of anyone at a domain in the community samples."""

    when: datetime
    channel: str  # blog, mail (lumen-dev mbox), list (lumen-users pipermail), git
    address: str


def community_touches(samples: Path = SAMPLES) -> dict[str, Touch]:
    """Domain → first touch, from the committed sample files: the WXR blog comments
    (spam left out), the lumen-dev mbox, the lumen-users Pipermail archive and the git
    stream's authors and committers."""
    first: dict[str, Touch] = {}

    def note(address: str, when: datetime, channel: str) -> None:
        address = address.strip().lower()
        if "@" not in address:
            return
        domain = address.rpartition("@")[2]
        if domain not in first or when < first[domain].when:
            first[domain] = Touch(when.astimezone(UTC), channel, address)

    wp = "{http://wordpress.org/export/1.2/}"
    root = ET.parse(samples / "blog" / "lumen-blog.wxr.xml").getroot()
    for c in root.iter(f"{wp}comment"):
        if c.findtext(f"{wp}comment_approved") == "spam":
            continue
        day = datetime.strptime(c.findtext(f"{wp}comment_date_gmt") or "", "%Y-%m-%d %H:%M:%S")
        note(c.findtext(f"{wp}comment_author_email") or "", day.replace(tzinfo=UTC), "blog")
    for message in mailbox.mbox(samples / "forum" / "mail" / "lumen-dev.mbox"):
        for _name, address in getaddresses([str(message["From"])]):
            note(address, parsedate_to_datetime(str(message["Date"])), "mail")
    for archive in sorted((samples / "forum" / "pipermail" / "lumen-users").glob("*.txt.gz")):
        text = gzip.decompress(archive.read_bytes()).decode("utf-8")
        for sender, sent in re.findall(r"^From: (\S+ at \S+) .*\nDate: (.+)$", text, re.M):
            note(sender.replace(" at ", "@"), parsedate_to_datetime(sent), "list")
    stream = (samples / "repo" / "git" / "lumen.fastimport").read_bytes().decode("utf-8")
    for address, seconds in re.findall(
        r"^(?:author|committer) [^<\n]*<([^>\n]+)> (\d+) [+-]\d{4}$", stream, re.M
    ):
        note(address, datetime.fromtimestamp(int(seconds), UTC), "git")
    return first


def normalize_domain(domain: str) -> str:
    domain = domain.strip().strip(".").lower()
    return domain.removeprefix("www.")


def community_org(domains: tuple[str, ...], touches: dict[str, Touch]) -> str | None:
    """The community domain an account stands for: one of its domains, or a parent of
    one (``eu.northwind-robotics.example.com``); freemail and the vendor never match."""
    orgs = sorted(d for d in touches if d not in NOT_ORGANIZATIONS)
    for domain in map(normalize_domain, domains):
        if domain in NOT_ORGANIZATIONS:
            continue
        for org in orgs:
            if domain == org or domain.endswith("." + org):
                return org
    return None


# --------------------------------------------------------------------------- the export


@dataclass
class Subscription:
    subscription_id: str
    account_id: str
    product_kind: str
    product: str
    plan: str
    start: datetime
    end: datetime | None
    timed: bool  # started_at/ended_at as instants rather than days
    amount: int
    currency: str
    status: str
    updated: datetime

    def row(self) -> list[str]:
        return [
            self.subscription_id,
            self.account_id,
            self.product_kind,
            self.product,
            self.plan,
            _when(self.start, self.timed),
            "" if self.end is None else _when(self.end, self.timed),
            f"{self.amount}.00",
            self.currency,
            self.status,
            _instant(self.updated),
        ]


@dataclass
class Account:
    account_id: str
    plan: Plan
    created: datetime
    updated: datetime
    subscriptions: list[Subscription]

    def row(self) -> list[str]:
        p = self.plan
        return [
            self.account_id,
            p.name,
            ";".join(p.domains),
            p.website,
            p.industry,
            p.country,
            p.segment,
            _instant(self.created),
            _instant(self.updated),
        ]

    @property
    def first_paid(self) -> Subscription | None:
        paid = [s for s in self.subscriptions if s.status in PAID]
        return min(paid, key=lambda s: s.start) if paid else None


def _parse(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _when(when: datetime, timed: bool) -> str:
    return _instant(when) if timed else when.date().isoformat()


def _instant(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _office_hours(rng: random.Random, day: datetime) -> datetime:
    """A time of the working day of ``day`` (UTC)."""
    midnight = day.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + timedelta(
        hours=rng.randrange(7, 17), minutes=rng.randrange(60), seconds=rng.randrange(60)
    )


def _before_export(rng: random.Random, when: datetime) -> datetime:
    """``when``, or a working-day time in the last days before the export if it is later."""
    if when <= EXPORTED_AT:
        return when
    return _office_hours(rng, EXPORTED_AT - timedelta(days=rng.randrange(0, 4)))


def _anniversary(when: datetime) -> datetime:
    return when.replace(year=when.year + 1)


class Export:
    """The accounts and subscriptions of ``STORY``, ids in the order the CRM created them."""

    def __init__(self, seed: int = SEED) -> None:
        rng = random.Random(seed)
        plans = sorted(STORY, key=lambda p: (p.created, p.name))
        self.accounts: list[Account] = []
        for n, plan in enumerate(plans, 1):
            created = _office_hours(rng, _parse(plan.created))
            account = Account(f"ACC-{n:04d}", plan, created, created, [])
            for sub in plan.subs:
                account.subscriptions.append(self._subscription(rng, account, sub))
            updates = [s.updated for s in account.subscriptions]
            quiet = _office_hours(rng, created + timedelta(days=rng.randrange(1, 40)))
            account.updated = max([_before_export(rng, quiet), *updates])
            self.accounts.append(account)
        subs = sorted(
            (s for a in self.accounts for s in a.subscriptions),
            key=lambda s: (s.start, s.account_id),
        )
        for n, s in enumerate(subs, 1):
            s.subscription_id = f"SUB-{n:04d}"
        self.subscriptions = subs

    def _subscription(self, rng: random.Random, account: Account, sub: Sub) -> Subscription:
        kind, product, billing, low, high, step, days = PRODUCTS[sub.product]
        if sub.renewal:
            previous = [s for s in account.subscriptions if s.product == product][-1]
            assert previous.end is not None, sub
            start, timed = previous.end, previous.timed
            amount = round(previous.amount * RENEWAL_UPLIFT / step) * step
        else:
            start, timed = _parse(sub.start), "T" in sub.start
            amount = rng.randrange(low, high + 1, step)
        end: datetime | None
        if sub.status == "cancelled":
            end = _parse(sub.end)
        elif sub.status == "trial":
            end = start + timedelta(days=TRIAL_DAYS)
        elif sub.status == "pending" or billing == "monthly":
            end = None
        elif billing == "annual":
            end = _anniversary(start)
        else:
            end = start + timedelta(days=days - 1)
        status = sub.status or ("expired" if end is not None and end < EXPORTED_AT else "active")
        if status == "expired":  # closed (or invoiced) a few days after the end
            assert end is not None
            updated = _office_hours(rng, end + timedelta(days=rng.randrange(1, 7)))
        elif status == "cancelled":
            assert end is not None
            updated = end if sub.end.endswith("Z") else _office_hours(rng, end)
        elif status == "pending":  # quoted some weeks before the proposed start
            updated = _office_hours(rng, start - timedelta(days=rng.randrange(10, 35)))
        elif status == "trial":
            updated = start + timedelta(minutes=rng.randrange(5, 90))
        else:  # active: onboarding edits in the first weeks
            updated = _office_hours(rng, start + timedelta(days=rng.randrange(0, 21)))
        updated = max(_before_export(rng, updated), account.created)
        assert account.created <= start or status == "pending", (account.plan.name, sub)
        assert end is None or end >= start, sub
        return Subscription(
            "",
            account.account_id,
            kind,
            product,
            billing,
            start,
            end,
            timed,
            amount,
            account.plan.currency,
            status,
            updated,
        )


def _csv(columns: tuple[str, ...], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


# --------------------------------------------------------------------------- README

README_HEAD = """# CRM sample: Lumen's customers

`crm/accounts.csv` and `crm/subscriptions.csv` are the CRM export of *Lumen*, the
fictional embedded time-series database of the other samples (blog, mailing lists,
forum, git, GitHub), taken at {exported}. The vendor (`lumen.example.org`) sells
support plans and training; some of its customers come from the community, most do
not. Every company, domain and amount is invented (reserved `*.example.*` domains,
plus `gmail.com` for a sole trader).

Generated by `python -m townsquare.samples.commercial.generate_crm` (deterministic;
do not edit these files by hand, this README included: it is computed by the
generator, the first community touches from the committed sample files). The
generator's docstring tells the story and the status semantics.

Files: UTF-8, header row, comma-separated, RFC 4180 (CRLF line ends, quoted fields
where needed). `domains` is a `;`-separated list of web and email domains, as the
sales team typed them (`www.` forms, a subdomain, mixed case, a freemail domain, an
empty field); dates are ISO 8601 (`2026-03-01` or `2026-03-01T09:30:00Z`); `amount`
is per billing period (`plan`: annual, monthly, one-off).

- {n_accounts} accounts, {n_subs} subscriptions and orders.
- {n_converting} community organisations converted: a paid subscription or order some
  months after their first touch (a blog comment, a mailing-list message or a commit).
- {n_outside} customers were never in the community.
- {n_prospects} accounts are prospects: no subscription, or only a `pending` quote.
- Statuses: {statuses}.
- Currencies (subscriptions): {currencies}.

## Accounts

Community org: the community email domain the account's domains match (exactly, after
dropping `www.`, or as a subdomain of it; freemail never matches). First subscription:
the earliest paid one (`active`, `expired` or `cancelled`). Days: from the first
community touch to the first subscription.

| Account | Name | Domains | Community org | Subscriptions | First subscription | First community touch | Days | Story |
|---|---|---|---|---|---|---|---|---|
"""

SUBSCRIPTIONS_HEAD = """
## Subscriptions and orders

| Subscription | Account | Kind | Product | Plan | Started | Ended | Amount | Status |
|---|---|---|---|---|---|---|---|---|
"""


def readme(export: Export, touches: dict[str, Touch]) -> str:
    rows: list[str] = []
    converting = outside = prospects = 0
    for a in export.accounts:
        org = community_org(a.plan.domains, touches)
        first = a.first_paid
        touch = touches.get(org) if org else None
        if first is None:
            prospects += 1
        elif org:
            converting += 1
        else:
            outside += 1
        subs = ", ".join(
            f"{s.product_kind} {s.plan} ({s.status})"
            for s in sorted(a.subscriptions, key=lambda s: s.start)
        )
        days = (first.start.date() - touch.when.date()).days if first and touch else None
        cells = [
            a.account_id,
            a.plan.name,
            "<br>".join(f"`{d}`" for d in a.plan.domains) or "(empty)",
            f"`{org}`" if org else "no",
            subs or "none",
            first.start.date().isoformat() if first else "none",
            f"{touch.when:%Y-%m-%d} {touch.channel} (`{touch.address}`)" if touch else "",
            "" if days is None else str(days),
            a.plan.note,
        ]
        rows.append("| " + " | ".join(cells) + " |")
    statuses = _counts(s.status for s in export.subscriptions)
    currencies = _counts(s.currency for s in export.subscriptions)
    head = README_HEAD.format(
        exported=_instant(EXPORTED_AT),
        n_accounts=len(export.accounts),
        n_subs=len(export.subscriptions),
        n_converting=converting,
        n_outside=outside,
        n_prospects=prospects,
        statuses=statuses,
        currencies=currencies,
    )
    names = {a.account_id: a.plan.name for a in export.accounts}
    sub_rows = [
        "| "
        + " | ".join(
            [
                s.subscription_id,
                f"{s.account_id} {names[s.account_id]}",
                s.product_kind,
                s.product,
                s.plan,
                _when(s.start, s.timed),
                "" if s.end is None else _when(s.end, s.timed),
                f"{s.amount:,} {s.currency}",
                s.status,
            ]
        )
        + " |"
        for s in export.subscriptions
    ]
    return head + "\n".join(rows) + "\n" + SUBSCRIPTIONS_HEAD + "\n".join(sub_rows) + "\n"


def _counts(values: Iterable[str]) -> str:
    counts = Counter(values)
    return ", ".join(f"{n} {k}" for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


# --------------------------------------------------------------------------- files


def check(export: Export, touches: dict[str, Touch]) -> None:
    """The story's promises about the community, against the samples' files."""
    for a in export.accounts:
        domains = {normalize_domain(d) for d in a.plan.domains}
        assert not any(d == VENDOR_DOMAIN or d.endswith("." + VENDOR_DOMAIN) for d in domains)
        org = community_org(a.plan.domains, touches)
        first = a.first_paid
        if org and first:
            assert first.start > touches[org].when, (a.plan.name, org)


def generate(out: Path = HERE) -> dict[str, Path]:
    export = Export()
    touches = community_touches()
    check(export, touches)
    files = {
        "accounts": out / "crm" / "accounts.csv",
        "subscriptions": out / "crm" / "subscriptions.csv",
        "readme": out / "README.md",
    }
    files["accounts"].parent.mkdir(parents=True, exist_ok=True)
    files["accounts"].write_bytes(_csv(ACCOUNT_COLUMNS, [a.row() for a in export.accounts]))
    files["subscriptions"].write_bytes(
        _csv(SUBSCRIPTION_COLUMNS, [s.row() for s in export.subscriptions])
    )
    files["readme"].write_bytes(readme(export, touches).encode("utf-8"))
    return files


def main() -> None:
    for path in generate().values():
        print(f"{path.stat().st_size:>8}  {path}")


if __name__ == "__main__":
    main()

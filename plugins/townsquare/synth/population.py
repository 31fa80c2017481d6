"""The people of the synthetic community: persons, identities, organizations, bots.

Shape (all deterministic for a seed):

- ``30,000 x scale`` persons (at least 40). Each has an activity weight drawn from a
  Pareto distribution and an active period (months) that grows with the weight, so a few
  people are active for years and do most of the work while most show up once or twice.
- Channels: ``BLOG``, ``FORUM``, ``MAIL``, ``REPO``. Everyone has a primary channel;
  heavier people join more (about a quarter of the people seen are in two or more).
  Among repository people, *coders* commit and open pull requests.
- Identities per channel, different on purpose: a personal address at a freemail
  domain, a work address at their organization's domain, plus-tagged and capitalised
  variants, GitHub noreply addresses (``ID+login@users.noreply.github.com``), a GitHub
  login, a forum username (the GitHub login for those who sign in with GitHub).
- Organizations: one per ten persons, each with a few business users (heavy-tailed
  sizes); everyone else writes from freemail. About one business organization in a
  hundred converts to a paying customer (``Org.converts``), the engaged ones more
  likely. Domains are under ``.example`` and ``.test`` only; freemail domains are
  invented too (``FREEMAIL``), as are all names.
- Staff (``STAFF_DOMAIN``) do about 12% of each channel's activity every month and
  answer first often; bots (dependabot, GitHub Actions, a CI account) are ``BOTS``.

Sources pick the actor of each activity with ``Sampler.pick(rng, month)``: weighted by
activity weight among the channel's people active that month. ``Tally`` counts what
each person did, per channel, for the manifest's people statistics.
"""

from __future__ import annotations

import math
import random
import unicodedata
from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate

from townsquare.synth.timeline import BASE_MONTHS, DELTA_MONTH, growth, rng_for

BLOG, FORUM, MAIL, REPO = 1, 2, 4, 8
CHANNELS = ((BLOG, "blog"), (FORUM, "forum"), (MAIL, "mailing_list"), (REPO, "repository"))
CHANNEL_INDEX = {BLOG: 0, FORUM: 1, MAIL: 2, REPO: 3}

PEOPLE_PER_SCALE = 40_000
ORGS_PER_PERSON = 0.1
CONVERSION_RATE = 0.01
STAFF_SHARE = 0.12
FLAT_STAFF_SHARE = 0.03
PARETO_ALPHA = 1.1
MAX_WEIGHT = 3_000.0

FREEMAIL = ("freemail.example", "postbox.example", "inbox.test", "mailbox.example")
NOREPLY_DOMAIN = "users.noreply.github.com"
STAFF_DOMAIN = "borealis.example"
STAFF_ORG = "Borealis Labs"

FIRST = (
    "Ana", "Ben", "Chen", "Dana", "Elif", "Farah", "Gustav", "Hana", "Ines", "Jonas",
    "Kenji", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq",
    "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoë", "Amara", "Bjørn", "Chiara", "Dmitri",
    "Emeka", "Fatima", "Greta", "Hugo", "Ingrid", "Joaquín", "Kirsi", "Leandro", "Mei",
    "Niko", "Olga", "Pablo", "Rafael", "Selin", "Tobias", "Ulla", "Valentin", "Wiebke",
    "Xavier", "Yara", "Zofia", "Aiko", "Bastian", "Cyrus", "Dagny", "Esme", "Felix",
    "Gwen", "Henrik", "Imran", "Jana", "Kaito", "Linnea", "Malik", "Noor", "Oskar",
    "Paulina", "Rhea", "Søren", "Teodor", "Uri", "Vera", "Wanjiru", "Yusra", "Zeynep",
    "Adaeze", "Björn", "Catalina", "Diego", "Eun-ji", "Femi", "Giulia", "Hamid", "Irene",
    "Jakub", "Katarzyna", "Luca", "Marta", "Nils", "Ona", "Pietro", "Ravi", "Sakura",
    "Thiago", "Ugo", "Vikram", "Wojciech", "Xin", "Yuki", "Zainab", "Łukasz", "Renée",
    "José", "François", "Åsa", "Mårten", "Chloé", "Andrés", "Mia", "Liam", "Noah", "Emma",
)  # fmt: skip
LAST = (
    "Silva", "Novak", "Okafor", "Lindqvist", "Tanaka", "Haddad", "Kowalski", "Moreau",
    "Duarte", "Brandt", "Eklund", "Fairweather", "Ishikawa", "Castellanos", "Petrakis",
    "Yilmaz", "Wendt", "Marchetti", "Coelho", "Achterberg", "Quist", "Abara", "Dervish",
    "Jovanovic", "Rautio", "Sandoval", "Tamura", "Ulloa", "Vasquez", "Zeller", "Dahl",
    "Berglund", "Esposito", "Krause", "Lindahl", "Okonkwo", "Raman", "Haverkamp",
    "Kowalczyk", "Nakamura", "Oyelaran", "Papadopoulos", "Rossi", "Schmidt", "Takahashi",
    "Uddin", "Volkova", "Weber", "Xu", "Yamamoto", "Zhang", "Andersen", "Bianchi",
    "Carvalho", "Dubois", "Engström", "Fischer", "García", "Hoffmann", "Ivanova",
    "Jensen", "Kaya", "López", "Müller", "Nielsen", "O'Brien", "Pereira", "Quintero",
    "Rahman", "Sørensen", "Torres", "Urbina", "Varga", "Wójcik", "Ximenes", "Young",
    "Zapata", "Adeyemi", "Bauer", "Chowdhury", "Delgado", "Eriksen", "Ferreira", "Gallo",
    "Horvat", "Iyer", "Jaramillo", "Kim", "Lund", "Mendes", "Nowak", "Ortiz", "Park",
    "Reyes", "Santos", "Tran", "Ueda", "Vogel", "Walsh", "Yadav", "Zubiri", "Łaski",
)  # fmt: skip
ORG_A = (
    "Northwind", "Bluepeak", "Ironleaf", "Silverline", "Redwood", "Clearwater", "Stonebridge",
    "Brightfield", "Evergreen", "Harborview", "Quickstep", "Suncrest", "Deepwell", "Highgate",
    "Openfield", "Windmill", "Copperhill", "Lakeside", "Polaris", "Granite", "Meadow",
    "Falcon", "Orbit", "Cedar", "Aurora", "Beacon", "Crescent", "Delta", "Ember", "Fjord",
    "Glacier", "Horizon", "Indigo", "Juniper", "Keystone", "Lumen", "Maple", "Nimbus",
)  # fmt: skip
ORG_B = (
    "Robotics", "Energy", "Analytics", "Logistics", "Health", "Bank", "Retail", "Telecom",
    "Systems", "Labs", "Mobility", "Insurance", "Media", "Foods", "Games", "Aerospace",
    "Water", "Farms", "Security", "Cloud", "Data", "Freight", "Pharma", "Studios",
)  # fmt: skip
INDUSTRIES = {
    "Robotics": "Manufacturing", "Energy": "Energy", "Analytics": "Software", "Logistics":
    "Logistics", "Health": "Healthcare", "Bank": "Financial services", "Retail": "Retail",
    "Telecom": "Telecommunications", "Systems": "Software", "Labs": "Research", "Mobility":
    "Transportation", "Insurance": "Insurance", "Media": "Media", "Foods": "Food",
    "Games": "Gaming", "Aerospace": "Aerospace", "Water": "Utilities", "Farms": "Agriculture",
    "Security": "Security", "Cloud": "Software", "Data": "Software", "Freight": "Logistics",
    "Pharma": "Pharmaceuticals", "Studios": "Media",
}  # fmt: skip
COUNTRIES = ("DE", "US", "FR", "NL", "GB", "SE", "BR", "IN", "JP", "ES", "IT", "CA", "PL", "NG")
LOCATIONS = (
    "Berlin", "San Francisco", "Paris", "Amsterdam", "London", "Stockholm", "São Paulo",
    "Bengaluru", "Tokyo", "Madrid", "Milan", "Toronto", "Warsaw", "Lagos", "", "", "Earth",
)  # fmt: skip
TIMEZONES = (0, 60, 60, 60, 120, -300, -300, -240, -420, 330, 480, 540, -180, 600, 0, 60)


@dataclass(slots=True)
class Bot:
    key: str
    login: str
    gh_id: int
    name: str
    email: str
    type: str


BOTS = {
    "dependabot": Bot(
        "dependabot", "dependabot[bot]", 49699333, "dependabot[bot]",
        f"49699333+dependabot[bot]@{NOREPLY_DOMAIN}", "Bot",
    ),
    "actions": Bot(
        "actions", "github-actions[bot]", 41898282, "github-actions[bot]",
        f"41898282+github-actions[bot]@{NOREPLY_DOMAIN}", "Bot",
    ),
    "ci": Bot("ci", "borealis-bot", 151000001, "Borealis CI", f"ci-bot@{STAFF_DOMAIN}", "User"),
}  # fmt: skip
WEB_FLOW = ("GitHub", "noreply@github.com")


@dataclass(slots=True)
class Org:
    oid: int
    name: str
    slug: str
    domain: str
    mail_domain: str
    industry: str
    country: str
    segment: str
    members: list[int] = field(default_factory=list)
    first_month: int = BASE_MONTHS
    engagement: float = 0.0
    converts: bool = False


@dataclass(slots=True)
class Person:
    pid: int
    first: str
    last: str
    name: str
    weight: float
    m0: int
    m1: int
    channels: int
    coder: bool
    staff: bool
    org: int
    tz: int
    login: str
    gh_id: int
    forum_username: str
    personal: str
    work: str
    mail_from: str
    mail_alt: str
    git_emails: tuple[str, ...]
    git_name: str
    blog_email: str
    blog_url: str
    company: str
    public_email: str
    location: str


def ascii_fold(text: str) -> str:
    text = text.replace("ø", "o").replace("Ø", "O").replace("ł", "l").replace("Ł", "L")
    text = text.replace("ß", "ss").replace("'", "")
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum() or ch == "-")


class Tally:
    """Activities per person and channel (for the manifest's people statistics)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.counts = array("i", bytes(4 * n * 4))

    def add(self, pid: int, channel: int, k: int = 1) -> None:
        if pid >= 0:
            self.counts[pid * 4 + CHANNEL_INDEX[channel]] += k

    def stats(self, pop: Population) -> dict[str, object]:
        totals = []
        multi = 0
        per_channel = [0, 0, 0, 0]
        for pid in range(self.n):
            row = self.counts[pid * 4 : pid * 4 + 4]
            total = sum(row)
            if total:
                totals.append(total)
                used = sum(1 for c in row if c)
                multi += used > 1
                for i, c in enumerate(row):
                    per_channel[i] += c > 0
        totals.sort(reverse=True)
        seen = len(totals)
        all_acts = sum(totals)
        top = max(1, seen // 10)
        orgs_seen = {
            pop.people[pid].org
            for pid in range(self.n)
            if pop.people[pid].org >= 0 and sum(self.counts[pid * 4 : pid * 4 + 4])
        }
        return {
            "population": self.n,
            "people_seen": seen,
            "activities": all_acts,
            "top_10pct_share": round(sum(totals[:top]) / all_acts, 4) if all_acts else 0.0,
            "median_activities": totals[seen // 2] if seen else 0,
            "share_with_1_or_2": round(sum(1 for t in totals if t <= 2) / seen, 4) if seen else 0,
            "max_activities": totals[0] if totals else 0,
            "multi_channel": multi,
            "multi_channel_share": round(multi / seen, 4) if seen else 0.0,
            "people_per_channel": {name: per_channel[i] for i, (_, name) in enumerate(CHANNELS)},
            "staff": len(pop.staff),
            "business_organizations_seen": len(orgs_seen),
        }


class Sampler:
    """Weighted choice of an active person of a channel in a month (staff included).

    ``pick`` weighs people by activity weight (replies, commits, reviews: the regulars do
    most); ``pick(..., flat=True)`` nearly uniformly (``weight ** 0.3``: who asks a
    question, opens an issue or stars is much more often someone new).
    """

    def __init__(self, pop: Population, mask: int, coders: bool = False) -> None:
        months = DELTA_MONTH + 1
        pids: list[list[int]] = [[] for _ in range(months)]
        for p in pop.people:
            if p.staff or not p.channels & mask or (coders and not p.coder):
                continue
            for m in range(p.m0, p.m1 + 1):
                pids[m].append(p.pid)
        people = pop.people
        self.tables: list[tuple[array, array, float]] = []
        self.flat: list[tuple[array, array, float]] = []
        for m in range(months):
            ids = array("i", pids[m] + pop.staff)
            for out, exponent, share in (
                (self.tables, 1.0, STAFF_SHARE),
                (self.flat, 0.3, FLAT_STAFF_SHARE),
            ):
                weights = [people[pid].weight ** exponent for pid in pids[m]]
                total = sum(weights)
                staff_w = (total * share / (1 - share) / len(pop.staff)) if total else 1.0
                cum = array("d", accumulate(weights + [staff_w] * len(pop.staff)))
                out.append((ids, cum, cum[-1]))

    def pick(self, rng: random.Random, month: int, flat: bool = False) -> int:
        ids, cum, total = (self.flat if flat else self.tables)[min(month, DELTA_MONTH)]
        return ids[min(bisect_right(cum, rng.random() * total), len(ids) - 1)]

    def pick_other(self, rng: random.Random, month: int, not_pid: int) -> int:
        for _ in range(4):
            pid = self.pick(rng, month)
            if pid != not_pid:
                return pid
        return pid


@dataclass
class Population:
    seed: int
    scale: float
    people: list[Person]
    orgs: list[Org]
    staff: list[int]
    samplers: dict[str, Sampler] = field(default_factory=dict)
    tally: Tally | None = None

    def sampler(self, key: str) -> Sampler:
        """``blog``, ``forum``, ``mail``, ``repo`` or ``code`` (repository coders)."""
        if key not in self.samplers:
            mask = {"blog": BLOG, "forum": FORUM, "mail": MAIL, "repo": REPO, "code": REPO}[key]
            self.samplers[key] = Sampler(self, mask, coders=key == "code")
        return self.samplers[key]

    def org_of(self, pid: int) -> Org | None:
        org = self.people[pid].org
        return self.orgs[org] if org >= 0 else None

    def stats(self) -> dict[str, object]:
        business = [o for o in self.orgs if o.members]
        return {
            "population": len(self.people),
            "staff": len(self.staff),
            "organizations": len(business),
            "business_users": sum(len(o.members) for o in business),
            "converting_organizations": sum(o.converts for o in business),
            "conversion_rate": round(sum(o.converts for o in business) / len(business), 4)
            if business
            else 0.0,
            "people_in_2plus_channels": sum(1 for p in self.people if p.channels.bit_count() > 1),
            "coders": sum(p.coder for p in self.people),
        }


def build(scale: float, seed: int) -> Population:
    """The population for ``scale`` and ``seed`` (cheap: about a second at scale 1)."""
    rng = rng_for(seed, "population")
    n = max(40, round(PEOPLE_PER_SCALE * scale))
    n_staff = max(3, round(n / 4000))
    orgs = _orgs(rng, max(3, round(n * ORGS_PER_PERSON)))
    used_logins: set[str] = {b.login for b in BOTS.values()}
    used_ids: set[int] = {b.gh_id for b in BOTS.values()}
    used_mail: set[str] = set()
    used_forum: set[str] = {"system", "discobot"}
    start_weights = [growth(m) for m in range(BASE_MONTHS)] + [growth(BASE_MONTHS - 1) / 30]
    start_cum = list(accumulate(start_weights))

    # Business users: organizations get a few each (heavy-tailed), picked among non-staff.
    pids = list(range(n_staff, n))
    rng.shuffle(pids)
    org_of = [-1] * n
    cursor = 0
    for org in orgs:
        size = min(40, 1 + int(rng.paretovariate(1.6)))
        for pid in pids[cursor : cursor + size]:
            org_of[pid] = org.oid
        cursor += size
        if cursor >= len(pids) * 0.45:
            break

    people: list[Person] = []
    for pid in range(n):
        staff = pid < n_staff
        first, last = rng.choice(FIRST), rng.choice(LAST)
        if staff:
            weight, m0, m1, channels, coder = 1.0, 0, DELTA_MONTH, BLOG | FORUM | MAIL | REPO, True
        else:
            weight = min(MAX_WEIGHT, rng.paretovariate(PARETO_ALPHA))
            span = max(1, min(DELTA_MONTH + 1, round(weight**0.8 * rng.uniform(0.6, 1.4))))
            m0 = bisect_right(start_cum, rng.random() * start_cum[-1])
            m0 = min(m0, DELTA_MONTH)
            if m0 + span - 1 > DELTA_MONTH:
                m0 = max(0, DELTA_MONTH + 1 - span) if m0 < DELTA_MONTH else m0
            m1 = min(DELTA_MONTH, m0 + span - 1)
            channels = _channels(rng, weight)
            coder = bool(channels & REPO) and rng.random() < min(
                0.9, 0.12 + 0.3 * math.log10(weight)
            )
        org_id = -1 if staff else org_of[pid]
        org = orgs[org_id] if org_id >= 0 else None
        people.append(
            _person(
                rng, pid, first, last, weight, m0, m1, channels, coder, staff, org,
                used_logins, used_ids, used_mail, used_forum,
            )
        )  # fmt: skip
        if org is not None:
            org.members.append(pid)
            org.first_month = min(org.first_month, m0)
            org.engagement += weight * (m1 - m0 + 1)

    _choose_converts(rng, orgs)
    pop = Population(seed=seed, scale=scale, people=people, orgs=orgs, staff=list(range(n_staff)))
    pop.tally = Tally(n)
    return pop


def _channels(rng: random.Random, weight: float) -> int:
    primary = rng.choices((REPO, FORUM, MAIL, BLOG), weights=(0.42, 0.30, 0.13, 0.15))[0]
    channels = primary
    extra = min(0.85, 0.11 + 0.23 * math.log10(weight))
    for ch, pop_w in ((REPO, 1.0), (FORUM, 0.9), (MAIL, 0.6), (BLOG, 0.5)):
        if ch != primary and rng.random() < extra * pop_w:
            channels |= ch
    return channels


def _orgs(rng: random.Random, n: int) -> list[Org]:
    orgs: list[Org] = []
    used: set[str] = {STAFF_DOMAIN}
    for oid in range(n):
        a, b = (_brand(rng) if rng.random() < 0.6 else rng.choice(ORG_A)), rng.choice(ORG_B)
        name = f"{a} {b}"
        base = f"{a}-{b}".lower()
        tld = rng.choices((".example", ".test", ".co.example"), weights=(0.7, 0.22, 0.08))[0]
        domain = base + tld
        while domain in used:
            a = _brand(rng)
            name, base = f"{a} {b}", f"{a}-{b}".lower()
            domain = base + tld
        used.add(domain)
        mail_domain = (
            f"{rng.choice(('eu', 'us', 'corp', 'mail'))}.{domain}"
            if rng.random() < 0.08
            else domain
        )
        segment = rng.choices(("smb", "mid-market", "enterprise"), weights=(0.55, 0.3, 0.15))[0]
        orgs.append(
            Org(oid, name, domain.split(".")[0], domain, mail_domain, INDUSTRIES[b],
                rng.choice(COUNTRIES), segment)
        )  # fmt: skip
    return orgs


_ONSETS = (
    "b",
    "c",
    "d",
    "f",
    "g",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "z",
    "br",
    "tr",
    "qu",
)
_VOWELS = ("a", "e", "i", "o", "u", "ai", "eo", "y")
_CODAS = ("", "", "n", "r", "x", "l", "s", "m")


def _brand(rng: random.Random) -> str:
    """An invented brand name (``Kavoro``, ``Zanbix``): companies that do not exist."""
    syllables = rng.choice((2, 2, 3))
    word = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(syllables))
    return (word + rng.choice(_CODAS)).capitalize()


def _choose_converts(rng: random.Random, orgs: list[Org]) -> None:
    business = [o for o in orgs if o.members]
    if not business:
        return
    k = max(1, round(len(business) * CONVERSION_RATE))
    # Efraimidis-Spirakis: weighted sampling without replacement, engaged organizations first.
    keyed = sorted(
        business, key=lambda o: (-(rng.random() ** (1.0 / max(o.engagement, 1e-9))), o.oid)
    )
    for org in keyed[:k]:
        org.converts = True


def _unique(base: str, used: set[str], rng: random.Random) -> str:
    value = base
    while value in used:
        value = f"{base}{rng.randint(2, 999)}"
    used.add(value)
    return value


def _person(
    rng: random.Random,
    pid: int,
    first: str,
    last: str,
    weight: float,
    m0: int,
    m1: int,
    channels: int,
    coder: bool,
    staff: bool,
    org: Org | None,
    used_logins: set[str],
    used_ids: set[int],
    used_mail: set[str],
    used_forum: set[str],
) -> Person:
    f, la = ascii_fold(first), ascii_fold(last)
    name = f"{first} {last}"
    style = rng.random()
    login_base = (
        f"{f}-{la}" if style < 0.35 else f"{f}{la}" if style < 0.55
        else f"{f[0]}{la}" if style < 0.7 else f"{la}-{f[0]}" if style < 0.8
        else f"{f}-dev" if style < 0.9 else f"{f}{la[:3]}"
    )  # fmt: skip
    login = _unique(login_base, used_logins, rng)
    gh_id = rng.randint(1_000_000, 190_000_000)
    while gh_id in used_ids:
        gh_id = rng.randint(1_000_000, 190_000_000)
    used_ids.add(gh_id)
    noreply = f"{gh_id}+{login}@{NOREPLY_DOMAIN}"

    free = rng.choice(FREEMAIL)
    style = rng.random()
    local = (
        f"{f}.{la}" if style < 0.45 else f"{f}{la}" if style < 0.6
        else f"{f[0]}{la}" if style < 0.75 else f"{f}_{la}" if style < 0.85
        else f"{f}{rng.randint(1, 99)}"
    )  # fmt: skip
    personal = _address(local, free, used_mail, rng)
    work = ""
    if staff:
        work = _address(f, STAFF_DOMAIN, used_mail, rng)
    elif org is not None:
        local = f"{f}.{la}" if rng.random() < 0.7 else f"{f[0]}{la}"
        work = _address(local, org.mail_domain, used_mail, rng)

    # Forum username: the GitHub login for those who sign in with GitHub.
    if channels & FORUM and channels & REPO and rng.random() < 0.45:
        forum_username = login
        used_forum.add(login)
    else:
        style = rng.random()
        base = f"{f}_{la}" if style < 0.4 else f"{f}{la[0]}" if style < 0.7 else f"{f}.{la}"
        forum_username = _unique(base, used_forum, rng)

    # Mailing lists: work or personal address, sometimes a variant, sometimes a second one.
    main = work if work and (staff or rng.random() < 0.65) else personal
    other = personal if main == work else (work or "")
    mail_from = _variant(rng, main, f) if rng.random() < 0.12 else main
    mail_alt = other if other and rng.random() < 0.18 else ""

    # Git: work address, GitHub noreply or personal; a second address for some.
    if staff or (work and rng.random() < 0.55):
        primary = work
    elif rng.random() < 0.35:
        primary = noreply
    else:
        primary = personal
    emails = [primary]
    if primary != noreply and rng.random() < 0.35:
        emails.append(noreply)
    if rng.random() < 0.1:
        emails.append(_variant(rng, personal, f))
    style = rng.random()
    git_name = name if style < 0.85 else login if style < 0.95 else first

    blog_email = personal if rng.random() < 0.75 else (work or _variant(rng, personal, f))
    blog_url = f"https://{f}{la}.example.net" if rng.random() < 0.25 else ""
    company = ""
    if staff:
        company = rng.choice(("@borealis-dev", STAFF_ORG))
    elif org is not None and rng.random() < 0.6:
        company = rng.choice((f"@{org.slug}", org.name, f"{org.name} Inc.", org.name.upper()))
    public_email = ""
    if rng.random() < 0.3:
        public_email = primary if primary != noreply else personal
    return Person(
        pid=pid, first=first, last=last, name=name, weight=weight, m0=m0, m1=m1,
        channels=channels, coder=coder, staff=staff, org=org.oid if org else -1,
        tz=rng.choice(TIMEZONES), login=login, gh_id=gh_id, forum_username=forum_username,
        personal=personal, work=work, mail_from=mail_from, mail_alt=mail_alt,
        git_emails=tuple(emails), git_name=git_name, blog_email=blog_email,
        blog_url=blog_url, company=company, public_email=public_email,
        location=rng.choice(LOCATIONS),
    )  # fmt: skip


def _address(local: str, domain: str, used: set[str], rng: random.Random) -> str:
    address = f"{local}@{domain}"
    while address in used:
        address = f"{local}{rng.randint(2, 999)}@{domain}"
    used.add(address)
    return address


def _variant(rng: random.Random, address: str, first: str) -> str:
    """A plus-tagged or capitalised form of ``address`` (the same mailbox)."""
    local, _, domain = address.partition("@")
    if rng.random() < 0.55:
        return f"{local}+{rng.choice(('borealis', 'lists', 'dev', 'oss'))}@{domain}"
    return (
        f"{local.title()}@{domain.title()}" if rng.random() < 0.5 else f"{local.title()}@{domain}"
    )

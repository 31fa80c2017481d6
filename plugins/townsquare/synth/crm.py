"""A CRM/billing export: ``crm/accounts.csv`` and ``crm/subscriptions.csv`` (source type ``crm``).

Columns exactly as the ``crm`` connector reads them (README "Commercial source"). The
accounts are:

- the organizations of the community that converted (about one business organization in
  a hundred, ``population.Org.converts``), under their email domains, so
  ``int_organization_accounts`` matches them; their first subscription starts months
  after the organization's first activity; annual support renews (or is cancelled),
  some buy training or consulting;
- prospects: community organizations with an account and a trial, never paying;
- customers the community never saw (domains no one writes from).

Values vary the way exports do and the connector normalises: ``Support``/``support``,
``Active``, ``eur``, ``12,500.00``, domains as ``a.example; www.a.example`` or a URL,
dates with and without a time. Delta: ``delta/crm/`` is the next day's full export (a
snapshot: the connector lands the changed files whole): a new customer or renewal,
statuses that changed at the new year.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

from townsquare.synth.context import Context
from townsquare.synth.population import COUNTRIES, INDUSTRIES, ORG_B, _brand
from townsquare.synth.timeline import (
    BASE_END,
    DAY,
    DELTA_END,
    DELTA_START,
    iso_date,
    iso_z,
    month_start,
    rng_for,
)

ACCOUNT_COLUMNS = ("account_id", "name", "domains", "website", "industry", "country", "segment",
                   "created_at", "updated_at")  # fmt: skip
SUBSCRIPTION_COLUMNS = ("subscription_id", "account_id", "product_kind", "product", "plan", "started_at",
                        "ended_at", "amount", "currency", "status", "updated_at")  # fmt: skip
SUFFIX = {"DE": "GmbH", "US": "Inc.", "FR": "SAS", "NL": "B.V.", "GB": "Ltd", "SE": "AB", "BR": "Ltda.",
          "IN": "Pvt. Ltd.", "JP": "K.K.", "ES": "S.L.", "IT": "S.r.l.", "CA": "Inc.", "PL": "sp. z o.o.",
          "NG": "Ltd"}  # fmt: skip
SUPPORT = {"smb": (6_000, 12_000), "mid-market": (12_000, 40_000), "enterprise": (40_000, 150_000)}
YEAR = 365 * DAY


def generate(ctx: Context) -> None:
    rng = rng_for(ctx.seed, "crm")
    pop = ctx.pop
    accounts: list[dict[str, str]] = []
    subs: list[dict[str, str]] = []
    business = [o for o in pop.orgs if o.members]
    converts = [o for o in business if o.converts]
    prospects = [o for o in business if not o.converts and rng.random() < 0.02]
    if not prospects and len(business) > len(converts):
        prospects = [next(o for o in business if not o.converts)]
    unseen = max(1, round(len(converts) * 0.6))
    used = {o.domain for o in pop.orgs}

    plans: list[tuple[int, str, dict[str, str], list[tuple]]] = []  # (created, kind, account, subs)
    for org in converts:
        since = month_start(min(59, org.first_month + rng.randint(2, 24))) + int(
            rng.random() * 25 * DAY
        )
        plans.append(
            _customer(
                rng,
                org.name,
                org.domain,
                org.mail_domain,
                org.industry,
                org.country,
                org.segment,
                since,
            )
        )
    for org in prospects:
        start = month_start(min(59, org.first_month + rng.randint(1, 12))) + int(
            rng.random() * 25 * DAY
        )
        plans.append(
            _prospect(rng, org.name, org.domain, org.industry, org.country, org.segment, start)
        )
    for _ in range(unseen):
        brand = _brand(rng)
        b = rng.choice(ORG_B)
        domain = f"{brand}-{b}".lower() + ".example"
        while domain in used:
            brand = _brand(rng)
            domain = f"{brand}-{b}".lower() + ".example"
        used.add(domain)
        since = month_start(rng.randint(6, 59)) + int(rng.random() * 25 * DAY)
        seg = rng.choice(("smb", "mid-market", "enterprise"))
        plans.append(
            _customer(
                rng,
                f"{brand} {b}",
                domain,
                domain,
                INDUSTRIES[b],
                rng.choice(COUNTRIES),
                seg,
                since,
            )
        )
    # the delta day: a new customer (a community organization that converts), and a renewal
    late = [o for o in business if not o.converts and o.first_month <= 55]
    if late:
        org = late[int(rng.random() * len(late))]
        plans.append(_customer(rng, org.name, org.domain, org.mail_domain, org.industry, org.country,
                               org.segment, DELTA_START + 9 * 3600))  # fmt: skip
    plans.sort(key=lambda p: (p[0], p[2]["name"]))

    sub_n = 0
    for i, (created, _, account, rows) in enumerate(plans, 1):
        account["account_id"] = f"ACC-{i:05d}"
        accounts.append(account)
        for row in sorted(rows, key=lambda r: r[0]):
            sub_n += 1
            subs.append(_sub_row(rng, f"SUB-{sub_n:05d}", account["account_id"], *row))
        del created

    counts = ctx.source("crm")
    written: dict[str, str] = {}
    for folder, cut, key in (
        (ctx.out / "crm", BASE_END, "base"),
        (ctx.out / "delta" / "crm", DELTA_END, "delta"),
    ):
        shown_a = [a for a in accounts if a["_created"] <= cut]
        shown_s = [s for s in subs if s["_started"] <= cut]
        rows = {}
        for entity, columns, shown in (
            ("accounts", ACCOUNT_COLUMNS, shown_a),
            ("subscriptions", SUBSCRIPTION_COLUMNS, shown_s),
        ):
            text = _write(folder / f"{entity}.csv", columns, [_as_of(r, cut) for r in shown])
            # An export file identical to the one landed before is skipped by the connector.
            rows[entity] = 0 if key == "delta" and written.get(entity) == text else len(shown)
            written[entity] = text
        if key == "base":
            counts.base.update(rows)
            base_a, base_s = len(shown_a), len(shown_s)
        else:
            counts.delta.update(rows)
            counts.new.update(
                {"accounts": len(shown_a) - base_a, "subscriptions": len(shown_s) - base_s}
            )
    counts.extra.update({
        "customers_from_community": len(converts),
        "customers_never_seen": unseen,
        "prospects": len(prospects),
        "business_organizations": len(business),
        "conversion_rate": round(len(converts) / len(business), 4) if business else 0.0,
    })  # fmt: skip


def _account(rng: random.Random, name: str, domain: str, mail_domain: str, industry: str, country: str,
             segment: str, created: int) -> dict[str, str]:  # fmt: skip
    roll = rng.random()
    if roll < 0.4:
        domains = domain
    elif roll < 0.7:
        domains = f"{domain}; www.{domain}"
    elif roll < 0.85:
        domains = f"https://www.{domain.capitalize()}/about"
    else:
        domains = f"{domain}, {mail_domain}" if mail_domain != domain else f"{domain} www.{domain}"
    return {
        "name": f"{name} {SUFFIX.get(country, 'Ltd')}",
        "domains": domains,
        "website": f"https://www.{domain}",
        "industry": industry,
        "country": country,
        "segment": segment,
        "created_at": iso_z(created) if rng.random() < 0.7 else iso_date(created),
        "_created": created,
        "_updated": created,
    }  # type: ignore[dict-item]


def _customer(rng, name, domain, mail_domain, industry, country, segment, since) -> tuple:
    created = since - int(rng.uniform(5, 80) * DAY)
    account = _account(rng, name, domain, mail_domain, industry, country, segment, created)
    rows = []
    low, high = SUPPORT[segment]
    currency = rng.choices(("EUR", "USD", "GBP"), weights=(0.6, 0.3, 0.1))[0]
    if segment == "smb" and rng.random() < 0.35:  # monthly support
        end = since + int(rng.uniform(4, 30) * 30 * DAY) if rng.random() < 0.3 else None
        rows.append(
            (
                since,
                "support",
                "Borealis Standard Support",
                "monthly",
                end,
                rng.randint(5, 15) * 100,
                currency,
            )
        )
    else:
        start = since
        amount = round(rng.uniform(low, high), -2)
        while start <= DELTA_END:
            end = start + YEAR
            churn = rng.random() < 0.15
            rows.append((start, "support", "Borealis Business Support" if segment != "enterprise"
                         else "Borealis Enterprise Support 24/7", "annual", end, amount, currency, churn))  # fmt: skip
            if churn:
                break
            start = end
            amount = round(amount * rng.uniform(1.0, 1.25), -2)
    if rng.random() < 0.3:
        t = since + int(rng.uniform(10, 200) * DAY)
        rows.append((t, "training", "Borealis Fundamentals training, 2 days (remote)", "one-off", t + DAY,
                     rng.randint(40, 90) * 100, currency))  # fmt: skip
    if rng.random() < 0.1:
        t = since + int(rng.uniform(30, 400) * DAY)
        rows.append(
            (
                t,
                "other",
                "Architecture review",
                "one-off",
                t + 5 * DAY,
                rng.randint(80, 250) * 100,
                currency,
            )
        )
    return created, "customer", account, [r for r in rows if r[0] <= DELTA_END]


def _prospect(rng, name, domain, industry, country, segment, start) -> tuple:
    created = start - int(rng.uniform(1, 30) * DAY)
    account = _account(rng, name, domain, domain, industry, country, segment, created)
    return (
        created,
        "prospect",
        account,
        [(start, "support", "Borealis Business Support", "trial", start + 30 * DAY, None, None)],
    )


def _sub_row(rng: random.Random, sub_id: str, account_id: str, start: int, kind: str, product: str, plan: str,
             end: int | None, amount: float | None, currency: str | None, churn: bool = False) -> dict:  # fmt: skip
    return {
        "subscription_id": sub_id,
        "account_id": account_id,
        "product_kind": kind.capitalize() if rng.random() < 0.3 else kind,
        "product": product,
        "plan": plan,
        "_started": start,
        "_end": end,
        "_amount": amount,
        "_currency": currency.lower() if currency and rng.random() < 0.1 else currency,
        "_churn": churn,
        "_style": rng.random(),
    }


def _as_of(row: dict, cut: int) -> dict[str, str]:
    """A row as the export shows it at ``cut`` (statuses follow the dates)."""
    if "account_id" in row and "subscription_id" not in row:
        return {k: v for k, v in row.items() if not k.startswith("_")} | {
            "updated_at": iso_z(min(cut, row["_updated"] + 86_400))
        }
    start, end = row["_started"], row["_end"]
    plan = row["plan"]
    if plan == "trial":
        status = "trial" if end is None or end > cut else "expired"
    elif end is not None and end <= cut:
        status = "cancelled" if row["_churn"] or plan == "monthly" else "expired"
    else:
        status = "active" if start <= cut else "pending"
    if row["_style"] < 0.2:
        status = status.capitalize()
    amount = row["_amount"]
    amount_text = (
        "" if amount is None else (f"{amount:,.2f}" if row["_style"] < 0.15 else f"{amount:.2f}")
    )
    changed = max(start, end if end is not None and end <= cut else start)
    return {
        "subscription_id": row["subscription_id"],
        "account_id": row["account_id"],
        "product_kind": row["product_kind"],
        "product": row["product"],
        "plan": plan,
        "started_at": iso_date(start) if row["_style"] < 0.6 else iso_z(start),
        "ended_at": "" if end is None else (iso_date(end) if row["_style"] < 0.6 else iso_z(end)),
        "amount": amount_text,
        "currency": row["_currency"] or "",
        "status": status,
        "updated_at": iso_z(min(cut, changed + 3600)),
    }


def _write(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    text = buf.getvalue()
    path.write_bytes(text.encode("utf-8"))
    return text

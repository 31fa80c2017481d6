"""Mailing-list archives as mbox files: ``mail/borealis-users.mbox``, ``mail/borealis-dev.mbox``.

Real mbox: ``From `` envelope lines with asctime dates, RFC 5322 headers (Mailman's
``List-Id``, ``[list]`` subject prefixes), ``Message-ID``, threads through
``In-Reply-To``/``References`` (some replies lack one or both: subject threading),
``>From `` quoting of body lines (mboxrd), UTF-8 names raw in 8-bit headers and as
RFC 2047 encoded words, quoted-printable and Latin-1 bodies, multipart/alternative
(text + HTML) and multipart/mixed (a patch or log attached). People post from their
work or personal address, sometimes a plus-tagged or capitalised variant, sometimes
a second address; a CI account posts build failures to the development list.

Messages are written in time order (a month at a time from a disk spool). Delta:
``delta/mail/<list>-2026-01-01.mbox``, the next day's messages (new threads and replies
to threads of the base): land that folder as the same source after the base.
"""

from __future__ import annotations

import base64
import quopri
import random
from email.header import Header

from townsquare.synth import words
from townsquare.synth.context import LISTS_DOMAIN, Context
from townsquare.synth.population import BOTS, MAIL, ascii_fold
from townsquare.synth.spool import MonthSpool
from townsquare.synth.timeline import (
    BASE_END,
    DAY,
    DELTA_DATE,
    DELTA_END,
    DELTA_MONTH,
    DELTA_START,
    HOUR,
    asctime,
    delay,
    delta_count,
    month_end,
    month_of,
    month_start,
    monthly_counts,
    phase,
    rfc822,
    rng_for,
    scaled,
    time_in,
)

MESSAGES = 140_000
LISTS = (
    ("borealis-users", 0.65, "Borealis users"),
    ("borealis-dev", 0.35, "Borealis development"),
)
MAILERS = (
    "Mozilla Thunderbird", "Apple Mail (2.3774.600.62)", "Mutt/2.2.12", "Evolution 3.50.2",
    "Microsoft Outlook 16.0", "Roundcube Webmail/1.6.6", "",
)  # fmt: skip


class _Thread:
    __slots__ = ("ids", "list", "prefix", "root", "subject")

    def __init__(self, lst: str, subject: str, root: int) -> None:
        self.list = lst
        self.prefix = f"[{lst}] "
        self.subject = subject
        self.root = root
        self.ids: list[str] = []


def generate(ctx: Context) -> None:
    rng = rng_for(ctx.seed, "mail")
    pop = ctx.pop
    sampler = pop.sampler("mail")
    folder = ctx.out / "mail"
    delta_folder = ctx.out / "delta" / "mail"
    folder.mkdir(parents=True, exist_ok=True)
    delta_folder.mkdir(parents=True, exist_ok=True)
    spools = {name: MonthSpool(ctx.tmp / "mail", name) for name, _, _ in LISTS}
    total = scaled(MESSAGES, ctx.scale, 10)
    state = {"seq": 0}
    recent: list[_Thread] = []

    def thread(start: int, lst: str, extra_replies: int = 0) -> int:
        """One thread started at ``start``; returns how many messages it has."""
        month = month_of(start)
        ci = lst == "borealis-dev" and rng.random() < 0.04
        root = -1 if ci else sampler.pick(rng, month, flat=rng.random() < 0.7)
        kind = (
            "bug" if ci else rng.choice(("question", "question", "bug", "feature", "announcement"))
        )
        subject = (
            f"Build failed: main #{rng.randint(1000, 99999)}" if ci else words.title(rng, kind)
        )
        th = _Thread(lst, subject, root)
        n_replies = 0 if rng.random() < 0.3 else min(150, int(rng.paretovariate(1.35) * 1.8))
        times = [start]
        t = start + delay(rng, 5 * HOUR, 1.4)
        for _ in range(n_replies):
            if phase(t) == 2:
                break
            times.append(t)
            t += delay(rng, 9 * HOUR, 1.5)
        times += sorted(
            time_in(rng, max(start, DELTA_START), DELTA_END) for _ in range(extra_replies)
        )
        written = 0
        for i, t in enumerate(times):
            if phase(t) == 2:
                continue
            if i == 0:
                pid = root
            elif i == 1 and rng.random() < 0.4:
                pid = rng.choice(pop.staff)
            elif root >= 0 and rng.random() < 0.2:
                pid = root
            else:
                pid = sampler.pick_other(rng, month_of(t), root)
            state["seq"] += 1
            data = _message(rng, pop, th, t, pid, state["seq"])
            spools[lst].add(t, state["seq"], data)
            if pid >= 0:
                pop.tally.add(pid, MAIL)
            written += 1
        if start > BASE_END - 30 * DAY and start <= BASE_END:
            recent.append(th)
        return written

    names = [name for name, _, _ in LISTS]
    shares = [share for _, share, _ in LISTS]
    used = 0
    for m, budget in enumerate(monthly_counts(total)):
        used -= budget  # an overshoot (a long thread) is taken from the next month
        while used < 0:
            start = time_in(rng, month_start(m), month_end(m))
            used += thread(start, rng.choices(names, weights=shares)[0])
        if m % 12 == 11:
            ctx.say(f"mail: {m + 1}/60 months")
    # The delta day: new threads, and replies to recent threads of the base.
    d_total = delta_count(total)
    used = 0
    while used < d_total * 0.5:
        used += thread(
            time_in(rng, DELTA_START, DELTA_END - 2 * HOUR), rng.choices(names, weights=shares)[0]
        )
    for th in recent[: max(1, len(recent) // 3)]:
        if used >= d_total:
            break
        used += _replies(rng, pop, sampler, th, spools[th.list], state, rng.randint(1, 3))

    counts = ctx.source("mail")
    base_n = delta_n = 0
    for name, _, _ in LISTS:
        with (
            (folder / f"{name}.mbox").open("wb") as out,
            (delta_folder / f"{name}-{DELTA_DATE}.mbox").open("wb") as dout,
        ):
            for month, records in spools[name].months():
                target = dout if month == DELTA_MONTH else out
                for _, _, data in records:
                    target.write(data)
                if month == DELTA_MONTH:
                    delta_n += len(records)
                else:
                    base_n += len(records)
    counts.base["mail_messages"] = base_n
    counts.delta["mail_messages"] = delta_n
    counts.new["mail_messages"] = delta_n
    counts.extra["lists"] = names


def _replies(rng, pop, sampler, th: _Thread, spool: MonthSpool, state: dict, n: int) -> int:
    for _ in range(n):
        t = time_in(rng, DELTA_START, DELTA_END)
        pid = (
            rng.choice(pop.staff)
            if rng.random() < 0.3
            else sampler.pick_other(rng, DELTA_MONTH, th.root)
        )
        state["seq"] += 1
        spool.add(t, state["seq"], _message(rng, pop, th, t, pid, state["seq"]))
        pop.tally.add(pid, MAIL)
    return n


def _encode_name(rng: random.Random, name: str) -> str:
    """A display name as mail clients write it: plain, RFC 2047, or raw 8-bit UTF-8."""
    if name.isascii():
        if any(c in name for c in "',.") or rng.random() < 0.3:
            return '"' + name.replace('"', "") + '"'
        return name
    roll = rng.random()
    if roll < 0.5:
        return Header(name, "utf-8").encode()  # =?utf-8?b?...?= / =?utf-8?q?...?=
    if roll < 0.85:
        return name  # 8-bit header (the parser decodes it as UTF-8)
    return " ".join(ascii_fold(part).capitalize() for part in name.split())


def _message(rng: random.Random, pop, th: _Thread, t: int, pid: int, seq: int) -> bytes:
    if pid < 0:
        bot = BOTS["ci"]
        name, address, tz = bot.name, bot.email, 0
    else:
        p = pop.people[pid]
        address = p.mail_alt if p.mail_alt and rng.random() < 0.25 else p.mail_from
        name = p.name if rng.random() < 0.93 else p.name.lower()
        tz = p.tz
    domain = address.rpartition("@")[2].lower()
    msg_id = (
        f"{rng.getrandbits(48):012x}.{seq}@{'mail.' + domain if rng.random() < 0.5 else domain}"
    )
    is_reply = bool(th.ids)
    subject = th.prefix + th.subject
    if is_reply:
        subject = rng.choice(("Re: ", "Re: ", "Re: ", "RE: ", "AW: ")) + subject
    headers = [
        f"From {address} {asctime(t)}",
        f"Return-Path: <{address}>",
        f"Received: from mx.{LISTS_DOMAIN} (mx.{LISTS_DOMAIN} [192.0.2.25])\n\tby {LISTS_DOMAIN} "
        f"(Postfix) with ESMTP id {rng.getrandbits(40):010X}\n\tfor <{th.list}@{LISTS_DOMAIN}>; {rfc822(t)}",
        f"From: {_encode_name(rng, name)} <{address}>",
        f"To: {th.list}@{LISTS_DOMAIN}",
        f"Subject: {subject}",
        f"Date: {rfc822(t, tz)}",
        f"Message-ID: <{msg_id}>",
    ]
    if is_reply:
        parent = th.ids[-1] if rng.random() < 0.7 else rng.choice(th.ids)
        refs = th.ids[:1] + ([parent] if parent != th.ids[0] else [])
        roll = rng.random()
        if roll < 0.92:
            headers.append(f"In-Reply-To: <{parent}>")
        if roll < 0.88 or (roll >= 0.92 and roll < 0.97):
            headers.append("References: " + "\n ".join(f"<{r}>" for r in refs))
    th.ids.append(msg_id)
    if len(th.ids) > 40:
        del th.ids[1:20]
    mailer = rng.choice(MAILERS)
    if mailer:
        headers.append(f"User-Agent: {mailer}")
    headers += [
        "MIME-Version: 1.0",
        f"List-Id: {words.PROJECT} {th.list.split('-')[1]} <{th.list}.{LISTS_DOMAIN}>",
        f"List-Post: <mailto:{th.list}@{LISTS_DOMAIN}>",
        "Precedence: list",
    ]
    text, snippet = words.body(
        rng, answer=is_reply, intent_p=0.03 if pid >= 0 and pop.people[pid].org >= 0 else 0.0
    )
    lines = [text]
    if snippet:
        lines += ["", *snippet.splitlines()]
    if rng.random() < 0.03:
        lines += ["", "From the logs it looks like the worker restarts first."]
    if is_reply and rng.random() < 0.5:
        lines += ["", "> " + words.sentences(rng, 1)[0]]
    lines += ["", "-- ", name]
    body = "\n".join(lines)
    roll = rng.random()
    if roll < 0.07:
        mime = [
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
        ]
        payload = quopri.encodestring(body.encode()).decode("ascii")
    elif roll < 0.09:
        mime = ["Content-Type: text/plain; charset=iso-8859-1", "Content-Transfer-Encoding: 8bit"]
        return _join(headers, mime, body.encode("latin-1", "replace"))
    elif roll < 0.17:
        boundary = f"=_alt_{seq:x}"
        mime = [f'Content-Type: multipart/alternative; boundary="{boundary}"']
        html = (
            "<html><body><p>" + words.html_escape(body).replace("\n", "<br>") + "</p></body></html>"
        )
        payload = (
            f"--{boundary}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
            f"{body}\n--{boundary}\nContent-Type: text/html; charset=utf-8\n"
            f"Content-Transfer-Encoding: 8bit\n\n{html}\n--{boundary}--"
        )
    elif roll < 0.2:
        boundary = f"=_mix_{seq:x}"
        mime = [f'Content-Type: multipart/mixed; boundary="{boundary}"']
        attachment = base64.encodebytes(words.code(rng).encode()).decode("ascii").rstrip("\n")
        payload = (
            f"--{boundary}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
            f'{body}\n--{boundary}\nContent-Type: text/x-log; name="worker.log"\n'
            'Content-Disposition: attachment; filename="worker.log"\n'
            f"Content-Transfer-Encoding: base64\n\n{attachment}\n--{boundary}--"
        )
    else:
        mime = [
            "Content-Type: text/plain; charset=utf-8; format=flowed",
            "Content-Transfer-Encoding: 8bit",
        ]
        payload = body
    return _join(headers, mime, payload.encode())


def _join(headers: list[str], mime: list[str], payload: bytes) -> bytes:
    head = "\n".join(headers + mime).encode()
    # mboxrd: body lines starting with "From " (or ">From ") get one more ">".
    lines = payload.split(b"\n")
    quoted = [b">" + line if line.lstrip(b">").startswith(b"From ") else line for line in lines]
    return head + b"\n\n" + b"\n".join(quoted) + b"\n\n"

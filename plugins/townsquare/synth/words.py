"""Invented text for the synthetic community: titles, questions, answers, code, intent.

Everything is about *Borealis*, a fictional open-source stream-processing engine (Rust,
with Python bindings). Phrases mix plain talk, code (backticks, blocks, stack traces,
file paths, flags: what ``conversation_code_rules`` looks for) and, now and then,
buying intent (support plans, SLAs, training, pricing: what ``intent_rules`` finds).
"""

from __future__ import annotations

import random
import string

PROJECT = "Borealis"

FEATURES = (
    "windowed joins", "the state store", "checkpointing", "exactly-once sinks", "the Kafka source",
    "the S3 sink", "watermarks", "backpressure", "the SQL planner", "the Python bindings",
    "session windows", "schema evolution", "the REST API", "the operator", "metrics export",
    "the Parquet writer", "late events", "rebalancing", "TLS", "the web UI", "hot reload",
    "the CLI", "UDFs", "the query cache", "compaction", "the Postgres CDC source",
)  # fmt: skip
NOUNS = (
    "pipeline", "job", "cluster", "worker", "topic", "partition", "window", "checkpoint",
    "savepoint", "state backend", "connector", "table", "stream", "query", "sink", "source",
    "deployment", "config", "schema", "snapshot", "operator", "task slot",
)  # fmt: skip
VERBS = (
    "configure", "deploy", "scale", "debug", "monitor", "upgrade", "tune", "restart",
    "migrate", "test", "benchmark", "secure", "back up", "partition", "replay",
)  # fmt: skip
PLATFORMS = (
    "Kubernetes", "ARM64", "Windows", "macOS", "Alpine", "Debian 12", "EKS", "a Raspberry Pi",
    "OpenShift", "Nomad", "bare metal", "Docker Compose",
)  # fmt: skip
ERRORS = (
    "checkpoint timeout", "OOM kill", "deadlock", "panic in the scheduler", "segfault",
    "duplicate rows", "a stuck watermark", "high latency", "lost messages", "a TLS handshake error",
    "a schema mismatch", "slow startup", "a memory leak", "a crash loop",
)  # fmt: skip
OPENERS = (
    "Hi all,", "Hello,", "Hi everyone!", "Hey folks,", "Good morning,", "", "", "",
)  # fmt: skip
THANKS = (
    "Thanks!", "Thanks in advance.", "Any pointers welcome.", "Cheers,", "Thank you!", "",
)  # fmt: skip
SENTENCES = (
    "We run {feature} on {platform} with about {n} events per second.",
    "After upgrading to {version} the {noun} shows {error} every few hours.",
    "Is there a way to {verb} {feature} without restarting the {noun}?",
    "I followed the docs for {feature} but the {noun} never becomes healthy.",
    "The latency goes from {n}ms to several seconds when {feature} is enabled.",
    "We would like to {verb} the {noun} per tenant; is that supported?",
    "Setting `{flag}` did not change anything for us.",
    "Our {noun} restarts with {error} when {feature} is under load.",
    "It works fine locally but not on {platform}.",
    "Happy to test a patch if someone points me to the right place.",
    "This looks related to {feature}; see the linked issue.",
    "We have been using {project} in production for {n} months now.",
    "Documentation for {feature} could mention the {noun} limits.",
    "Would a pull request that adds this to {feature} be welcome?",
)  # fmt: skip
ANSWERS = (
    "This is fixed in {version}; please upgrade and let us know.",
    "You can set `{flag}` on the {noun}; the default is too low for that load.",
    "Could you share the {noun} config and the full log?",
    "That is expected: {feature} needs a checkpoint before it can {verb} the {noun}.",
    "Thanks for the report, I opened an issue to track it.",
    "We changed how {feature} works in {version}, see the changelog.",
    "Try `borealis {cmd} --verbose` and post the output here.",
    "I had the same problem on {platform}; raising the {noun} memory fixed it.",
    "+1, we see this as well since {version}.",
    "Good idea. A pull request is very welcome, start in `{path}`.",
    "Closing this as answered, feel free to reopen.",
    "The docs page on {feature} explains the trade-offs.",
)  # fmt: skip
INTENT = (
    "Do you offer a support plan with an SLA? We are moving this to production.",
    "Is there commercial support or 24/7 on-call support available?",
    "What is the pricing for the enterprise edition? Our procurement needs a quote.",
    "We would like a training workshop for our team of {n} engineers.",
    "Can we hire someone for an architecture review of our deployment?",
    "We had a production outage last night; is there paid support for incidents like this?",
    "Our compliance team asks about SOC 2 and an on-prem license.",
)  # fmt: skip
FLAGS = (
    "--checkpoint-interval", "--max-parallelism", "--state-dir", "--watermark-delay",
    "--buffer-size", "--tls-ca", "--log-level", "--restart-strategy",
)  # fmt: skip
CMDS = ("run", "submit", "status", "savepoint", "cancel", "config check", "sql")
PATHS = (
    "src/runtime/scheduler.rs", "src/state/store.rs", "src/sql/planner.rs",
    "src/connectors/kafka.rs", "src/sinks/s3.rs", "python/borealis/client.py",
    "docs/operations/checkpoints.md", "deploy/helm/values.yaml", "Cargo.toml",
)  # fmt: skip
LABELS = (
    "bug", "enhancement", "question", "documentation", "good first issue", "performance",
    "area/sql", "area/state", "area/connectors", "area/python", "needs-triage", "help wanted",
)  # fmt: skip
TAGS = (
    "kafka", "kubernetes", "sql", "python", "performance", "checkpoints", "windows",
    "deployment", "release", "state", "s3", "security",
)  # fmt: skip

_TRACE = (
    "thread 'worker-{n}' panicked at src/runtime/scheduler.rs:{line}:9:\n"
    "called `Option::unwrap()` on a `None` value\n"
    "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace"
)
_PYTRACE = (
    "Traceback (most recent call last):\n"
    '  File "job.py", line {line}, in <module>\n'
    "    env.execute()\n"
    "borealis.errors.JobError: {error}"
)
_CONFIG = "state:\n  backend: rocksdb\n  dir: /var/lib/borealis\ncheckpoint:\n  interval: {n}s\n"


def version(rng: random.Random) -> str:
    r = rng.random
    return f"{int(r() * 4)}.{int(r() * 25)}.{int(r() * 10)}"


_FIELDS: dict[str, tuple[str, ...]] = {}
_MAKERS = {
    "feature": lambda rng: rng.choice(FEATURES),
    "noun": lambda rng: rng.choice(NOUNS),
    "verb": lambda rng: rng.choice(VERBS),
    "platform": lambda rng: rng.choice(PLATFORMS),
    "error": lambda rng: rng.choice(ERRORS),
    "version": version,
    "n": lambda rng: 2 + int(rng.random() * 399),
    "flag": lambda rng: rng.choice(FLAGS),
    "cmd": lambda rng: rng.choice(CMDS),
    "path": lambda rng: rng.choice(PATHS),
    "project": lambda rng: PROJECT,
    "line": lambda rng: 10 + int(rng.random() * 891),
}


def _fill(rng: random.Random, template: str) -> str:
    """``template`` with its fields filled (only the fields it uses are drawn)."""
    fields = _FIELDS.get(template)
    if fields is None:
        fields = _FIELDS[template] = tuple(
            dict.fromkeys(name for _, name, _, _ in string.Formatter().parse(template) if name)
        )
    return template.format(**{name: _MAKERS[name](rng) for name in fields})


def title(rng: random.Random, kind: str = "question") -> str:
    feature, noun = rng.choice(FEATURES), rng.choice(NOUNS)
    if kind == "bug":
        return rng.choice(
            (
                f"{noun.capitalize()} hits {rng.choice(ERRORS)} with {feature}",
                f"{feature.capitalize()} broken on {rng.choice(PLATFORMS)}",
                f"Regression in {version(rng)}: {rng.choice(ERRORS)}",
            )
        )
    if kind == "feature":
        return rng.choice(
            (
                f"Support {feature} for every {noun}",
                f"Add a flag to {rng.choice(VERBS)} the {noun}",
                f"Make {feature} configurable",
            )
        )
    if kind == "announcement":
        return rng.choice(
            (
                f"{PROJECT} {version(rng)} released",
                f"Community call: {feature}",
                f"Call for talks: {PROJECT} meetup",
                f"Security advisory for {feature}",
            )
        )
    if kind == "blog":
        return rng.choice(
            (
                f"Inside {feature}",
                f"How we made {feature} {rng.randint(2, 9)}x faster",
                f"{PROJECT} {version(rng)}: what is new",
                f"Running {PROJECT} on {rng.choice(PLATFORMS)}",
                f"A deep dive into the {noun}",
                f"Case study: {feature} at scale",
            )
        )
    return rng.choice(
        (
            f"How do I {rng.choice(VERBS)} {feature}?",
            f"{feature.capitalize()} and the {noun}",
            f"Best way to {rng.choice(VERBS)} a {noun} on {rng.choice(PLATFORMS)}?",
            f"Question about {feature}",
            f"{noun.capitalize()} keeps failing with {rng.choice(ERRORS)}",
        )
    )


def sentences(rng: random.Random, n: int, answer: bool = False) -> list[str]:
    pool = ANSWERS if answer else SENTENCES
    return [_fill(rng, rng.choice(pool)) for _ in range(n)]


def code(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.35:
        return _fill(rng, _TRACE)
    if kind < 0.6:
        return _fill(rng, _PYTRACE)
    return _fill(rng, _CONFIG)


def intent(rng: random.Random) -> str:
    return _fill(rng, rng.choice(INTENT))


def body(rng: random.Random, answer: bool = False, intent_p: float = 0.0) -> tuple[str, str | None]:
    """Plain text paragraphs and an optional code block (kept apart for each format)."""
    parts = sentences(rng, rng.randint(1, 4), answer)
    if intent_p and rng.random() < intent_p:
        parts.insert(0, intent(rng))
    opener = rng.choice(OPENERS)
    text = (opener + " " if opener else "") + " ".join(parts)
    snippet = code(rng) if rng.random() < (0.12 if answer else 0.25) else None
    return text, snippet


def slug(text: str) -> str:
    out = []
    for ch in text.lower():
        if ch.isascii() and ch.isalnum():
            out.append(ch)
        elif out and out[-1] != "-":
            out.append("-")
    return "".join(out).strip("-")[:80] or "topic"


def html_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def cooked(text: str, snippet: str | None) -> str:
    """Discourse-style HTML of a post."""
    html = f"<p>{html_escape(text)}</p>"
    if snippet:
        html += f'<pre><code class="lang-auto">{html_escape(snippet)}</code></pre>'
    return html


def markdown(text: str, snippet: str | None) -> str:
    """GitHub-style Markdown of a body."""
    return text + (f"\n\n```\n{snippet}\n```" if snippet else "")

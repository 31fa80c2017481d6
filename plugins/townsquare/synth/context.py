"""What the source generators share during one ``generate`` run."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from townsquare.synth.population import Population
from townsquare.synth.spool import MonthSpool
from townsquare.synth.timeline import phase

# The invented project every source talks about.
PROJECT = "Borealis"
GITHUB_ORG = "borealis-dev"
GITHUB_REPO = "borealis-dev/borealis"
SITE = "https://borealis.example"
BLOG_URL = "https://borealis.example/blog"
COMMUNITY_URL = "https://community.borealis.example"
FORUM_URL = "https://forum.borealis.example"
LISTS_DOMAIN = "lists.borealis.example"


@dataclass
class MergedPull:
    """A pull request merged on GitHub, for the git history (merge or squash commit)."""

    number: int
    title: str
    author: int  # pid, or -1 for dependabot
    merger: int  # pid
    opened: int
    merged: int
    squash: bool


@dataclass
class SourceCounts:
    """What the connectors should land for one source, in the base and the delta."""

    base: dict[str, int] = field(default_factory=dict)
    delta: dict[str, int] = field(default_factory=dict)
    """Rows the delta landing lands (re-landed rows included)."""
    new: dict[str, int] = field(default_factory=dict)
    """Keys the delta adds (rows of the delta that were not in the base)."""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    out: Path
    scale: float
    seed: int
    pop: Population
    tmp: Path
    say: Callable[[str], None]
    events: MonthSpool
    merged_pulls: list[MergedPull] = field(default_factory=list)
    counts: dict[str, SourceCounts] = field(default_factory=dict)
    event_seq: int = 0
    gharchive: dict[str, int] = field(
        default_factory=lambda: {"base": 0, "delta": 0, "base_other": 0, "delta_other": 0}
    )

    def source(self, key: str) -> SourceCounts:
        return self.counts.setdefault(key, SourceCounts())

    def event(self, t: int, event: dict[str, Any], kept: bool = True) -> None:
        """Spool a GH Archive event (without its id: ids are given in time order later).

        ``kept``: the event is one of the project's (``orgs=[borealis-dev]`` keeps it).
        """
        p = phase(t)
        if p == 2:
            return
        key = ("base", "delta")[p] + ("" if kept else "_other")
        self.gharchive[key] += 1
        self.event_seq += 1
        data = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
        self.events.add(t, self.event_seq, data)


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))

"""The synthetic community's clock: the base span, the delta day, monthly volumes, formats.

Times are whole seconds since the epoch (UTC) everywhere in the generator. The base
span is 2021-01-01 .. 2025-12-31 (60 months, index 0..59); the delta is the next day,
2026-01-01 (month index 60, one day long). ``phase(t)`` says where an event falls:
0 base, 1 delta, 2 later (not generated: the future of the community).
"""

from __future__ import annotations

import calendar
import hashlib
import math
import random
import time
from collections.abc import Sequence

BASE_START = calendar.timegm((2021, 1, 1, 0, 0, 0))
BASE_END = calendar.timegm((2025, 12, 31, 23, 59, 59))
DELTA_START = BASE_END + 1
DELTA_END = DELTA_START + 86_399
BASE_MONTHS = 60
DELTA_MONTH = 60
DELTA_DATE = "2026-01-01"
DELTA_SHARE = 0.01
"""The delta day carries about 1% of the base's volume per source."""

DAY = 86_400
HOUR = 3_600

# Seasonality by calendar month (summer and December are quieter) and activity by UTC
# hour (a community spread over Europe and the Americas, a little Asia).
_SEASON = (1.0, 1.05, 1.05, 1.0, 1.0, 0.95, 0.85, 0.8, 1.0, 1.05, 1.05, 0.8)
_HOUR_ACCEPT = (
    0.30, 0.25, 0.22, 0.22, 0.25, 0.35, 0.50, 0.70, 0.85, 0.95, 1.00, 1.00,
    0.95, 1.00, 1.00, 1.00, 0.95, 0.90, 0.80, 0.70, 0.60, 0.50, 0.42, 0.35,
)  # fmt: skip
_WEEKEND_ACCEPT = 0.45


def derive(seed: int, *parts: object) -> int:
    """A seed for one part of the generator: independent of the others, stable across runs."""
    text = "\x1f".join([str(seed), *map(str, parts)]).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big")


def rng_for(seed: int, *parts: object) -> random.Random:
    return random.Random(derive(seed, *parts))


def month_start(m: int) -> int:
    year, month = 2021 + m // 12, m % 12 + 1
    return calendar.timegm((year, month, 1, 0, 0, 0))


def month_end(m: int) -> int:
    """Last second of month ``m`` (the delta "month" is the delta day)."""
    if m >= DELTA_MONTH:
        return DELTA_END
    return month_start(m + 1) - 1


def month_of(t: int) -> int:
    """Month index of ``t``: 0..59 in the base span, 60 for the delta day and after."""
    if t > BASE_END:
        return DELTA_MONTH
    g = time.gmtime(max(t, BASE_START))
    return (g.tm_year - 2021) * 12 + g.tm_mon - 1


def phase(t: int) -> int:
    """0: base, 1: the delta day, 2: after it (dropped)."""
    if t <= BASE_END:
        return 0
    return 1 if t <= DELTA_END else 2


def allocate(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainder: exact, deterministic)."""
    if total <= 0 or not weights:
        return [0] * len(weights)
    s = float(sum(weights))
    raw = [total * w / s for w in weights]
    counts = [int(x) for x in raw]
    left = total - sum(counts)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - counts[i]), i))
    for i in order[:left]:
        counts[i] += 1
    return counts


def growth(m: int) -> float:
    """Relative activity in base month ``m``: the community grows about 3x over the span."""
    return (0.45 + 1.1 * m / (BASE_MONTHS - 1)) * _SEASON[m % 12]


def monthly_counts(total: int) -> list[int]:
    """``total`` events spread over the 60 base months following the growth curve."""
    return allocate(total, [growth(m) for m in range(BASE_MONTHS)])


def scaled(base: float, scale: float, minimum: int = 1) -> int:
    return max(minimum, round(base * scale))


def delta_count(base_total: int, share: float = DELTA_SHARE) -> int:
    return max(1, round(base_total * share)) if base_total > 0 else 0


def time_in(rng: random.Random, start: int, end: int) -> int:
    """A time in ``[start, end]``, weekdays and working hours (UTC) more likely."""
    span = end - start + 1
    if span <= 0:
        return start
    while True:
        t = start + int(rng.random() * span)
        accept = _HOUR_ACCEPT[(t // HOUR) % 24]
        if (t // DAY + 3) % 7 >= 5:  # 1970-01-01 was a Thursday
            accept *= _WEEKEND_ACCEPT
        if rng.random() < accept:
            return t


def times_in_month(rng: random.Random, m: int, n: int) -> list[int]:
    start, end = month_start(m), month_end(m)
    return sorted(time_in(rng, start, end) for _ in range(n))


def delay(rng: random.Random, median: float, sigma: float = 1.2, minimum: int = 30) -> int:
    """A log-normal delay in seconds (most answers come fast, a few take weeks)."""
    return max(minimum, int(median * math.exp(sigma * rng.gauss(0.0, 1.0))))


class TimeIds:
    """Unique ids that grow with time, like GitHub's: ``start + seconds * per_second + k``."""

    def __init__(self, start: int, per_second: int) -> None:
        self.start = start
        self.per_second = per_second
        self._used: dict[int, int] = {}

    def at(self, t: int) -> int:
        second = t - BASE_START
        k = self._used.get(second, 0)
        while k >= self.per_second:  # that second is full: take the next one
            second += 1
            k = self._used.get(second, 0)
        self._used[second] = k + 1
        return self.start + second * self.per_second + k


# -- formats -------------------------------------------------------------------------

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def iso_z(t: int) -> str:
    """``2025-03-04T10:00:00Z`` (GitHub, GH Archive)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def iso_ms(t: int) -> str:
    """``2025-03-04T10:00:00.000Z`` (Discourse)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))


def wp_date(t: int) -> str:
    """``2025-03-04 10:00:00`` (WordPress)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))


def iso_date(t: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(t))


def rfc822(t: int, offset_minutes: int = 0) -> str:
    """``Tue, 4 Mar 2025 11:00:00 +0100``: mail ``Date`` headers and RSS ``pubDate``."""
    g = time.gmtime(t + offset_minutes * 60)
    sign = "+" if offset_minutes >= 0 else "-"
    hh, mm = divmod(abs(offset_minutes), 60)
    return (
        f"{_DAYS[g.tm_wday]}, {g.tm_mday} {_MONTHS[g.tm_mon - 1]} {g.tm_year} "
        f"{g.tm_hour:02d}:{g.tm_min:02d}:{g.tm_sec:02d} {sign}{hh:02d}{mm:02d}"
    )


def asctime(t: int) -> str:
    """``Tue Mar  4 10:00:00 2025`` (UTC): the date of an mbox ``From `` line."""
    g = time.gmtime(t)
    return (
        f"{_DAYS[g.tm_wday]} {_MONTHS[g.tm_mon - 1]} {g.tm_mday:2d} "
        f"{g.tm_hour:02d}:{g.tm_min:02d}:{g.tm_sec:02d} {g.tm_year}"
    )


def tz_suffix(offset_minutes: int) -> str:
    sign = "+" if offset_minutes >= 0 else "-"
    hh, mm = divmod(abs(offset_minutes), 60)
    return f"{sign}{hh:02d}{mm:02d}"

"""Source health: per feed / producer source, what was fetched when, and ops incidents.

Pure bookkeeping (no I/O): the feed loop reports each fetch (``fetched``/``failed``) and each
new item; :meth:`SourceHealth.evaluate` opens and closes *incidents* — each fires exactly
once when it starts and once when it recovers:

    failing      ``fail_after`` fetches in a row failed (the last error is kept)
    zero_items   a fetch that succeeded parsed 0 items where it used to parse some
                 (a format change or an emptied feed); not while failing
    silent       no new item for ``silent_factor`` x the source's usual gap between new items
                 (median of recent gaps; needs ``min_gaps``); not while failing or empty
    low_volume   yesterday's new items below ``low_fraction`` of the daily baseline
                 (mean of up to 7 earlier days; needs 3 days of history)

Which kinds a source raises depends on who watches it (``SourceStats.alerts``): the feed loop
all four; a producer reading files only the fetch-side ``failing``/``zero_items``; the
worker, which sees every record on ``articles.raw``, only ``silent``/``low_volume``. A silent
or low-volume incident starts at a time taken from the data (the last new item, the day), so
every worker following the same topic opens it with the same ``since`` and the same alert id.

Label cardinality is bounded: past ``max_sources`` distinct names, a new name is counted in
the one row ``other`` (no incident of ``other`` is alerted: it mixes unrelated sources).
"""

from __future__ import annotations

import bisect
import itertools
import logging
import statistics
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "ALL_KINDS",
    "ARRIVAL_KINDS",
    "FETCH_KINDS",
    "OTHER",
    "HealthPolicy",
    "Incident",
    "SourceHealth",
    "SourceStats",
]

log = logging.getLogger(__name__)

IncidentKind = Literal["failing", "zero_items", "silent", "low_volume"]
ALL_KINDS: frozenset[str] = frozenset({"failing", "zero_items", "silent", "low_volume"})
FETCH_KINDS: frozenset[str] = frozenset({"failing", "zero_items"})
ARRIVAL_KINDS: frozenset[str] = frozenset({"silent", "low_volume"})
#: The row that counts every source past ``max_sources``.
OTHER = "other"
_DAY = 86_400


@dataclass(frozen=True)
class HealthPolicy:
    """Thresholds of the ops incidents."""

    fail_after: int = 3
    silent_factor: float = 3.0
    min_gaps: int = 3
    min_silent_s: float = 0.0
    low_fraction: float = 0.3
    max_sources: int = 100


@dataclass(frozen=True)
class Incident:
    """An incident opening (``recovered=False``) or closing (``recovered=True``)."""

    source: str
    kind: IncidentKind
    recovered: bool
    at: float
    since: float
    detail: str

    @property
    def title(self) -> str:
        """One line for the ops alert."""
        what = {
            "failing": "is failing",
            "zero_items": "returns zero items",
            "silent": "has gone silent",
            "low_volume": "has a low daily volume",
        }[self.kind]
        if self.recovered:
            was = {
                "failing": "was failing",
                "zero_items": "returned zero items",
                "silent": "was silent",
                "low_volume": "had a low daily volume",
            }[self.kind]
            return f"Recovered: source {self.source} {was} since {_utc(self.since)}"
        return f"Source {self.source} {what}: {self.detail}"


def _utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(epoch))


@dataclass
class SourceStats:
    """What is known about one source."""

    name: str
    kind: str = "feed"
    last_fetch: float | None = None
    last_success: float | None = None
    last_new_item: float | None = None
    failures: int = 0
    last_error: str | None = None
    items_last_fetch: int | None = None
    fetches: int = 0
    fetches_with_items: int = 0
    new_items: int = 0
    new_times: deque[float] = field(default_factory=lambda: deque(maxlen=50))
    daily: dict[int, int] = field(default_factory=dict)
    open: dict[str, float] = field(default_factory=dict)
    alerts: frozenset[str] = ALL_KINDS

    def usual_gap(self, min_gaps: int) -> float | None:
        """Median seconds between new items over the recent history, or None if too little."""
        times = list(self.new_times)
        gaps = [b - a for a, b in itertools.pairwise(times) if b > a]
        return statistics.median(gaps) if len(gaps) >= min_gaps else None

    def baseline(self, today: int) -> float | None:
        """Mean new items per day over up to 7 days before yesterday (3 needed)."""
        if not self.daily:
            return None
        days = [self.daily.get(d, 0) for d in range(today - 8, today - 1) if d >= min(self.daily)]
        return statistics.mean(days) if len(days) >= 3 and any(days) else None

    def status(self) -> str:
        """healthy, failing, format changed (zero items), silent or low volume."""
        if "failing" in self.open or self.failures:
            return "failing"
        if "zero_items" in self.open:
            return "format changed"
        if "silent" in self.open:
            return "silent"
        if "low_volume" in self.open:
            return "low volume"
        return "healthy"

    def snapshot(self, now: float, min_gaps: int) -> dict[str, Any]:
        """A JSON-ready row for ``newswatch sources``."""
        today = int(now // _DAY)
        return {
            "source": self.name,
            "kind": self.kind,
            "status": self.status(),
            "last_success": self.last_success,
            "last_new_item": self.last_new_item,
            "consecutive_failures": self.failures,
            "last_error": self.last_error,
            "items_last_fetch": self.items_last_fetch,
            "items_today": self.daily.get(today, 0),
            "baseline_per_day": self.baseline(today),
            "usual_gap_s": self.usual_gap(min_gaps),
            "new_items": self.new_items,
            "fetches": self.fetches,
            "fetches_with_items": self.fetches_with_items,
            "incidents": sorted(self.open),
            "incident_since": dict(sorted(self.open.items())),
            "incident_kinds": sorted(self.alerts),
        }


class SourceHealth:
    """Health of every source; ``evaluate`` returns the incidents that opened or closed."""

    def __init__(
        self, policy: HealthPolicy | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.policy = policy or HealthPolicy()
        self.clock = clock
        self.sources: dict[str, SourceStats] = {}
        #: The incident kinds new sources raise (see the module docstring).
        self.alerts: frozenset[str] = ALL_KINDS

    def key(self, name: str) -> str:
        """``name``, or ``other`` once ``max_sources`` distinct names are tracked."""
        if name in self.sources or len(self.sources) < self.policy.max_sources:
            return name
        if OTHER not in self.sources:
            log.warning(
                "source health: more than %d sources; %r and later ones are counted as %r",
                self.policy.max_sources,
                name,
                OTHER,
            )
        return OTHER

    def stats(self, name: str, kind: str) -> SourceStats:
        """The row of ``name`` (``other`` past the cap), created on first use."""
        name = self.key(name)
        if name not in self.sources:
            alerts = frozenset() if name == OTHER else self.alerts
            self.sources[name] = SourceStats(name, kind, alerts=alerts)
        return self.sources[name]

    def fetched(self, name: str, parsed: int | None, new: int, *, kind: str = "feed") -> None:
        """A fetch succeeded: ``parsed`` items (None: not modified), ``new`` of them new."""
        now = self.clock()
        stats = self.stats(name, kind)
        stats.last_fetch = stats.last_success = now
        stats.failures = 0
        stats.last_error = None
        stats.fetches += 1
        if parsed is not None:
            stats.items_last_fetch = parsed
            if parsed:
                stats.fetches_with_items += 1
        self.new_items(name, new, kind=kind, now=now)

    def new_items(
        self, name: str, count: int, *, kind: str = "producer", now: float | None = None
    ) -> None:
        """``count`` new items arrived from ``name`` (a feed or a producer ``source``)."""
        if count <= 0:
            self.stats(name, kind)
            return
        now = self.clock() if now is None else now
        stats = self.stats(name, kind)
        stats.last_new_item = max(now, stats.last_new_item or now)
        stats.new_items += count
        if not stats.new_times or now >= stats.new_times[-1]:
            stats.new_times.append(now)
        else:  # records of several partitions arrive interleaved: keep the times sorted
            times = list(stats.new_times)
            bisect.insort(times, now)
            stats.new_times = deque(times[-50:], maxlen=50)
        day = int(now // _DAY)
        stats.daily[day] = stats.daily.get(day, 0) + count
        for old in [d for d in stats.daily if d < day - 15]:
            del stats.daily[old]

    def failed(self, name: str, error: str, *, kind: str = "feed") -> None:
        """A fetch failed with ``error``."""
        stats = self.stats(name, kind)
        stats.last_fetch = self.clock()
        stats.failures += 1
        stats.fetches += 1
        stats.last_error = error[:500]

    def evaluate(self) -> list[Incident]:
        """Open and close incidents; each is reported once when it opens and once when it ends."""
        now = self.clock()
        out: list[Incident] = []
        for stats in self.sources.values():
            for kind, active, detail, since in self._conditions(stats, now):
                if kind not in stats.alerts:
                    continue
                opened = stats.open.get(kind)
                if active and opened is None:
                    stats.open[kind] = since
                    out.append(Incident(stats.name, kind, False, now, since, detail))
                elif not active and opened is not None:
                    del stats.open[kind]
                    out.append(Incident(stats.name, kind, True, now, opened, detail))
        return out

    def _conditions(
        self, stats: SourceStats, now: float
    ) -> list[tuple[IncidentKind, bool, str, float]]:
        p = self.policy
        failing = stats.failures >= p.fail_after or ("failing" in stats.open and stats.failures > 0)
        empty = (not failing and stats.items_last_fetch == 0 and stats.fetches_with_items > 0) or (
            "zero_items" in stats.open and stats.items_last_fetch == 0
        )
        gap = stats.usual_gap(p.min_gaps)
        silent = False
        detail = ""
        if gap is not None and stats.last_new_item is not None and not failing and not empty:
            limit = max(p.silent_factor * gap, p.min_silent_s)
            silent = now - stats.last_new_item > limit
            detail = f"no new item for {now - stats.last_new_item:.0f}s (usual gap {gap:.0f}s)"
        today = int(now // _DAY)
        base = stats.baseline(today) if stats.daily else None
        yesterday = stats.daily.get(today - 1, 0)
        low = base is not None and yesterday < p.low_fraction * base
        volume = f"{yesterday} new items yesterday, baseline {base or 0:.1f}/day"
        return [
            (
                "failing",
                failing,
                f"{stats.failures} failures in a row; last error: {stats.last_error}",
                now,
            ),
            ("zero_items", bool(empty), "the last fetch parsed 0 items", now),
            ("silent", silent, detail, stats.last_new_item or now),
            ("low_volume", low, volume, float((today - 1) * _DAY)),
        ]

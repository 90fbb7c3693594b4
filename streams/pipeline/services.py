"""The seams of the pipeline: small Protocols, the null metrics sink and ``PipelineServices``.

The stages (stages.py) see only these types; ``build_worker`` (root.py) fills them with the
real parts, tests and tools with doubles (``streams.testing.MemoryOutbox``, ``NullMetrics``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from alerts.service import AlertDecider, AlertSender
from schemas.records import EnrichedArticle, Match, RawArticle
from schemas.topics import Topics
from streams.watchlist.compile import CompiledWatchlist

__all__ = [
    "Enricher",
    "MatchFn",
    "MetricsSink",
    "NullMetrics",
    "Outbox",
    "PipelineServices",
    "WatchlistSource",
]


class Outbox(Protocol):
    """Where stages send records; ``flush`` waits until all sent records are acknowledged."""

    async def send(self, topic: str, key: bytes | None, value: bytes) -> None: ...

    async def flush(self) -> None: ...


class Enricher(Protocol):
    """Enriches a batch off the event loop; a failing article yields its error in its slot."""

    async def __call__(
        self, articles: Sequence[RawArticle]
    ) -> Sequence[EnrichedArticle | Exception]: ...


class WatchlistSource(Protocol):
    """Holds the active compiled watch-list (swapped atomically on reload)."""

    @property
    def current(self) -> CompiledWatchlist | None: ...


MatchFn = Callable[[CompiledWatchlist, EnrichedArticle], list[Match]]


class MetricsSink(Protocol):
    """What the stages report; ``streams.pipeline.metrics.Metrics`` or ``NullMetrics``."""

    def article_enriched(
        self, seconds: float, language: str = "und", confidence: float | None = None
    ) -> None: ...

    def rule_matched(self, rule: str, count: int = 1) -> None: ...

    def article_partial(self, source: str | None, reason: str) -> None: ...

    def dead_lettered(self, topic: str, reason: str = "error") -> None: ...

    def alert_sent(self, channel: str) -> None: ...

    def alert_grouped(self, channel: str) -> None: ...

    def alert_throttled(self, channel: str) -> None: ...

    def alert_failed(self, channel: str) -> None: ...

    def alert_stale(self, channel: str) -> None: ...

    def alert_silenced(self, channel: str) -> None: ...

    def alert_reconciled(self, channel: str) -> None: ...


class NullMetrics:
    """A metrics sink that records nothing (tools, tests, benchmarks)."""

    def article_enriched(
        self, seconds: float, language: str = "und", confidence: float | None = None
    ) -> None:
        """Ignore."""

    def rule_matched(self, rule: str, count: int = 1) -> None:
        """Ignore."""

    def article_partial(self, source: str | None, reason: str) -> None:
        """Ignore."""

    def dead_lettered(self, topic: str, reason: str = "error") -> None:
        """Ignore."""

    def alert_sent(self, channel: str) -> None:
        """Ignore."""

    def alert_grouped(self, channel: str) -> None:
        """Ignore."""

    def alert_throttled(self, channel: str) -> None:
        """Ignore."""

    def alert_failed(self, channel: str) -> None:
        """Ignore."""

    def alert_stale(self, channel: str) -> None:
        """Ignore."""

    def alert_silenced(self, channel: str) -> None:
        """Ignore."""

    def alert_reconciled(self, channel: str) -> None:
        """Ignore."""


@dataclass
class PipelineServices:
    """Everything the stages use, fully built (nothing is filled in later)."""

    topics: Topics
    outbox: Outbox
    enrich_batch: Enricher
    watchlist: WatchlistSource
    match: MatchFn
    decider: AlertDecider
    sender: AlertSender
    metrics: MetricsSink
    max_record_bytes: int
    #: partitions of the lane topics (and of the sent-state changelog): which alert ids a
    #: deliver event's partition owns, for expiring sent records on the right partition
    partitions: int = 1
    counters: dict[str, int] = field(default_factory=dict)
    on_processed: Callable[[str, str], None] | None = None  # (stage, article id) for demo/bench

    def count(self, name: str, n: int = 1) -> None:
        """Bump an internal counter (what the demo and benchmarks watch)."""
        self.counters[name] = self.counters.get(name, 0) + n

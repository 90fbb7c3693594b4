"""The backtest engine: select articles, enrich each ONCE, match it against NEW and BASELINE.

Pure (no Kafka, no asyncio): the runner feeds it batches of Kafka records
(``process_records``) or of articles read from files (``process_articles``), from a worker
thread, one batch at a time. Selection, in this order: the time range ``[since, until)`` on
the record time, a valid ``RawArticle`` (else counted and listed with topic/partition/offset),
not a ``replayed: true`` copy, the first record of each article id. The state it keeps is
what the report needs: per rule and side the matching article ids with evidence, per-day
counts, and title/source/time of the articles that matched or are labelled.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from schemas.records import EnrichedArticle, Match, RawArticle
from streams.errors import RecordError
from streams.kafka.codec import decode_record
from streams.tools.replay._labels import Labels
from streams.tools.replay._pair import PairMatcher
from streams.tools.replay._types import Origin, ReadRecord
from streams.tools.report.model import EvidenceBrief, ReplayStats

__all__ = ["MAX_PROBLEMS", "SNIPPET_CHARS", "ArticleInfo", "Backtest", "EnrichFn", "MatchFn"]

EnrichFn = Callable[[list[RawArticle]], Sequence[EnrichedArticle | Exception]]
MatchFn = Callable[[Any, EnrichedArticle], list[Match]]

MAX_PROBLEMS = 50
SNIPPET_CHARS = 300
MAX_EVIDENCE = 3
NEW, BASELINE = "new", "baseline"


@dataclass(frozen=True, slots=True)
class ArticleInfo:
    """What the report lists about an article."""

    id: str
    title: str
    source: str | None
    url: str | None
    timestamp_ms: int | None
    partition: int | None
    offset: int | None


def article_time_ms(article: RawArticle) -> int | None:
    """An article's own time for offline replay: ``published_at``, else ``ingested_at``."""
    if article.published_at is not None:
        moment = article.published_at
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp() * 1000)
    if article.ingested_at is not None:
        return int(article.ingested_at * 1000)
    return None


#: The timeline bucket of matches whose article has no date (no timestamp, no published_at).
UNDATED = "undated"


def day_of(timestamp_ms: int | None) -> str | None:
    """UTC day ``YYYY-MM-DD`` of a millisecond timestamp."""
    if timestamp_ms is None:
        return None
    return datetime.fromtimestamp(timestamp_ms / 1000.0, tz=UTC).date().isoformat()


def _cut(text: str, limit: int = SNIPPET_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def evidence_briefs(match: Match) -> tuple[EvidenceBrief, ...]:
    """The first pieces of evidence of a match, snippets cut to ``SNIPPET_CHARS``."""
    return tuple(
        EvidenceBrief(
            condition=ev.condition,
            term=_cut(ev.term, 200),
            surface=_cut(ev.surface, 200),
            snippet=_cut(ev.snippet),
        )
        for ev in match.evidence[:MAX_EVIDENCE]
    )


class Backtest:
    """Accumulates one backtest; ``new is None`` means select only (``--republish`` alone)."""

    def __init__(
        self,
        *,
        new: Any | None,
        baseline: Any | None,
        enrich: EnrichFn | None,
        match: MatchFn | None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        labels: Labels | None = None,
        topic: str | None = None,
        max_record_bytes: int = 1_000_000,
    ) -> None:
        self.new = new
        self.baseline = baseline
        self.enrich = enrich
        self.match = match
        self.since_ms = since_ms
        self.until_ms = until_ms
        self.labels = labels
        self.labelled_ids = labels.ids if labels is not None else frozenset()
        self.topic = topic
        self.max_record_bytes = max_record_bytes
        self.stats = ReplayStats()
        self.seen: set[str] = set()
        self.failed: set[str] = set()
        self.info: dict[str, ArticleInfo] = {}
        #: side -> rule id -> article id -> evidence
        self.hits: dict[str, dict[str, dict[str, tuple[EvidenceBrief, ...]]]] = {
            NEW: {},
            BASELINE: {},
        }
        #: (side, rule id, day) -> matches
        self.per_day: Counter[tuple[str, str, str]] = Counter()
        self._pair: Callable[[EnrichedArticle], tuple[list[Match], list[Match]]] | None = None
        if new is not None and baseline is not None and match is not None:
            self._pair = PairMatcher(new, baseline, match)
        self.article_days: Counter[str] = Counter()

    # ---------------------------------------------------------------- selection

    def _problem(self, text: str) -> None:
        if len(self.stats.problems) < MAX_PROBLEMS:
            self.stats.problems.append(text)

    def _in_range(self, timestamp_ms: int | None) -> bool:
        if self.since_ms is None and self.until_ms is None:
            return True
        if timestamp_ms is None:
            self.stats.no_timestamp += 1
            return False
        if (self.since_ms is not None and timestamp_ms < self.since_ms) or (
            self.until_ms is not None and timestamp_ms >= self.until_ms
        ):
            self.stats.out_of_range += 1
            return False
        return True

    def _accept(self, article: RawArticle) -> bool:
        if article.replayed:
            self.stats.replayed_skipped += 1
            return False
        if article.id in self.seen:
            self.stats.duplicates += 1
            return False
        self.seen.add(article.id)
        return True

    def select_records(self, records: Sequence[ReadRecord]) -> list[tuple[RawArticle, Origin]]:
        """Kafka records in range, decoded, first copy of each id; bad ones are counted."""
        selected = []
        for rec in records:
            self.stats.records_read += 1
            if not self._in_range(rec.timestamp_ms):
                continue
            self.stats.in_range += 1
            try:
                article = decode_record(
                    rec.value,
                    RawArticle,
                    max_bytes=self.max_record_bytes,
                    topic=self.topic,
                    partition=rec.partition,
                    offset=rec.offset,
                    key=rec.key,
                )
            except RecordError as exc:
                self.stats.invalid += 1
                self._problem(f"{self.topic}[{rec.partition}]@{rec.offset}: {exc.reason}")
                continue
            if self._accept(article):
                selected.append((article, Origin(rec.timestamp_ms, rec.partition, rec.offset)))
        return selected

    def select_articles(self, articles: Sequence[RawArticle]) -> list[tuple[RawArticle, Origin]]:
        """Articles read from files, in range by their own time, first copy of each id."""
        selected = []
        for article in articles:
            self.stats.records_read += 1
            ts = article_time_ms(article)
            if not self._in_range(ts):
                continue
            self.stats.in_range += 1
            if self._accept(article):
                selected.append((article, Origin(ts)))
        return selected

    # ---------------------------------------------------------------- analysis

    def analyse(self, selected: Sequence[tuple[RawArticle, Origin]]) -> None:
        """Enrich the selected articles once; match each against both lists in one pass."""
        if not selected:
            return
        if self._pair is None or self.enrich is None:
            self.stats.articles += len(selected)
            return
        articles = [a for a, _ in selected]
        results = self._enrich(articles)
        for (article, origin), result in zip(selected, results, strict=True):
            if isinstance(result, Exception):
                self.stats.enrich_failed += 1
                self.failed.add(article.id)
                self._problem(f"article {article.id!r}: enrichment failed: {result}")
                continue
            self.stats.articles += 1
            day = day_of(origin.timestamp_ms)
            if day is not None:
                self.article_days[day] += 1
            matched = False
            for side, matches in zip((NEW, BASELINE), self._pair(result), strict=True):
                for m in matches:
                    matched = True
                    self.hits[side].setdefault(m.rule_id, {})[article.id] = evidence_briefs(m)
                    # articles without a date are counted too, in their own bucket
                    self.per_day[(side, m.rule_id, day or UNDATED)] += 1
            if matched or article.id in self.labelled_ids:
                self.info[article.id] = ArticleInfo(
                    article.id,
                    article.title,
                    article.source,
                    article.url,
                    origin.timestamp_ms,
                    origin.partition,
                    origin.offset,
                )

    def _enrich(self, articles: list[RawArticle]) -> list[EnrichedArticle | Exception]:
        assert self.enrich is not None
        try:
            return list(self.enrich(articles))
        except Exception as exc:  # a batch-level failure: isolate the culprit(s)
            if len(articles) == 1:
                return [exc]
        out: list[EnrichedArticle | Exception] = []
        for article in articles:
            try:
                out.extend(self.enrich([article]))
            except Exception as exc:
                out.append(exc)
        return out

    def analysed(self, article_id: str) -> bool:
        """True when the article was selected and enriched (so labels about it count)."""
        return article_id in self.seen and article_id not in self.failed

    def process_records(self, records: Sequence[ReadRecord]) -> list[RawArticle]:
        """Select and analyse a batch of Kafka records; returns the selected articles."""
        selected = self.select_records(records)
        self.analyse(selected)
        return [a for a, _ in selected]

    def process_articles(self, articles: Sequence[RawArticle]) -> list[RawArticle]:
        """Select and analyse a batch of articles read from files."""
        selected = self.select_articles(articles)
        self.analyse(selected)
        return [a for a, _ in selected]

"""The two pipeline stages the agents call, with every message its own error boundary.

No Faust import: a stage gets neutral ``InMessage`` views of Kafka records and an ``Outbox``
to send to, so the same code runs under the Faust agents, in tests and in benchmarks.

    enrich_and_match   articles.raw  → articles.enriched (+ articles.matches, one per rule hit)
                                      → articles.raw.dlq for records that fail
    alert              articles.matches (keyed by rule id) → policy → alerts → channels
                                      → alerts.dlq (via the deliverer) for failed deliveries
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from schemas.records import DeadLetter, EnrichedArticle, RawArticle
from streams.errors import RecordError
from streams.kafka.codec import dead_letter_for, decode_record, dumps

__all__ = ["InMessage", "Outbox", "PipelineServices", "Topics", "alert", "enrich_and_match"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InMessage:
    """A Kafka record as the stages see it."""

    value: bytes | None
    key: bytes | None
    topic: str
    partition: int
    offset: int
    timestamp: float = 0.0


class Outbox(Protocol):
    """Where stages send records; ``flush`` waits until all sent records are acknowledged."""

    async def send(self, topic: str, key: bytes | None, value: bytes) -> None: ...

    async def flush(self) -> None: ...


@dataclass(frozen=True)
class Topics:
    """Configured topic names."""

    raw: str = "articles.raw"
    enriched: str = "articles.enriched"
    matches: str = "articles.matches"
    alerts: str = "alerts"
    raw_dlq: str = "articles.raw.dlq"
    alerts_dlq: str = "alerts.dlq"


@dataclass
class PipelineServices:
    """What the stages need; built once by ``create_app`` and passed down."""

    topics: Topics
    outbox: Outbox
    enrich_batch: Callable[[Sequence[RawArticle]], Awaitable[Sequence[EnrichedArticle | Exception]]]
    watchlist: Any  # has .current (CompiledWatchlist)
    match: Callable[[Any, EnrichedArticle], list[Any]]
    policy: Any = None  # alerts.policy.AlertPolicy, set when the table exists
    deliverer: Any = None  # alerts.deliver.Deliverer
    metrics: Any = None  # streams.pipeline.metrics.Metrics or None
    max_record_bytes: int = 1_000_000
    test_channel: str = "file:replayed"  # replayed articles alert here, never in production
    counters: dict[str, int] = field(default_factory=dict)
    on_processed: Callable[[str, str], None] | None = None  # (stage, article id) for demo/bench

    def count(self, name: str, n: int = 1) -> None:
        """Bump an internal counter (mirrored to metrics when present)."""
        self.counters[name] = self.counters.get(name, 0) + n


async def _dead_letter(
    services: PipelineServices, dlq_topic: str, error: Exception, msg: InMessage
) -> None:
    letter = DeadLetter.model_validate(
        dead_letter_for(
            error,
            msg.value,
            source_topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            key=msg.key,
        )
    )
    await services.outbox.send(dlq_topic, msg.key, dumps(letter))
    services.count(f"dlq:{dlq_topic}")
    if services.metrics is not None:
        services.metrics.dead_lettered(dlq_topic, letter.error)
    log.warning("dead-lettered %s[%s]@%s: %s", msg.topic, msg.partition, msg.offset, letter.reason)


async def enrich_and_match(messages: Sequence[InMessage], services: PipelineServices) -> None:
    """Decode, enrich (batched, off the loop), match and send; bad records go to the DLQ."""
    topics = services.topics
    decoded: list[tuple[InMessage, RawArticle]] = []
    for msg in messages:
        try:
            article = decode_record(
                msg.value,
                RawArticle,
                max_bytes=services.max_record_bytes,
                topic=msg.topic,
                partition=msg.partition,
                offset=msg.offset,
                key=msg.key,
            )
        except RecordError as exc:
            await _dead_letter(services, topics.raw_dlq, exc, msg)
            continue
        decoded.append((msg, article))
    if not decoded:
        await services.outbox.flush()
        return
    enriched = await _enrich_isolated(decoded, services)
    compiled = services.watchlist.current
    ok = [result for _, _, result in enriched if not isinstance(result, Exception)]
    # Matching costs milliseconds per article: off the event loop, like enrichment.
    failures = iter(await asyncio.to_thread(_match_all, services.match, compiled, ok))
    for msg, article, result in enriched:
        if isinstance(result, Exception):
            await _dead_letter(services, topics.raw_dlq, result, msg)
            continue
        failure = next(failures)
        if failure is not None:  # a matcher bug must not kill the worker
            await _dead_letter(services, topics.raw_dlq, failure, msg)
            continue
        key = article.id.encode("utf-8")
        await services.outbox.send(topics.enriched, key, dumps(result))
        for match in result.matches:
            event = result.model_copy(update={"matches": [match]})
            await services.outbox.send(topics.matches, match.rule_id.encode("utf-8"), dumps(event))
            if services.metrics is not None:
                services.metrics.rule_matched(match.rule_id)
        services.count("enriched")
        services.count("matches", len(result.matches))
        if services.metrics is not None:
            services.metrics.article_enriched(result.timings_ms.get("total", 0.0) / 1000)
        if services.on_processed is not None:
            services.on_processed("enriched", article.id)
    await services.outbox.flush()


def _match_all(
    match: Callable[[Any, EnrichedArticle], list[Any]],
    compiled: Any,
    articles: Sequence[EnrichedArticle],
) -> list[Exception | None]:
    """Match articles in place (matches, version, ``timings_ms["match"]``); errors or None."""
    out: list[Exception | None] = []
    for result in articles:
        try:
            t0 = time.perf_counter()
            matches = match(compiled, result)
            result.timings_ms["match"] = (time.perf_counter() - t0) * 1000
            result.matches = matches
            result.watchlist_version = compiled.version
            out.append(None)
        except Exception as exc:
            log.exception("matching failed for article %s", result.article.id)
            out.append(exc)
    return out


async def _enrich_isolated(
    decoded: list[tuple[InMessage, RawArticle]], services: PipelineServices
) -> list[tuple[InMessage, RawArticle, EnrichedArticle | Exception]]:
    """Enrich as one batch; if the batch fails, retry one by one so only the culprit fails."""
    articles = [article for _, article in decoded]
    try:
        results: list[EnrichedArticle | Exception] = list(await services.enrich_batch(articles))
    except Exception:
        log.warning("enrich batch of %d failed; retrying one by one", len(articles))
        results = []
        for article in articles:
            try:
                results.extend(await services.enrich_batch([article]))
            except Exception as exc:
                log.exception("enrichment failed for article %s", article.id)
                results.append(exc)
    return [(msg, art, res) for (msg, art), res in zip(decoded, results, strict=True)]


async def alert(msg: InMessage, services: PipelineServices) -> None:
    """Decide on one match event (group, throttle), record the alert and deliver it."""
    topics = services.topics
    try:
        event = decode_record(
            msg.value,
            EnrichedArticle,
            max_bytes=max(services.max_record_bytes, 8_000_000),
            topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            key=msg.key,
        )
    except RecordError as exc:
        await _dead_letter(services, topics.alerts_dlq, exc, msg)
        return
    for match in event.matches:
        try:
            decision = services.policy.decide(event, match)
        except Exception as exc:
            log.exception("alert policy failed for %s / %s", match.rule_id, event.article.id)
            await _dead_letter(services, topics.alerts_dlq, exc, msg)
            continue
        services.count(f"decision:{decision.action}")
        _count_decision(services, decision.action, match.channels)
        if decision.alert is None:
            continue
        if event.article.replayed:
            decision.alert.channels = [services.test_channel]
        await services.outbox.send(
            topics.alerts, decision.alert.alert_id.encode(), dumps(decision.alert)
        )
        # The decision memo is durable before anything reaches a channel: after a crash
        # the replay finds it (``repeat``) and the deliverer checks the channel first.
        await services.outbox.flush()
        report = await services.deliverer.deliver(
            decision.alert, maybe_sent=True if decision.repeat else None
        )
        services.count("alerts")
        if services.metrics is not None:
            for spec, outcome in report.outcomes.items():
                kind = spec.split(":", 1)[0]
                if outcome == "sent":
                    services.metrics.alert_sent(kind)
                elif outcome in ("dead_lettered", "unconfigured"):
                    services.metrics.alert_failed(kind)
    await services.outbox.flush()
    services.count("alert_events")
    if services.on_processed is not None:
        services.on_processed("alerted", event.article.id)


def _count_decision(services: PipelineServices, action: str, channels: Sequence[str]) -> None:
    if services.metrics is None:
        return
    for kind in {spec.split(":", 1)[0] for spec in channels}:
        if action == "update":
            services.metrics.alert_grouped(kind)
        elif action in ("throttled", "duplicate"):
            services.metrics.alert_throttled(kind)

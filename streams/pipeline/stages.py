"""The pipeline stages the agents call, with every message its own error boundary.

No Faust import: a stage gets neutral ``InMessage`` views of Kafka records and an ``Outbox``
to send to, so the same code runs under the Faust agents, in tests and in benchmarks.

    enrich_and_match   articles.raw  → articles.enriched (+ articles.matches, one per rule hit)
                                      → articles.raw.dlq for records that fail
    decide             articles.matches (keyed by rule id) → alerts.AlertDecider → alerts
                                      (keyed by alert id); bad records → alerts.dlq
                                      + alerts.lane.<lane> for each delivery lane it needs
    deliver            alerts.lane.<lane> → alerts.AlertSender (that lane's channels)
                                      → alerts.dlq (via the deliverer) for failed deliveries

``decide`` and ``deliver`` are the only places streams/ calls into alerts/ (the facade in
``alerts.service``); nothing in alerts/ calls back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel

from alerts.service import Outcome, lane_of
from schemas.records import AlertRecord, DeadLetter, EnrichedArticle, RawArticle
from schemas.topics import Topics
from streams.errors import RecordError
from streams.kafka.codec import dead_letter_for, decode_record, dumps
from streams.kafka.partition import partition_for
from streams.pipeline.outcomes import publish_decision, publish_delivery
from streams.pipeline.services import MatchFn, Outbox, PipelineServices
from streams.watchlist.compile import CompiledWatchlist

__all__ = [
    "InMessage",
    "Outbox",
    "PipelineServices",
    "Topics",
    "decide",
    "deliver",
    "enrich_and_match",
]

log = logging.getLogger(__name__)

#: Match events and alerts carry a whole enriched article: allow more than a raw record.
MIN_ALERT_RECORD_BYTES = 8_000_000


@dataclass(frozen=True)
class InMessage:
    """A Kafka record as the stages see it."""

    value: bytes | None
    key: bytes | None
    topic: str
    partition: int
    offset: int
    timestamp: float = 0.0


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
    services.metrics.dead_lettered(dlq_topic, letter.error)
    log.warning("dead-lettered %s[%s]@%s: %s", msg.topic, msg.partition, msg.offset, letter.reason)


_R = TypeVar("_R", bound=BaseModel)


async def _decode_or_dead_letter(
    msg: InMessage, model: type[_R], services: PipelineServices, dlq_topic: str
) -> _R | None:
    """The record as ``model`` (alert-size limit), or None after dead-lettering it."""
    try:
        return decode_record(
            msg.value,
            model,
            max_bytes=max(services.max_record_bytes, MIN_ALERT_RECORD_BYTES),
            topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            key=msg.key,
        )
    except RecordError as exc:
        await _dead_letter(services, dlq_topic, exc, msg)
        return None


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
        if article.ingested_at is None and msg.timestamp:
            # A foreign producer set no ingested time: the broker's timestamp is when it came
            # in (what the maximum alert age is measured from; re-read history stays old).
            article = article.model_copy(update={"ingested_at": msg.timestamp})
        decoded.append((msg, article))
    if not decoded:
        await services.outbox.flush()
        return
    enriched = await _enrich_isolated(decoded, services)
    compiled = services.watchlist.current
    assert compiled is not None  # loaded before the worker starts
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
            services.metrics.rule_matched(match.rule_id)
        if result.article.partial_text:
            services.metrics.article_partial(article.source, result.article.partial_text)
        services.count("enriched")
        services.count("matches", len(result.matches))
        services.metrics.article_enriched(
            result.timings_ms.get("total", 0.0) / 1000,
            result.language,
            confidence=result.language_confidence,
        )
        if services.on_processed is not None:
            services.on_processed("enriched", article.id)
    await services.outbox.flush()


def _match_all(
    match: MatchFn,
    compiled: CompiledWatchlist,
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


async def decide(msg: InMessage, services: PipelineServices) -> None:
    """Decide on one match event through the alert facade and publish each alert to ``alerts``."""
    topics = services.topics
    event = await _decode_or_dead_letter(msg, EnrichedArticle, services, topics.alerts_dlq)
    if event is None:
        return
    try:
        outcomes = services.decider.decide(event, fallback_time=msg.timestamp or None)
    except Exception as exc:
        log.exception("alert policy failed for article %s", event.article.id)
        await _dead_letter(services, topics.alerts_dlq, exc, msg)
        return
    for outcome in outcomes:
        services.count(f"decision:{outcome.action}")
        _count_outcome(services, outcome)
        await publish_decision(
            services,
            event.article.id,
            outcome,
            source_topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
        )
        if outcome.alert is not None:
            alert = outcome.alert
            key, value = alert.alert_id.encode(), dumps(alert)
            await services.outbox.send(topics.alerts, key, value)
            if outcome.action == "silenced":  # recorded on ``alerts``, no delivery work
                services.count("silenced")
                continue
            lanes = services.sender.lanes_of(alert)
            for lane in sorted(lanes):  # same key, same partition as on ``alerts``
                await services.outbox.send(topics.lane(lane), key, value)
            services.count("alerts")
            services.count("lane_jobs", len(lanes))
    await services.outbox.flush()
    services.count("alert_events")
    if services.on_processed is not None:
        services.on_processed("alerted", event.article.id)


async def deliver(msg: InMessage, lane: str, services: PipelineServices) -> None:
    """Deliver one alert (from ``lane``'s topic) to that lane's channels; stale ones are counted."""
    topics = services.topics
    alert = await _decode_or_dead_letter(msg, AlertRecord, services, topics.alerts_dlq)
    if alert is None:
        return
    sender = services.sender
    if lane not in sender.lanes_of(alert) or alert.silenced_by is not None:
        return
    if sender.is_stale(alert):
        if lane == min(sender.lanes_of(alert)):  # log once, not once per lane
            log.info("stale alert %s of rule %s: not delivered", alert.alert_id, alert.rule_id)
        for spec in alert.channels:
            kind = spec.split(":", 1)[0].strip().lower()
            if lane_of(kind) == lane:
                services.metrics.alert_stale(kind)
                await publish_delivery(services, alert, spec, "stale", "max age")
        await services.outbox.flush()
        services.count(f"stale:{lane}")
        services.count("lane_done")
        return
    report = await sender.deliver(alert, lane)
    partitions = services.partitions
    expired = sender.maybe_prune(
        lane, msg.partition, lambda aid: partition_for(aid.encode(), partitions) == msg.partition
    )
    if expired:
        log.debug("expired %d sent records on %s[%d]", expired, msg.topic, msg.partition)
    for spec, result in report.outcomes.items():
        kind = spec.split(":", 1)[0]
        if result == "sent":
            services.metrics.alert_sent(kind)
        elif result == "reconciled":
            services.metrics.alert_reconciled(kind)
        elif result in ("dead_lettered", "unconfigured"):
            services.metrics.alert_failed(kind)
        await publish_delivery(services, alert, spec, result)
    await services.outbox.flush()
    services.count(f"delivered:{lane}")
    services.count("lane_done")


def _count_outcome(services: PipelineServices, outcome: Outcome) -> None:
    for kind in {spec.split(":", 1)[0] for spec in outcome.channels}:
        if outcome.action == "update":
            services.metrics.alert_grouped(kind)
        elif outcome.action in ("throttled", "duplicate"):
            services.metrics.alert_throttled(kind)
        elif outcome.action == "stale":
            services.metrics.alert_stale(kind)
        elif outcome.action == "silenced":
            services.metrics.alert_silenced(kind)

"""The pipeline stages without Kafka: every message is its own error boundary."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson

from alerts.channels import FileChannel
from alerts.config import FileConfig, PolicyConfig, RuleLimit
from alerts.deliver import Deliverer
from alerts.service import LANES, AlertDecider, AlertSender
from schemas.records import ArticleRef, DeadLetter, EnrichedArticle, Match, RawArticle
from streams.kafka.codec import dumps
from streams.pipeline.services import NullMetrics
from streams.pipeline.stages import (
    InMessage,
    PipelineServices,
    Topics,
    decide,
    deliver,
    enrich_and_match,
)
from streams.testing import MemoryOutbox


def _msg(value: bytes | None, offset: int) -> InMessage:
    return InMessage(value=value, key=b"k", topic="articles.raw", partition=1, offset=offset)


def _article(i: str, text: str = "body") -> bytes:
    return orjson.dumps({"id": i, "title": f"title {i}", "text": text})


async def _enrich(articles: Sequence[RawArticle]) -> list[EnrichedArticle]:
    if any("POISON" in a.text for a in articles):
        raise RuntimeError("enricher exploded")
    return [
        EnrichedArticle(
            article=ArticleRef(id=a.id, title=a.title),
            language="en",
            language_confidence=1.0,
            clean_text=a.text,
        )
        for a in articles
    ]


def _match(compiled: Any, enriched: EnrichedArticle) -> list[Match]:
    if "BUG" in enriched.clean_text:
        raise ValueError("matcher bug")
    if "hit" not in enriched.clean_text:
        return []
    return [
        Match(
            rule_id="r1",
            rule_title="R",
            article_id=enriched.article.id,
            watchlist_version=compiled.version,
        )
    ]


def _services(outbox: MemoryOutbox, state: dict[str, Any] | None = None) -> PipelineServices:
    topics = Topics()
    deliverer = Deliverer({}, {}, _no_dead_letters, source_topic=topics.alerts)
    return PipelineServices(
        topics=topics,
        outbox=outbox,
        enrich_batch=_enrich,
        watchlist=SimpleNamespace(current=SimpleNamespace(version="v1")),  # type: ignore[arg-type]
        match=_match,
        decider=AlertDecider(
            {} if state is None else state,
            config=PolicyConfig(),
            test_channel="file:replayed",
            max_age_s=3600,
        ),
        sender=AlertSender(deliverer, max_age_s=3600),
        metrics=NullMetrics(),
        max_record_bytes=1_000_000,
    )


async def _no_dead_letters(letter: Any) -> None:
    raise AssertionError(f"unexpected dead letter {letter}")


async def test_good_records_are_enriched_and_matches_fan_out_by_rule() -> None:
    """A matching article goes to articles.enriched and, keyed by rule id, to articles.matches."""
    outbox = MemoryOutbox()
    await enrich_and_match(
        [_msg(_article("a", "a hit"), 0), _msg(_article("b"), 1)], _services(outbox)
    )
    enriched = outbox.values("articles.enriched")
    assert [e["article"]["id"] for e in enriched] == ["a", "b"]
    assert enriched[0]["watchlist_version"] == "v1"
    assert [key for key, _ in outbox.records["articles.matches"]] == [b"r1"]


async def test_bad_records_are_dead_lettered_and_the_rest_goes_on() -> None:
    """Garbage, a schema violation, an enricher crash and a matcher bug cost one record each."""
    outbox = MemoryOutbox()
    batch = [
        _msg(b"garbage", 10),
        _msg(b'{"id": 1}', 11),
        _msg(_article("poison", "POISON pill"), 12),
        _msg(_article("bug", "BUG here"), 13),
        _msg(_article("fine", "a hit"), 14),
    ]
    services = _services(outbox)
    await enrich_and_match(batch, services)
    letters = outbox.values("articles.raw.dlq")
    assert [letter["offset"] for letter in letters] == [10, 11, 12, 13]
    assert "not valid UTF-8 JSON" in letters[0]["reason"]
    assert "schema violation" in letters[1]["reason"]
    assert "enricher exploded" in letters[2]["reason"]
    assert "matcher bug" in letters[3]["reason"]
    assert [e["article"]["id"] for e in outbox.values("articles.enriched")] == ["fine"]
    assert services.counters["dlq:articles.raw.dlq"] == 4


# --------------------------------------------------------------------------- decide / deliver


def _event(
    article_id: str,
    *,
    url: str | None = None,
    channels: Sequence[str] = ("file",),
    replayed: bool = False,
    ingested_at: float | None = None,
    text: str = "",
) -> bytes:
    event = EnrichedArticle(
        article=ArticleRef(
            id=article_id,
            title=f"Report {article_id}",
            url=url,
            source=f"outlet-{article_id}",
            replayed=replayed,
            ingested_at=time.time() if ingested_at is None else ingested_at,
        ),
        language="en",
        language_confidence=1.0,
        clean_text=text or f"A distinct report number {article_id} " * 3,
        matches=[
            Match(
                rule_id="r1",
                rule_title="R",
                article_id=article_id,
                watchlist_version="v1",
                channels=list(channels),
            )
        ],
    )
    return event.model_dump_json().encode()


def _alert_services(
    outbox: MemoryOutbox, tmp_path: Path, *, max_age_s: float = 3600, rule_limit: int = 20
) -> PipelineServices:
    topics = Topics.prefixed("p.")
    state: dict[str, Any] = {}

    async def dead_letter(letter: DeadLetter) -> None:
        await outbox.send(topics.alerts_dlq, (letter.key or "").encode(), dumps(letter))

    deliverer = Deliverer(
        {"file": FileChannel(FileConfig(directory=tmp_path))},
        {},
        dead_letter,
        source_topic=topics.alerts,
    )
    services = _services(outbox)
    services.topics = topics
    services.decider = AlertDecider(
        state,
        config=PolicyConfig(rule_limit=RuleLimit(max_alerts=rule_limit, window_s=3600)),
        test_channel="file:replayed",
        max_age_s=max_age_s,
    )
    services.sender = AlertSender(deliverer, max_age_s=max_age_s)
    return services


async def _run(services: PipelineServices, *events: bytes) -> None:
    """Decide each event, then deliver what it sent to each lane topic (like the agents)."""
    outbox = services.outbox
    assert isinstance(outbox, MemoryOutbox)
    for offset, value in enumerate(events):
        before = {lane: len(outbox.records.get(services.topics.lane(lane), [])) for lane in LANES}
        await decide(InMessage(value, b"r1", services.topics.matches, 0, offset), services)
        for lane in LANES:
            topic = services.topics.lane(lane)
            for key, alert in outbox.records.get(topic, [])[before[lane] :]:
                await deliver(InMessage(alert, key, topic, 0, offset), lane, services)


def _lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def test_decide_publishes_keyed_by_alert_id_and_deliver_sends(tmp_path: Path) -> None:
    """A match becomes one alert on the prefixed alerts topic, keyed by its id, then a file line."""
    outbox = MemoryOutbox()
    services = _alert_services(outbox, tmp_path)
    await _run(services, _event("a1", url="https://n.example/a1"))
    ((key, value),) = outbox.records["p.alerts"]
    alert = orjson.loads(value)
    assert key == alert["alert_id"].encode() and alert["channels"] == ["file"]
    assert [line["alert"]["alert_id"] for line in _lines(tmp_path / "alerts.jsonl")] == [
        alert["alert_id"]
    ]


async def test_replayed_matches_never_touch_live_alerting(tmp_path: Path) -> None:
    """Replayed copies go only to the test channel and neither dedupe nor throttle live alerts."""
    outbox = MemoryOutbox()
    services = _alert_services(outbox, tmp_path, rule_limit=20)
    replayed = [
        _event(f"old{i}", url=f"https://n.example/{i}", replayed=True, channels=["slack:#sec"])
        for i in range(20)
    ]
    await _run(services, *replayed)
    assert len(_lines(tmp_path / "replayed.jsonl")) == 20
    assert not (tmp_path / "alerts.jsonl").exists()
    await _run(services, _event("live0", url="https://n.example/0"))  # same URL as a replay
    assert [o["article"]["id"] for o in outbox.values("p.alerts")][-1] == "live0"
    assert [line["alert"]["article"]["id"] for line in _lines(tmp_path / "alerts.jsonl")] == [
        "live0"
    ]
    assert services.counters["decision:new"] == 21


async def test_stale_match_events_are_counted_not_alerted(tmp_path: Path) -> None:
    """A match whose article was ingested longer ago than the maximum age makes no alert."""
    outbox = MemoryOutbox()
    services = _alert_services(outbox, tmp_path, max_age_s=3600)
    await _run(services, _event("old", ingested_at=time.time() - 7200))
    assert "p.alerts" not in outbox.records
    assert services.counters["decision:stale"] == 1


async def test_stale_alert_records_are_not_delivered(tmp_path: Path) -> None:
    """An alert record older than the maximum age (a new consumer group) is not delivered."""
    outbox = MemoryOutbox()
    services = _alert_services(outbox, tmp_path)
    await _run(services, _event("a1", ingested_at=time.time() - 100))
    ((key, value),) = outbox.records["p.alerts"]
    services.sender.max_age_s = 50
    (tmp_path / "alerts.jsonl").unlink()
    await deliver(InMessage(value, key, "p.alerts", 0, 9), "local", services)
    assert not (tmp_path / "alerts.jsonl").exists()
    assert services.counters["stale:local"] == 1


async def test_string_replayed_flag_is_a_schema_violation(tmp_path: Path) -> None:
    """``"replayed": "yes"`` is not coerced to true: the event goes to the dead letters."""
    outbox = MemoryOutbox()
    services = _alert_services(outbox, tmp_path)
    value = orjson.loads(_event("a1"))
    value["article"]["replayed"] = "yes"
    await _run(services, orjson.dumps(value))
    (letter,) = outbox.values("p.alerts.dlq")
    assert "schema violation" in letter["reason"] and "replayed" in letter["reason"]
    assert "p.alerts" not in outbox.records


async def test_unconfigured_channel_is_dead_lettered_on_the_prefixed_topic(tmp_path: Path) -> None:
    """An alert for a channel this worker lacks goes to <prefix>alerts.dlq, retriable."""
    outbox = MemoryOutbox()
    services = _alert_services(outbox, tmp_path)
    await _run(services, _event("a1", channels=["file", "webhook"]))
    (letter,) = outbox.values("p.alerts.dlq")
    assert letter["reason"].startswith("channel not configured") and letter["retriable"]
    assert letter["source_topic"] == "p.alerts" and letter["channel"] == "webhook"
    assert len(_lines(tmp_path / "alerts.jsonl")) == 1


async def test_metrics_count_articles_under_their_detected_language() -> None:
    """A German and an English article are counted as de and en, not ``und``."""
    from streams.enrich import EnrichConfig, Enricher
    from streams.pipeline.metrics import Metrics

    missing = {"de": "de_core_news_sm", "en": "en_core_web_sm", "xx": "xx_ent_wiki_sm"}
    enricher = Enricher(EnrichConfig(models=missing, freeze_gc=False))

    async def enrich(articles: Sequence[RawArticle]) -> list[EnrichedArticle]:
        return [enricher.enrich(a) for a in articles]

    metrics = Metrics()
    services = _services(MemoryOutbox())
    services.enrich_batch = enrich
    services.metrics = metrics
    german = "Die Behörden prüfen die Vorwürfe gegen das Unternehmen seit mehreren Wochen genau."
    english = "The authorities have been examining the allegations against the company for weeks."
    await enrich_and_match(
        [_msg(_article("de1", german), 0), _msg(_article("en1", english), 1)], services
    )
    languages = [e["language"] for e in services.outbox.values("articles.enriched")]  # type: ignore[attr-defined]
    assert languages == ["de", "en"]
    assert metrics.sample("newswatch_articles_enriched_total", language="de") == 1
    assert metrics.sample("newswatch_articles_enriched_total", language="en") == 1
    assert metrics.sample("newswatch_articles_enriched_total", language="und") is None


async def test_old_sent_records_expire_only_for_the_partition_being_processed(
    tmp_path: Path,
) -> None:
    """A deliver event on partition p deletes old sent records of p's alerts, nothing else."""
    from streams.kafka.partition import partition_for

    outbox = MemoryOutbox()
    services = _alert_services(outbox, tmp_path)
    services.partitions = 2
    sent = services.sender.deliverer.sent
    ids = [f"alert-{i}" for i in range(40)]
    on = {p: [a for a in ids if partition_for(a.encode(), 2) == p] for p in (0, 1)}
    assert on[0] and on[1]
    old, young = time.time() - 7200, time.time()
    for aid in ids:
        sent[aid] = {"t": old, "alert_id": aid, "channels": {}}
    sent["young"] = {"t": young, "alert_id": on[0][0], "channels": {}}
    services.sender.retention_s = 3600
    await _run(services, _event("a1", url="https://n.example/a1"))  # delivered on partition 0
    assert not any(aid in sent for aid in on[0])  # expired, by this partition's event
    assert all(aid in sent for aid in on[1])  # another partition's: its own events expire them
    assert "young" in sent


async def test_snoozed_rule_alert_is_recorded_as_silenced_not_delivered(tmp_path: Path) -> None:
    """A snoozed rule's alert goes to ``alerts`` with ``silenced_by``, to no lane; counted."""
    from alerts.silences import SilenceBook, new_silence
    from streams.pipeline.metrics import Metrics

    outbox = MemoryOutbox()
    services = _alert_services(outbox, tmp_path)
    metrics = Metrics()
    services.metrics = metrics
    book = SilenceBook()
    services.decider.silences = book
    snooze = new_silence(rule_id="r1", duration_s=3600, reason="test")
    book.apply(snooze)
    await _run(services, _event("a1", url="https://n.example/a1"))
    (alert,) = outbox.values("p.alerts")
    assert alert["silenced_by"] == snooze.id
    assert all(not outbox.records.get(services.topics.lane(lane)) for lane in LANES)
    assert not (tmp_path / "alerts.jsonl").exists()
    assert metrics.sample("newswatch_alerts_total", channel="file", outcome="silenced") == 1
    book.apply(snooze.model_copy(update={"ends_at": time.time()}))
    await _run(services, _event("a2", url="https://n.example/a2", text="another story " * 9))
    assert [line["alert"]["article"]["id"] for line in _lines(tmp_path / "alerts.jsonl")] == ["a2"]

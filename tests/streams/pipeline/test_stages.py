"""The pipeline stages without Kafka: every message is its own error boundary."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import orjson

from schemas.records import ArticleRef, EnrichedArticle, Match, RawArticle
from streams.pipeline.stages import InMessage, PipelineServices, Topics, enrich_and_match
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


def _services(outbox: MemoryOutbox) -> PipelineServices:
    return PipelineServices(
        topics=Topics(),
        outbox=outbox,
        enrich_batch=_enrich,
        watchlist=SimpleNamespace(current=SimpleNamespace(version="v1")),
        match=_match,
    )


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


async def test_metrics_count_articles_under_their_detected_language() -> None:
    """A German and an English article are counted as de and en, not ``und``."""
    from streams.enrich import EnrichConfig, Enricher
    from streams.pipeline.metrics import Metrics

    missing = {"de": "de_core_news_sm", "en": "en_core_web_sm", "xx": "xx_ent_wiki_sm"}
    enricher = Enricher(EnrichConfig(models=missing, freeze_gc=False))

    async def enrich(articles: Sequence[RawArticle]) -> list[EnrichedArticle]:
        return [enricher.enrich(a) for a in articles]

    metrics = Metrics()
    services = PipelineServices(
        topics=Topics(),
        outbox=MemoryOutbox(),
        enrich_batch=enrich,
        watchlist=SimpleNamespace(current=SimpleNamespace(version="v1")),
        match=lambda compiled, enriched: [],
        metrics=metrics,
    )
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

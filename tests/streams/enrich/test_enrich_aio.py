"""AsyncEnricher: enrichment off the event loop, in a thread or in worker processes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from schemas.records import EnrichedArticle, RawArticle
from streams.enrich import ArticleEnrichError, AsyncEnricher, EnrichConfig, EnricherStopped
from streams.enrich.testing import CRASH_MARKER, save_pipeline_with

MakeArticle = Callable[..., RawArticle]
PATTERNS = [{"label": "ORG", "pattern": "Alibaba", "id": "alibaba"}]


def _config(**kw: object) -> EnrichConfig:
    kw.setdefault("models", {"de": "de_core_news_sm"})
    kw.setdefault("languages", ["de", "en"])
    kw.setdefault("freeze_gc", False)
    return EnrichConfig(**kw)  # type: ignore[arg-type]


async def test_thread_mode_keeps_the_event_loop_running(
    make_article: MakeArticle, seed_article: RawArticle
) -> None:
    """While a large batch is enriched in the thread, other coroutines keep being scheduled."""
    enricher = AsyncEnricher(_config())
    enricher.set_entity_patterns(PATTERNS)
    await enricher.start()
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    try:
        before = ticks
        results = await enricher.enrich_batch([seed_article] * 40)
        during = ticks - before
    finally:
        done.set()
        await task
        await enricher.stop()
    assert len(results) == 40 and all(r.language == "de" for r in results)
    assert any(e.text == "Alibaba" for e in results[0].entities)
    assert during > 1


async def test_use_before_start_and_after_stop_is_refused(make_article: MakeArticle) -> None:
    """Enriching while stopped raises EnricherStopped (retriable), never hangs."""
    enricher = AsyncEnricher(_config())
    with pytest.raises(EnricherStopped):
        await enricher.enrich(make_article())
    await enricher.start()
    assert enricher.running
    rec = await enricher.enrich(make_article("Alibaba wächst.", language="de"))
    assert rec.language == "de"
    await enricher.stop()
    await enricher.stop()
    assert not enricher.running
    with pytest.raises(EnricherStopped) as info:
        await enricher.try_enrich_batch([make_article()])
    assert info.value.retriable


async def test_patterns_swapped_while_running_apply_to_the_next_batch(
    make_article: MakeArticle,
) -> None:
    """set_entity_patterns on a running thread enricher changes the next results."""
    enricher = AsyncEnricher(_config())
    await enricher.start()
    try:
        article = make_article("Alibaba und Cainiao.", language="de")
        assert (await enricher.enrich(article)).entities == []
        enricher.set_entity_patterns(PATTERNS)
        assert [e.text for e in (await enricher.enrich(article)).entities] == ["Alibaba"]
    finally:
        await enricher.stop()


async def test_process_mode_survives_a_crashing_article(
    make_article: MakeArticle, tmp_path: Path
) -> None:
    """A worker process that dies on one article costs only that article; the pool recovers."""
    path = save_pipeline_with("de", ["newswatch_test_crash"], tmp_path / "crashing")
    enricher = AsyncEnricher(  # articles carry their language: each pool process (two
        # here: the crash replaces one) needs no language detector, so it loads no models
        _config(
            models={"de": str(path)},
            import_modules=["streams.enrich.testing"],
            languages=["de"],
            detector_languages=[],
        ),
        mode="process",
        processes=1,
    )
    enricher.set_entity_patterns(PATTERNS)
    await enricher.start()
    try:
        good = make_article("Alibaba wächst.", language="de")
        bad = make_article(f"Alibaba {CRASH_MARKER}.", language="de")
        results = await enricher.try_enrich_batch([good, bad, good])
        assert isinstance(results[0], EnrichedArticle) and isinstance(results[2], EnrichedArticle)
        assert [e.text for e in results[0].entities] == ["Alibaba"]
        assert isinstance(results[1], ArticleEnrichError) and results[1].article_id == bad.id
        enricher.set_entity_patterns([])
        after = await enricher.enrich(good)
        assert after.pipeline == str(path) and after.entities == []
    finally:
        await enricher.stop()

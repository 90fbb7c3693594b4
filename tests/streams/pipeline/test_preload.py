"""Preloaded spaCy pipelines: /ready waits for them, and their first article loads nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from schemas.records import EnrichedArticle, RawArticle
from streams.kafka.broker import EmbeddedBroker
from streams.pipeline.config import preload_languages
from streams.pipeline.root import build_worker
from streams.pipeline.web import ready
from streams.settings import Settings
from streams.testing import MemoryOutbox, term_watchlist


def test_auto_preloads_the_configured_languages_the_watchlist_has_terms_for() -> None:
    """``auto`` → configured languages with watch-list terms; codes are kept; ``none`` → none."""
    languages = ["de", "en", "fr", "zh"]
    terms = ["de", "fr", "ja", "no"]
    assert preload_languages(("auto",), languages, terms) == ["de", "fr"]
    assert preload_languages(("auto", "NO", "de"), languages, terms) == ["de", "fr", "nb"]
    assert preload_languages(("none",), languages, terms) == []
    assert preload_languages((), languages, terms) == []


@pytest.mark.broker
async def test_ready_waits_for_preloaded_pipelines_and_their_first_article_loads_none(
    broker: EmbeddedBroker, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """/ready is 503 until the preloaded pipelines are built (even with the broker already
    reachable); a first German article then builds no pipeline, a French one builds one."""
    path = tmp_path / "wl.yaml"
    path.write_text(term_watchlist({"r1": ("Spionage", "file")}))
    settings = make_settings(
        broker, watchlist=path, alert_channels=["file"], preload_languages=["de", "en"]
    )
    worker = build_worker(settings, outbox=MemoryOutbox())
    worker.health.broker_checked(True)  # the periodic probe may answer before start() ends
    start = asyncio.create_task(worker.start())
    seen: list[tuple[int, bool, int | None]] = []
    while not start.done():
        nlp_ok = worker.health.checks()["nlp"]["ok"]
        seen.append((ready(worker.health).status, nlp_ok, worker.enricher.pipeline_loads))
        await asyncio.sleep(0.01)
    await start
    try:
        assert seen and seen[0][:2] == (503, False)
        assert all(status == 503 for status, nlp_ok, _ in seen if not nlp_ok)
        assert all(loads == 2 for _, nlp_ok, loads in seen if nlp_ok)
        assert ready(worker.health).status == 200
        assert worker.enricher.pipeline_loads == 2
        assert worker.metrics.sample("newswatch_nlp_pipeline_loads") == 2

        german = RawArticle(id="a1", title="Spionage", text="Der Verdacht wächst.", language="de")
        result = (await worker.enricher.try_enrich_batch([german]))[0]
        assert isinstance(result, EnrichedArticle) and result.pipeline == "blank:de"
        assert worker.enricher.pipeline_loads == 2

        french = RawArticle(id="a2", title="Espionnage", text="Le soupçon grandit.", language="fr")
        await worker.enricher.try_enrich_batch([french])
        assert worker.enricher.pipeline_loads == 3  # the counter is live: fr was not preloaded
        assert worker.metrics.sample("newswatch_nlp_pipeline_loads") == 3
    finally:
        await worker.stop()

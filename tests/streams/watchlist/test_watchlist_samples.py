"""The bundled example watch-list against the bundled samples: the seed fires, the rest do not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from schemas.records import RawArticle
from streams.watchlist import (
    CompiledWatchlist,
    compile_watchlist,
    load_watchlist,
    match_article,
    match_text,
)

EXAMPLE = (
    Path(__file__).resolve().parents[3] / "streams" / "watchlist" / "examples" / "watchlist.yaml"
)
SEED = "alibaba-liege-de.txt"


@pytest.fixture(scope="module")
def example() -> CompiledWatchlist:
    """The bundled example watch-list, compiled."""
    return compile_watchlist(load_watchlist(EXAMPLE))


def test_example_is_the_default_watchlist() -> None:
    """settings.DEFAULT_WATCHLIST points at the bundled example."""
    from streams.settings import DEFAULT_WATCHLIST

    assert DEFAULT_WATCHLIST.resolve() == EXAMPLE.resolve()


@pytest.mark.parametrize("lang", ["de", None])
def test_seed_article_fires_with_evidence_from_two_paragraphs(
    example: CompiledWatchlist, read_sample: Callable[[str], tuple[str, str]], lang: str | None
) -> None:
    """The German seed fires alibaba-espionage (English concept name) from >= 2 paragraphs."""
    title, body = read_sample(SEED)
    (m,) = match_text(example, "seed", title, body, lang)
    assert (m.rule_id, m.severity) == ("alibaba-espionage", "high")
    assert m.channels[:2] == ["console", "file"]
    assert m.entities == ["alibaba"]
    paragraphs = {e.paragraph for e in m.evidence}
    assert len(paragraphs) >= 2
    surfaces = {e.surface for e in m.evidence if e.condition == "concept:espionage"}
    assert {"Spionagebedenken", "Spionage"} <= surfaces
    for e in m.evidence:
        assert e.surface in e.snippet


def test_negative_samples_do_not_alert(
    example: CompiledWatchlist, samples: Path, read_sample: Callable[[str], tuple[str, str]]
) -> None:
    """Every other bundled sample (incl. the German quarterly results) fires nothing."""
    others = sorted(p.name for p in samples.glob("*.txt") if p.name != SEED)
    assert "alibaba-quartal-de.txt" in others and len(others) >= 3
    for name in others:
        title, body = read_sample(name)
        assert match_text(example, name, title, body, None) == [], name


def test_seed_through_the_real_enrichment_stage(
    example: CompiledWatchlist, read_sample: Callable[[str], tuple[str, str]]
) -> None:
    """Enriched by streams.enrich (boilerplate removed, lemmas, title as paragraph 0) it fires."""
    from streams.enrich import EnrichConfig, Enricher

    title, body = read_sample(SEED)
    enricher = Enricher(EnrichConfig())
    enricher.set_entity_patterns(example.entity_patterns())
    enriched = enricher.enrich(RawArticle(id="seed", title=title, text=body))
    (m,) = match_article(example, enriched)
    assert len({e.paragraph for e in m.evidence}) >= 2
    assert all("WERBUNG" not in e.snippet and "source-121" not in e.snippet for e in m.evidence)
    for e in m.evidence:
        assert enriched.clean_text[e.start : e.end] == e.surface

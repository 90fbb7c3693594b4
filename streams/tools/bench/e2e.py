"""``newswatch bench e2e``: the whole pipeline as users see it, article produced → Slack call.

One run:

1. the embedded broker (or ``KAFKA_BOOTSTRAP_SERVERS``), the fake Slack Web API on loopback
   (real HTTP, in its own thread), fresh topics and a fresh consumer group;
2. a generated watch-list of ``rules`` rules (``streams.tools.bench.corpus``), each routed to one
   of ``channels`` Slack channels (Slack paces 1 message/s per channel: spreading the
   alerts keeps pacing out of the latency figure);
3. ``workers`` × ``newswatch worker`` subprocesses (the same command users run);
4. a warm-up (every language, every partition), then the measured phase: ``count``
   articles produced at ``rate`` per second (``RawArticle.ingested_at`` = produce time);
5. the report (``streams.tools.bench._report``), read back from the topics, the fake server and
   ``/proc``: throughput, per-stage times, latency from produce to the Slack request, RSS
   and CPU per worker, consumer lag (log end − committed offsets) over time, and the
   alert-state size (keys of the policy and sent tables, from each worker's ``/metrics``)
   at the start and end of each phase and every ``state_every_s`` in between.

A soak (is memory and alert state flat over a long run?) is a long measured phase, e.g.
``newswatch bench e2e --rate 50 --count 90000 --window 5m`` (30 minutes, 10 % matching;
``--window`` sets the rules' story window and ``NEWSWATCH_RULE_LIMIT_WINDOW``, so state
older than it may expire during the run): compare ``alert_state`` start/end, its growth
per minute over the second half, and ``rss_first_mb``/``rss_last_mb`` of each worker.

``rate=None`` (``--rate max``) first drains a backlog of ``count`` articles to find the
capacity, then produces ``count`` articles at 90 % of it and checks that the lag does not
grow; if it does, it retries 15 % slower (at most 4 times). The reported sustained rate
is the fastest rate at which the lag stayed flat.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streams.tools.bench._harness import KafkaProbe, TopicTail
from streams.tools.bench._phases import Run, find_pyspy, measure_run
from streams.tools.bench._report import alert_parser, enriched_parser
from streams.tools.bench.corpus import bench_watchlist

__all__ = ["TARGETS", "E2EOptions", "bench_e2e", "run_bench_e2e"]

_TOKEN = "xoxb-newswatch-bench"
#: The budget of issue 8 (2 cores, embedded broker, fallback NLP, 1,000 rules).
TARGETS = {
    "one_worker_articles_per_s": 100,
    "two_workers_articles_per_s": 170,
    "e2e_p99_ms_at_20_articles_per_s": 1000,
    "rss_drift_pct_10_min_at_50_articles_per_s": 5,
}


@dataclass
class E2EOptions:
    """What to run; ``rate=None`` finds the maximum sustained rate."""

    rate: float | None = 20.0
    count: int = 3000
    workers: int = 1
    rules: int = 1000
    partitions: int | None = None
    match_share: float = 0.1
    words: int = 300
    channels: int = 50
    warmup: int | None = None
    drain_timeout_s: float = 60.0
    idle_s: float = 5.0
    sample_every_s: float = 1.0
    state_every_s: float = 30.0
    window: str = "6h"
    keep_dir: Path | None = None
    profile: Path | None = None


def _loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def _summary(best: dict[str, Any], options: E2EOptions) -> dict[str, Any]:
    return {
        "sustained_articles_per_s": best["throughput_articles_per_s"]
        if best["keeps_up"] or options.rate is None
        else None,
        "rate_offered_articles_per_s": best["rate_offered_articles_per_s"],
        "keeps_up": best["keeps_up"],
        "e2e_latency_ms": best["latency_ms"]["end_to_end"],
        "enrich_ms_p50": best["stage_ms"]["enrich"]["p50"],
        "match_ms_p50": best["stage_ms"]["match"]["p50"],
        "render_ms_p50": best["stage_ms"]["render"]["p50"],
        "deliver_ms_p50": best["latency_ms"]["alert_decided_to_slack"]["p50"],
        "worker_cpu_ms_per_article": best["worker_cpu_ms_per_article"],
        "peak_rss_mb_per_worker": [w["peak_rss_mb"] for w in best["workers"]],
        "rss_drift_pct_per_worker": [w["rss_drift_pct"] for w in best["workers"]],
        "consumer_lag_end": best["consumer_lag"]["end"],
        "slack_posts": best["slack"],
        "alert_state_keys_start": {k: best["alert_state"]["start"][k] for k in ("policy", "sent")},
        "alert_state_keys_end": {k: best["alert_state"]["end"][k] for k in ("policy", "sent")},
        "alert_state_keys_per_min_second_half": best["alert_state"]["keys_per_min_second_half"],
        "rss_first_last_mb_per_worker": [
            [w["rss_first_mb"], w["rss_last_mb"]] for w in best["workers"]
        ],
    }


def bench_e2e(base: Any, options: E2EOptions) -> dict[str, Any]:
    """Run the benchmark with settings ``base`` (env) and return the JSON-ready result."""
    from alerts.config import RuleLimit
    from alerts.testing.slack import FakeSlack
    from schemas.watchlist import duration_seconds
    from streams.ingest.producer import ArticleProducer
    from streams.kafka.broker import EmbeddedBroker, free_port
    from streams.kafka.security import client_kwargs
    from streams.kafka.topics import ensure_topics
    from streams.settings import Settings
    from streams.testing import SlackThread, WorkerProcess, settings_env

    tag = "nwb" + uuid.uuid4().hex[:6]
    tmp = None
    if options.keep_dir is not None:
        run_dir = options.keep_dir
        run_dir.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="nw-bench-e2e-")
        run_dir = Path(tmp.name)
    load_before = _loadavg()
    watchlist = run_dir / "bench-watchlist.yaml"
    document = bench_watchlist(options.rules, channels=options.channels, window=options.window)
    watchlist.write_text(json.dumps(document, indent=1), encoding="utf-8")
    broker = None
    slack = SlackThread(FakeSlack(tokens={_TOKEN}))
    workers: list[Any] = []
    try:
        bootstrap = base.kafka_bootstrap_servers
        if not bootstrap:
            broker = EmbeddedBroker(port=free_port(), log_path=run_dir / "broker.log").start()
            bootstrap = broker.bootstrap_servers
        slack.start()
        settings = Settings.load(
            kafka_bootstrap_servers=bootstrap,
            data_dir=run_dir / "data",
            app_id=f"{tag}-app",
            topic_prefix=f"{tag}.",
            partitions=options.partitions or base.partitions,
            watchlist=watchlist,
            alert_channels=["slack"],
            slack_bot_token=_TOKEN,
            slack_api_url=slack.url,
            log_level="warning",
            web_port=0,
            session_timeout_s=base.session_timeout_s,
        )
        asyncio.run(ensure_topics(settings))
        env = settings_env(settings)
        window_s = duration_seconds(options.window)
        env["NEWSWATCH_RULE_LIMIT_WINDOW"] = str(window_s)
        # alert state older than twice the window expires, so a soak shows whether it is flat
        env["NEWSWATCH_STATE_RETENTION"] = str(2 * window_s)
        # the corpus is German, English and French: preload those (not every configured one)
        env.setdefault("NEWSWATCH_PRELOAD_LANGUAGES", "de,en,fr")
        t0 = time.monotonic()
        for j in range(options.workers):
            worker = WorkerProcess(env, web_port=free_port(), log_path=run_dir / f"worker-{j}.log")
            workers.append(worker.start())
        for worker in workers:
            worker.wait_ready(180)
        startup_s = time.monotonic() - t0
        pids = [w.proc.pid for w in workers]
        ports = [w.web_port for w in workers]
        broker_pid = getattr(getattr(broker, "_proc", None), "pid", None)

        auth = client_kwargs(settings)  # the same TLS/SASL options as the workers

        async def measure() -> dict[str, Any]:
            run = Run(
                options=options,
                probe=KafkaProbe(bootstrap, settings.topic("articles.raw"), settings.app_id, auth),
                enriched=TopicTail(
                    bootstrap, settings.topic("articles.enriched"), enriched_parser(tag), auth
                ),
                alerts=TopicTail(bootstrap, settings.topic("alerts"), alert_parser(tag), auth),
                slack=slack,
                producer=ArticleProducer(settings),
                pids=pids,
                broker_pid=broker_pid,
                tag=tag,
                ports=ports,
            )
            return await measure_run(run)

        measured = asyncio.run(measure())
        for j, worker in enumerate(workers):
            if not worker.alive():
                raise RuntimeError(f"worker {j} died:\n{worker.log_tail()}")
    finally:
        for worker in workers:
            worker.stop(20)
        slack.stop()
        if broker is not None:
            broker.stop()
        if tmp is not None:
            tmp.cleanup()
    best = measured["best"]
    # Matching articles cycle through the rules; the alert policy allows RuleLimit new
    # alerts per rule and hour, so enough rules keep every match a Slack post.
    limit = RuleLimit().max_alerts
    matching = math.ceil(measured["produced"] * options.match_share)
    per_rule = math.ceil(matching / options.rules) if options.rules else 0
    warnings = []
    if options.profile is not None and find_pyspy() is None:
        warnings.append("--profile needs py-spy (pip install py-spy); no profile was taken")
    if per_rule > limit:
        warnings.append(
            f"up to {per_rule} matches per rule: above the policy's {limit} new alerts "
            "per rule and hour, some alerts were throttled; use more --rules"
        )
    return {
        "bench": "e2e",
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "loadavg_before": load_before,
            "loadavg_after": _loadavg(),
        },
        "config": {
            "rate": options.rate if options.rate is not None else "max",
            "count": options.count,
            "workers": options.workers,
            "rules": options.rules,
            "partitions": settings.partitions,
            "match_share": options.match_share,
            "words_per_article": options.words,
            "slack_channels": options.channels,
            "window": options.window,
            "batch_size": base.batch_size,
            "broker": "embedded" if broker else bootstrap,
            "nlp": "fallback (blank spaCy pipelines + lookup lemmas + EntityRuler)",
        },
        "worker_startup_s": round(startup_s, 1),
        "summary": _summary(best, options),
        "targets": TARGETS,
        "max_matches_per_rule": per_rule,
        "warnings": warnings,
        "warm_up": measured["warm_up"],
        "idle_cpu_pct": measured["idle_cpu_pct"],
        "phases": measured["phases"],
    }


def run_bench_e2e(settings: Any, options: E2EOptions) -> int:
    """``newswatch bench e2e``: print the JSON result; exit 0 (1 if a phase did not drain)."""
    result = bench_e2e(settings, options)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    drained = all(p["consumer_lag"]["drained"] for p in result["phases"])
    return 0 if drained else 1

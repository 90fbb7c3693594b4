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
import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streams.tools.bench._harness import (
    KafkaProbe,
    TopicTail,
    accepted_posts,
    proc_cpu_seconds,
    proc_descendants,
    proc_memory,
    proc_wait_seconds,
    rejected_posts,
)
from streams.tools.bench._report import (
    Observed,
    Phase,
    alert_parser,
    enriched_parser,
    post_articles,
    report_phase,
)
from streams.tools.bench._stats import slope
from streams.tools.bench.corpus import BenchArticle, bench_watchlist, make_corpus, token_pattern

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
    sample_every_s: float = 1.0
    state_every_s: float = 30.0
    window: str = "6h"
    keep_dir: Path | None = None
    profile: Path | None = None


@dataclass
class _Run:
    """The clients and processes one run's phases share."""

    options: E2EOptions
    probe: KafkaProbe
    enriched: TopicTail
    alerts: TopicTail
    slack: Any  # streams.testing.SlackThread serving a FakeSlack
    producer: Any
    pids: list[int]
    broker_pid: int | None
    tag: str
    seen: Observed = field(default_factory=Observed)
    next_index: int = 0
    posts_read: int = 0
    ports: list[int] = field(default_factory=list)

    def collect_posts(self) -> None:
        """Map new Slack posts to article indexes via the token in the title / URL."""
        pattern = token_pattern(self.tag)
        requests = accepted_posts(self.slack.slack)
        for req in requests[self.posts_read :]:
            indexes = post_articles(req.params, pattern)
            if not indexes:
                self.seen.unattributed += 1
            for i in indexes:
                self.seen.posts.setdefault(i, []).append(req.received_at)
        self.posts_read = len(requests)
        self.seen.rejected = len(rejected_posts(self.slack.slack))

    def next_articles(self, n: int) -> list[BenchArticle]:
        """The next ``n`` articles of the run's corpus."""
        o = self.options
        out = list(
            make_corpus(
                n,
                rules=o.rules,
                match_share=o.match_share,
                words=o.words,
                tag=self.tag,
                start=self.next_index,
            )
        )
        self.next_index += n
        return out


# ---------------------------------------------------------------- one phase
def _cpu(run: _Run) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for j, pid in enumerate(run.pids):
        out[f"worker-{j}"] = proc_cpu_seconds(pid)
        out[f"worker-{j}:waiting"] = proc_wait_seconds(pid)
        kids = [proc_cpu_seconds(kid) for kid in proc_descendants(pid)]
        if kids:
            out[f"worker-{j}:children"] = sum(k for k in kids if k is not None)
    if run.broker_pid is not None:
        out["broker"] = proc_cpu_seconds(run.broker_pid)
    times = os.times()
    out["bench"] = times.user + times.system
    return out


def _alert_state(run: _Run) -> dict[str, Any]:
    """Keys in the alert-state tables, per worker and in total (None: not readable)."""
    from streams.testing import metric_value, scrape_metrics

    per_worker: list[dict[str, float | None]] = []
    for port in run.ports:
        try:
            samples = scrape_metrics(port)
        except Exception:  # a slow scrape must not end the benchmark
            per_worker.append({"policy": None, "sent": None})
            continue
        per_worker.append(
            {
                table: metric_value(samples, "newswatch_alert_state_keys", table=table)
                for table in ("policy", "sent")
            }
        )
    total = {
        table: sum(w[table] or 0 for w in per_worker)
        if all(w[table] is not None for w in per_worker)
        else None
        for table in ("policy", "sent")
    }
    return {"t": round(time.time(), 1), **total, "workers": per_worker}


async def _sample_state(run: _Run, series: list[dict[str, Any]], stop: asyncio.Event) -> None:
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), run.options.state_every_s)
        if stop.is_set():
            return
        series.append(await asyncio.to_thread(_alert_state, run))


async def _sample(run: _Run, phase: Phase, stop: asyncio.Event) -> None:
    while not stop.is_set():
        t = time.time()
        try:
            lag, _ = await run.probe.lag()
        except Exception:  # a probe hiccup must not end the benchmark
            lag = -1
        run.collect_posts()
        rss = [proc_memory(pid).get("rss_mb") for pid in run.pids]
        phase.samples.append({"t": t, "lag": lag, "rss": rss})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), run.options.sample_every_s)


async def _produce(run: _Run, phase: Phase) -> None:
    from schemas.records import RawArticle

    rate = phase.rate
    t0 = time.perf_counter()
    for k, article in enumerate(phase.articles):
        if rate:
            delay = t0 + k / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        elif k % 200 == 0:
            await asyncio.sleep(0)
        now = time.time()
        raw = RawArticle.model_validate({**article.fields, "ingested_at": now})
        await run.producer.produce(raw)
        run.seen.sent_at[article.index] = now
    await run.producer.flush()


async def _wait_drained(run: _Run, phase: Phase) -> bool:
    """Until the group committed everything and every expected post arrived (or no progress)."""
    expected = {a.index for a in phase.articles if a.rule is not None}
    last_progress, last_state = time.monotonic(), None
    while True:
        lag, _ = await run.probe.lag()
        run.collect_posts()
        missing = len(expected - run.seen.posts.keys())
        if lag == 0 and missing == 0:
            return True
        state = (lag, missing)
        if state != last_state:
            last_progress, last_state = time.monotonic(), state
        elif time.monotonic() - last_progress > run.options.drain_timeout_s:
            return False
        await asyncio.sleep(0.2)


def _pyspy() -> str | None:
    """The py-spy executable (``pip install py-spy``), if installed."""
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return found if os.path.exists(found) else None


def _start_profiler(run: _Run, seconds: float) -> subprocess.Popen[bytes] | None:
    """py-spy on worker 0: only the thread holding the GIL (where its CPU time goes)."""
    target = run.options.profile
    pyspy = _pyspy()
    if target is None or not run.pids or pyspy is None:
        return None
    fmt = {".json": "speedscope", ".txt": "raw"}.get(target.suffix, "flamegraph")
    duration = str(max(1, math.ceil(seconds)))
    cmd = [
        pyspy,
        "record",
        "--pid",
        str(run.pids[0]),
        "--output",
        str(target),
        "--format",
        fmt,
        "--rate",
        "100",
        "--duration",
        duration,
        "--nonblocking",
        "--gil",
    ]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


async def _run_phase(run: _Run, phase: Phase, *, profile: bool = False) -> dict[str, Any]:
    stop = asyncio.Event()
    phase.cpu_before = _cpu(run)
    sampler = asyncio.create_task(_sample(run, phase, stop))
    state = [await asyncio.to_thread(_alert_state, run)]
    state_sampler = asyncio.create_task(_sample_state(run, state, stop))
    profiler = None
    if profile and phase.rate:
        profiler = _start_profiler(run, len(phase.articles) / phase.rate)
    phase.t_start = time.time()
    await _produce(run, phase)
    phase.t_produced = time.time()
    phase.drained = await _wait_drained(run, phase)
    phase.t_done = time.time()
    phase.lag_end = (await run.probe.lag())[0]
    stop.set()
    await sampler
    await state_sampler
    state.append(await asyncio.to_thread(_alert_state, run))
    phase.cpu_after = _cpu(run)
    run.seen.peak_rss_mb = [proc_memory(pid).get("hwm_mb") for pid in run.pids]
    if profiler is not None:
        try:
            profiler.wait(30)
        except subprocess.TimeoutExpired:
            profiler.kill()
    enriched = await run.enriched.read_new()
    alerts = await run.alerts.read_new()
    report = report_phase(phase, run.seen, enriched, alerts)
    series = [[round(s["t"] - state[0]["t"], 1), s["policy"], s["sent"]] for s in state]
    report["alert_state"] = {
        "start": state[0],
        "end": state[-1],
        "series": series,
        "keys_per_min_second_half": _growth(series),
    }
    return report


def _growth(series: list[list[Any]]) -> dict[str, float | None]:
    """Least-squares growth (keys per minute) of each table over the second half of a phase."""
    if not series:
        return {"policy": None, "sent": None}
    half = series[-1][0] / 2
    out: dict[str, float | None] = {}
    for column, table in ((1, "policy"), (2, "sent")):
        points = [(p[0], p[column]) for p in series if p[0] >= half and p[column] is not None]
        out[table] = round(slope(points) * 60, 1) if len(points) >= 2 else None
    return out


# ---------------------------------------------------------------- phases of a run
async def _measure(run: _Run) -> dict[str, Any]:
    o = run.options
    for part in (run.probe, run.enriched, run.alerts, run.producer):
        await part.start()
    try:
        partitions = len(run.probe.partitions)
        warm_n = o.warmup if o.warmup is not None else max(40, 12 * partitions * o.workers)
        warm = await _run_phase(run, Phase("warm-up", run.next_articles(warm_n), None))
        phases: list[dict[str, Any]] = []
        if o.rate is not None:
            measured = Phase("measured", run.next_articles(o.count), o.rate)
            phases.append(await _run_phase(run, measured, profile=True))
            best = phases[-1]
        else:
            backlog = await _run_phase(run, Phase("backlog", run.next_articles(o.count), None))
            phases.append(backlog)
            rate = round(0.9 * (backlog["throughput_articles_per_s"] or 10.0), 1)
            found = None
            for attempt in range(4):
                sustain = Phase(f"sustain@{rate}", run.next_articles(o.count), rate)
                result = await _run_phase(run, sustain, profile=attempt == 3)
                phases.append(result)
                if result["keeps_up"]:
                    found = result
                    break
                rate = round(rate * 0.85, 1)
            best = found or phases[-1]
        brief = {
            k: warm[k] for k in ("articles", "duration_s", "throughput_articles_per_s", "slack")
        }
        return {"warm_up": brief, "phases": phases, "best": best, "produced": run.next_index}
    finally:
        for part in (run.producer, run.alerts, run.enriched, run.probe):
            await part.stop()


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
        env["NEWSWATCH_RULE_LIMIT_WINDOW"] = str(duration_seconds(options.window))
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
            run = _Run(
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
            return await _measure(run)

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
    if options.profile is not None and _pyspy() is None:
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
        "phases": measured["phases"],
    }


def run_bench_e2e(settings: Any, options: E2EOptions) -> int:
    """``newswatch bench e2e``: print the JSON result; exit 0 (1 if a phase did not drain)."""
    result = bench_e2e(settings, options)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    drained = all(p["consumer_lag"]["drained"] for p in result["phases"])
    return 0 if drained else 1

"""``newswatch bench e2e``: the whole pipeline as users see it, article produced → Slack call.

One run:

1. the embedded broker (or ``KAFKA_BOOTSTRAP_SERVERS``), the fake Slack Web API on loopback
   (real HTTP, in its own thread), fresh topics and a fresh consumer group;
2. a generated watch-list of ``rules`` rules (``streams.bench.corpus``), each routed to one
   of ``channels`` Slack channels (Slack paces 1 message/s per channel: spreading the
   alerts keeps pacing out of the latency figure);
3. ``workers`` × ``newswatch worker`` subprocesses (the same command users run);
4. a warm-up (every language, every partition), then the measured phase: ``count``
   articles produced at ``rate`` per second (``RawArticle.ingested_at`` = produce time);
5. the report, read back from the topics, the fake server and ``/proc``:
   throughput, per-stage times (``timings_ms`` of the enriched records; render timed here
   on the same alerts and templates), latency from produce to the Slack request, peak RSS
   per worker, CPU per process, consumer lag (log end − committed offsets) over time.

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

from streams.bench._harness import (
    KafkaProbe,
    TopicTail,
    accepted_posts,
    proc_cpu_seconds,
    proc_descendants,
    proc_memory,
    proc_wait_seconds,
    rejected_posts,
)
from streams.bench._stats import slope, summary
from streams.bench.corpus import BenchArticle, bench_watchlist, make_corpus, token_pattern

__all__ = ["E2EOptions", "bench_e2e", "run_bench_e2e"]

_TOKEN = "xoxb-newswatch-bench"
_TARGETS = {
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
    keep_dir: Path | None = None
    profile: Path | None = None


@dataclass
class _Run:
    """State shared by the phases of one run."""

    options: E2EOptions
    settings: Any
    probe: KafkaProbe
    enriched: TopicTail
    alerts: TopicTail
    slack: Any  # streams.testing.SlackThread serving a FakeSlack
    producer: Any
    pids: list[int]
    broker_pid: int | None
    tag: str
    next_index: int = 0
    sent_at: dict[int, float] = field(default_factory=dict)
    posts: dict[int, list[float]] = field(default_factory=dict)
    unexpected_posts: int = 0
    posts_seen: int = 0

    def collect_posts(self) -> None:
        """Map new Slack posts to article indexes via the token in the title / URL."""
        pattern = token_pattern(self.tag)
        requests = accepted_posts(self.slack.slack)
        for req in requests[self.posts_seen :]:
            indexes = _post_articles(req.params, pattern)
            if not indexes:
                self.unexpected_posts += 1
            for i in indexes:
                self.posts.setdefault(i, []).append(req.received_at)
        self.posts_seen = len(requests)


def _post_articles(params: dict[str, Any], pattern: Any) -> list[int]:
    """Article indexes a ``chat.postMessage`` is about (an update: the newly related ones)."""
    text = str(params.get("text") or "")
    head = {int(t) for t in pattern.findall(text)}
    if not params.get("thread_ts"):
        return sorted(head)
    blocks = params.get("blocks")
    blob = blocks if isinstance(blocks, str) else json.dumps(blocks, ensure_ascii=False)
    return sorted({int(t) for t in pattern.findall(blob)} - head)


# ---------------------------------------------------------------- record parsers
def _index_of(article_id: str, tag: str) -> int | None:
    prefix = f"{tag}-"
    if not article_id.startswith(prefix):
        return None
    try:
        return int(article_id[len(prefix) :])
    except ValueError:
        return None


def _enriched_parser(tag: str) -> Any:
    import orjson

    def parse(msg: Any) -> tuple[int, float, dict[str, float], int] | None:
        try:
            value = orjson.loads(msg.value)
            index = _index_of(value["article"]["id"], tag)
        except (ValueError, KeyError, TypeError):
            return None
        if index is None:
            return None
        return (
            index,
            msg.timestamp / 1000.0,
            value.get("timings_ms", {}),
            len(value.get("matches", [])),
        )

    return parse


def _alert_parser(tag: str) -> Any:
    import orjson

    def parse(msg: Any) -> tuple[int, float, dict[str, Any]] | None:
        try:
            value = orjson.loads(msg.value)
            article = value["related"][-1] if value.get("kind") == "update" else value["article"]
            index = _index_of(article["id"], tag)
        except (ValueError, KeyError, TypeError, IndexError):
            return None
        if index is None:
            return None
        return index, float(value["created_at"]), value

    return parse


# ---------------------------------------------------------------- a phase
@dataclass
class _Phase:
    name: str
    articles: list[BenchArticle]
    rate: float | None
    samples: list[dict[str, Any]] = field(default_factory=list)
    t_start: float = 0.0
    t_produced: float = 0.0
    t_done: float = 0.0
    drained: bool = False
    lag_end: int | None = None
    cpu_before: dict[str, float | None] = field(default_factory=dict)
    cpu_after: dict[str, float | None] = field(default_factory=dict)


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


async def _sample(run: _Run, phase: _Phase, stop: asyncio.Event) -> None:
    while not stop.is_set():
        t = time.time()
        try:
            lag, _ = await run.probe.lag()
        except Exception:  # a probe hiccup must not end the benchmark
            lag = -1
        run.collect_posts()
        phase.samples.append(
            {
                "t": t,
                "lag": lag,
                "rss": [proc_memory(pid).get("rss_mb") for pid in run.pids],
                "posts": run.posts_seen,
            }
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), run.options.sample_every_s)


async def _produce(run: _Run, phase: _Phase) -> None:
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
        run.sent_at[article.index] = now
    await run.producer.flush()


async def _wait_drained(run: _Run, phase: _Phase) -> bool:
    """Until the group committed everything and every expected post arrived (or no progress)."""
    expected = {a.index for a in phase.articles if a.rule is not None}
    last_progress, last_state = time.monotonic(), None
    while True:
        lag, _ = await run.probe.lag()
        run.collect_posts()
        missing = len(expected - run.posts.keys())
        if lag == 0 and missing == 0:
            return True
        state = (lag, missing)
        if state != last_state:
            last_progress, last_state = time.monotonic(), state
        elif time.monotonic() - last_progress > run.options.drain_timeout_s:
            return False
        await asyncio.sleep(0.2)


def _start_profiler(run: _Run, seconds: float) -> subprocess.Popen[bytes] | None:
    target = run.options.profile
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if target is None or not run.pids or not os.path.exists(pyspy):
        return None
    fmt = {".json": "speedscope", ".txt": "raw"}.get(target.suffix, "flamegraph")
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
        str(max(1, math.ceil(seconds))),
        "--nonblocking",
    ]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


async def _run_phase(run: _Run, phase: _Phase, *, profile: bool = False) -> dict[str, Any]:
    stop = asyncio.Event()
    phase.cpu_before = _cpu(run)
    sampler = asyncio.create_task(_sample(run, phase, stop))
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
    phase.cpu_after = _cpu(run)
    if profiler is not None:
        try:
            profiler.wait(30)
        except subprocess.TimeoutExpired:
            profiler.kill()
    enriched = await run.enriched.read_new()
    alerts = await run.alerts.read_new()
    return _report_phase(run, phase, enriched, alerts)


# ---------------------------------------------------------------- reporting
def _render_ms(alerts: list[dict[str, Any]]) -> list[float]:
    from alerts.render import Renderer
    from schemas.records import AlertRecord

    renderer = Renderer()
    records = [AlertRecord.model_validate(a) for a in alerts[:200]]
    if records:
        renderer.render(records[0], "slack")
    out = []
    for record in records:
        t0 = time.perf_counter()
        renderer.render(record, "slack")
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _report_phase(
    run: _Run, phase: _Phase, enriched: list[Any], alerts: list[Any]
) -> dict[str, Any]:
    indexes = {a.index for a in phase.articles}
    expected = {a.index for a in phase.articles if a.rule is not None}
    enr = {i: (ts, timings, n) for i, ts, timings, n in enriched if i in indexes}
    alert_at = {i: (created, value) for i, created, value in alerts if i in indexes}
    n = len(phase.articles)
    wall = phase.t_produced - phase.t_start
    done_ts = sorted(ts for ts, _, _ in enr.values())
    span = (done_ts[-1] - done_ts[0]) if len(done_ts) > 1 else 0.0
    throughput = (len(done_ts) - 1) / span if span > 0 else None

    def ms(values: list[float]) -> dict[str, Any]:
        return summary([v * 1000.0 for v in values])

    first_post = {i: min(run.posts[i]) for i in expected if run.posts.get(i)}
    e2e = [first_post[i] - run.sent_at[i] for i in first_post]
    to_enriched = [enr[i][0] - run.sent_at[i] for i in enr]
    enriched_to_alert = [alert_at[i][0] - enr[i][0] for i in alert_at if i in enr]
    alert_to_slack = [first_post[i] - alert_at[i][0] for i in first_post if i in alert_at]
    stage = {
        k: [t[k] for _, t, _ in enr.values() if k in t]
        for k in ("total", "clean", "language", "nlp", "record", "match")
    }

    posted_counts = {i: len(run.posts.get(i, [])) for i in expected}
    window = [s for s in phase.samples if phase.t_start + 2 <= s["t"] <= phase.t_produced]
    lag_slope = slope([(s["t"], s["lag"]) for s in window if s["lag"] >= 0])
    at_end = [s["lag"] for s in phase.samples if s["t"] <= phase.t_produced]
    offered = n / wall if wall > 0 else None
    keeps_up = bool(phase.drained and offered and lag_slope <= max(2.0, 0.03 * offered))
    elapsed = phase.t_done - phase.t_start
    cpu = {
        name: round(100.0 * (after - before) / elapsed, 1)
        for name, after in phase.cpu_after.items()
        if after is not None and (before := phase.cpu_before.get(name)) is not None and elapsed > 0
    }
    worker_cpu = sum(
        (phase.cpu_after.get(name) or 0.0) - (phase.cpu_before.get(name) or 0.0)
        for j in range(len(run.pids))
        for name in (f"worker-{j}", f"worker-{j}:children")
    )
    workers = []
    for j, pid in enumerate(run.pids):
        series = [s["rss"][j] for s in phase.samples if s["rss"][j] is not None]
        mem = proc_memory(pid)
        step = max(1, len(phase.samples) // 40)
        workers.append(
            {
                "pid": pid,
                "peak_rss_mb": mem.get("hwm_mb"),
                "rss_first_mb": series[0] if series else None,
                "rss_last_mb": series[-1] if series else None,
                "rss_min_mb": min(series) if series else None,
                "rss_max_mb": max(series) if series else None,
                "rss_drift_pct": round(100.0 * (series[-1] - series[0]) / series[0], 2)
                if series
                else None,
                "rss_series_mb": [
                    [round(s["t"] - phase.t_start), s["rss"][j]] for s in phase.samples[::step]
                ],
            }
        )
    return {
        "phase": phase.name,
        "articles": n,
        "matching_articles": len(expected),
        "rate_requested": phase.rate if phase.rate else "backlog",
        "rate_offered_articles_per_s": round(offered, 1) if offered else None,
        "throughput_articles_per_s": round(throughput, 1) if throughput else None,
        "keeps_up": keeps_up,
        "processed": len(enr),
        "duration_s": round(elapsed, 1),
        "consumer_lag": {
            "max": max((s["lag"] for s in phase.samples), default=None),
            "at_produce_end": at_end[-1] if at_end else None,
            "slope_per_s": round(lag_slope, 2),
            "end": phase.lag_end,
            "drained": phase.drained,
        },
        "latency_ms": {
            "end_to_end": ms(e2e),
            "produce_to_enriched": ms(to_enriched),
            "enriched_to_alert_decided": ms(enriched_to_alert),
            "alert_decided_to_slack": ms(alert_to_slack),
        },
        "stage_ms": {
            "enrich": summary(stage["total"], digits=2),
            "enrich_parts_mean": {
                k: round(sum(v) / len(v), 3)
                for k, v in stage.items()
                if v and k in ("clean", "language", "nlp", "record")
            },
            "match": summary(stage["match"], digits=2),
            "render": summary(_render_ms([v for _, v in alert_at.values()]), digits=2),
            "deliver": "alert_decided_to_slack latency (render + pacing + HTTP to the fake API)",
        },
        "slack": {
            "expected": len(expected),
            "posted": sum(1 for c in posted_counts.values() if c >= 1),
            "missing": sum(1 for c in posted_counts.values() if c == 0),
            "duplicates": sum(1 for c in posted_counts.values() if c > 1),
            "for_non_matching": sum(1 for i in run.posts if i in indexes and i not in expected),
            "unattributed": run.unexpected_posts,
            "rejected": len(rejected_posts(run.slack.slack)),
        },
        "cpu_pct": cpu,
        "worker_cpu_ms_per_article": round(1000.0 * worker_cpu / len(enr), 2) if enr else None,
        "workers": workers,
    }


# ---------------------------------------------------------------- orchestration
def _next_articles(run: _Run, n: int) -> list[BenchArticle]:
    o = run.options
    out = list(
        make_corpus(
            n,
            rules=o.rules,
            match_share=o.match_share,
            words=o.words,
            tag=run.tag,
            start=run.next_index,
        )
    )
    run.next_index += n
    return out


async def _measure(run: _Run) -> dict[str, Any]:
    o = run.options
    await run.probe.start()
    await run.enriched.start()
    await run.alerts.start()
    await run.producer.start()
    try:
        partitions = len(run.probe.partitions)
        warm_n = o.warmup if o.warmup is not None else max(40, 12 * partitions * o.workers)
        warm = await _run_phase(run, _Phase("warm-up", _next_articles(run, warm_n), None))
        phases: list[dict[str, Any]] = []
        if o.rate is not None:
            phases.append(
                await _run_phase(
                    run, _Phase("measured", _next_articles(run, o.count), o.rate), profile=True
                )
            )
            best = phases[-1]
        else:
            probe = await _run_phase(run, _Phase("backlog", _next_articles(run, o.count), None))
            phases.append(probe)
            rate = round(0.9 * (probe["throughput_articles_per_s"] or 10.0), 1)
            best = None
            for attempt in range(4):
                last = attempt == 3
                result = await _run_phase(
                    run,
                    _Phase(f"sustain@{rate}", _next_articles(run, o.count), rate),
                    profile=last,
                )
                phases.append(result)
                if result["keeps_up"]:
                    best = result
                    break
                rate = round(rate * 0.85, 1)
            best = best or phases[-1]
        return {"warm_up": _brief(warm), "phases": phases, "best": best}
    finally:
        await run.producer.stop()
        await run.alerts.stop()
        await run.enriched.stop()
        await run.probe.stop()


def _brief(phase: dict[str, Any]) -> dict[str, Any]:
    return {k: phase[k] for k in ("articles", "duration_s", "throughput_articles_per_s", "slack")}


def _loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def bench_e2e(base: Any, options: E2EOptions) -> dict[str, Any]:
    """Run the benchmark with settings ``base`` (env) and return the JSON-ready result."""
    from alerts.testing.slack import FakeSlack
    from streams.broker import EmbeddedBroker, free_port
    from streams.ingest.producer import ArticleProducer
    from streams.settings import Settings
    from streams.testing import SlackThread, WorkerProcess, settings_env
    from streams.topics import ensure_topics

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
    watchlist.write_text(
        json.dumps(bench_watchlist(options.rules, channels=options.channels), indent=1),
        encoding="utf-8",
    )
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
        t0 = time.monotonic()
        for j in range(options.workers):
            worker = WorkerProcess(env, web_port=free_port(), log_path=run_dir / f"worker-{j}.log")
            workers.append(worker.start())
        for worker in workers:
            worker.wait_ready(180)
        startup_s = time.monotonic() - t0
        pids = [w.proc.pid for w in workers]
        broker_pid = getattr(getattr(broker, "_proc", None), "pid", None)

        async def measure() -> dict[str, Any]:
            run = _Run(
                options=options,
                settings=settings,
                probe=KafkaProbe(bootstrap, settings.topic("articles.raw"), settings.app_id),
                enriched=TopicTail(
                    bootstrap, settings.topic("articles.enriched"), _enriched_parser(tag)
                ),
                alerts=TopicTail(bootstrap, settings.topic("alerts"), _alert_parser(tag)),
                slack=slack,
                producer=ArticleProducer(settings),
                tag=tag,
                pids=pids,
                broker_pid=broker_pid,
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
            "batch_size": base.batch_size,
            "broker": "embedded" if broker else bootstrap,
            "nlp": "fallback (blank spaCy pipelines + lookup lemmas + EntityRuler)",
        },
        "worker_startup_s": round(startup_s, 1),
        "summary": {
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
            "peak_rss_mb_per_worker": [w["peak_rss_mb"] for w in best["workers"]],
            "rss_drift_pct_per_worker": [w["rss_drift_pct"] for w in best["workers"]],
            "consumer_lag_end": best["consumer_lag"]["end"],
            "slack_posts": best["slack"],
        },
        "targets": _TARGETS,
        "warm_up": measured["warm_up"],
        "phases": measured["phases"],
    }


def run_bench_e2e(settings: Any, options: E2EOptions) -> int:
    """``newswatch bench e2e``: print the JSON result; exit 0 (1 if a phase did not drain)."""
    result = bench_e2e(settings, options)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    drained = all(p["consumer_lag"]["drained"] for p in result["phases"])
    return 0 if drained else 1

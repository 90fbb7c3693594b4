"""The phases of one ``bench e2e`` run: produce at a rate, sample, drain, and report."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from streams.tools.bench._report import Observed, Phase, post_articles, report_phase
from streams.tools.bench._stats import slope
from streams.tools.bench.corpus import BenchArticle, make_corpus, token_pattern

if TYPE_CHECKING:
    from streams.tools.bench.e2e import E2EOptions

__all__ = ["Run", "find_pyspy", "measure_run"]


@dataclass
class Run:
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
def _cpu(run: Run) -> dict[str, float | None]:
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


def _alert_state(run: Run) -> dict[str, Any]:
    """Keys in the alert-state tables, per worker and in total (None: not readable)."""
    from streams.testing import metric_value, scrape_metrics

    per_worker: list[dict[str, float | None]] = []
    for port in run.ports:
        try:
            samples = scrape_metrics(port)
        except Exception:  # a slow scrape must not end the benchmark
            per_worker.append({"policy": None, "sent": None})
            continue
        keys: dict[str, float | None] = {
            table: metric_value(samples, "newswatch_alert_state_keys", table=table)
            for table in ("policy", "sent")
        }
        # spaCy pipelines built so far (preloads, first-article loads, vocabulary rebuilds)
        keys["nlp_pipeline_loads"] = metric_value(samples, "newswatch_nlp_pipeline_loads")
        per_worker.append(keys)
    total = {
        table: sum(w[table] or 0 for w in per_worker)
        if all(w[table] is not None for w in per_worker)
        else None
        for table in ("policy", "sent")
    }
    return {"t": round(time.time(), 1), **total, "workers": per_worker}


async def _sample_state(run: Run, series: list[dict[str, Any]], stop: asyncio.Event) -> None:
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), run.options.state_every_s)
        if stop.is_set():
            return
        series.append(await asyncio.to_thread(_alert_state, run))


async def _sample(run: Run, phase: Phase, stop: asyncio.Event) -> None:
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


async def _produce(run: Run, phase: Phase) -> None:
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


async def _wait_drained(run: Run, phase: Phase) -> bool:
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


def find_pyspy() -> str | None:
    """The py-spy executable (``pip install py-spy``), if installed."""
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return found if os.path.exists(found) else None


def _start_profiler(run: Run, seconds: float) -> subprocess.Popen[bytes] | None:
    """py-spy on worker 0: only the thread holding the GIL (where its CPU time goes)."""
    target = run.options.profile
    pyspy = find_pyspy()
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


async def _run_phase(run: Run, phase: Phase, *, profile: bool = False) -> dict[str, Any]:
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


async def _idle_cpu(run: Run, seconds: float) -> dict[str, float]:
    """CPU % of each process while no article arrives: a worker's fixed cost (polls, timers)."""
    if seconds <= 0:
        return {}
    before, t0 = _cpu(run), time.monotonic()
    await asyncio.sleep(seconds)
    after, wall = _cpu(run), time.monotonic() - t0
    return {
        name: round(100.0 * (value - (before.get(name) or 0.0)) / wall, 1)
        for name, value in after.items()
        if value is not None and name != "bench"
    }


# ---------------------------------------------------------------- phases of a run
async def measure_run(run: Run) -> dict[str, Any]:
    """Warm up, then the measured phase (or the search for the sustained rate); the results."""
    o = run.options
    for part in (run.probe, run.enriched, run.alerts, run.producer):
        await part.start()
    try:
        partitions = len(run.probe.partitions)
        warm_n = o.warmup if o.warmup is not None else max(40, 12 * partitions * o.workers)
        warm = await _run_phase(run, Phase("warm-up", run.next_articles(warm_n), None))
        idle = await _idle_cpu(run, o.idle_s)
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
        return {
            "warm_up": brief,
            "idle_cpu_pct": idle,
            "phases": phases,
            "best": best,
            "produced": run.next_index,
        }
    finally:
        for part in (run.producer, run.alerts, run.enriched, run.probe):
            await part.stop()

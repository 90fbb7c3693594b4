"""``newswatch bench e2e --workers 1,2``: the same run per worker count, and how well it scales.

Each worker count is a complete ``bench_e2e`` run (own broker, topics, consumer group and
workers). Per count the comparison reports, from the measured phase (``rate=None``: the
best phase of the search):

* ``articles_per_cpu_s``: articles processed per CPU-second of all workers together
  (``1000 / worker_cpu_ms_per_article``): the design's efficiency, independent of how busy
  the machine is; the ratio of two counts says what coordination costs (≥ 0.9 is the target
  for 2 vs 1 worker);
* ``cpu_wait_share``: of the time the workers' threads wanted a CPU, the share they waited
  for one (``/proc/<pid>/task/*/schedstat``: wait / (run + wait)). Near 0 the machine had
  room; from ~0.3 on the box, not newswatch, sets the throughput;
* ``worker_idle_cpu_pct``: each worker's CPU while no article arrives (5 s after the warm-up:
  fetch polls, heartbeats, timers), the fixed cost a second worker adds, and
  ``worker_cpu_ms_per_article_net_of_idle``: the per-article CPU without that fixed cost;
* throughput, end-to-end p99, worker and broker CPU %, and the load average around the run.

Before the runs, ``box_calibration`` times the enrichment of fixed articles (the workers'
largest CPU share, no Kafka) alone and as n copies at once: on a shared 2-core machine n
CPU-bound processes may each need more CPU time for the same work. ``box_ratio`` is that
loss with no coordination at all; ``design_ratio`` = measured / box ratio is what is left
for newswatch's own overhead (consumer group, commits, standby tables, idle polls).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from typing import Any

from streams.tools.bench.e2e import E2EOptions, bench_e2e

__all__ = [
    "TARGET_RATIO",
    "bench_e2e_scale",
    "box_calibration",
    "ratios",
    "run_bench_e2e_scale",
    "scale_row",
]

#: Issue 15, target 6: n workers deliver ≥ 90 % of one worker's articles per CPU-second.
TARGET_RATIO = 0.9


def scale_row(result: dict[str, Any]) -> dict[str, Any]:
    """One worker count's comparison figures from a ``bench_e2e`` result (its best phase)."""
    phases = result["phases"]
    sustain = [p for p in phases if p["phase"].startswith("sustain@")]
    best = next((p for p in sustain if p["keeps_up"]), phases[-1])
    workers = result["config"]["workers"]
    cpu = best["cpu_pct"]
    run_pct = sum(
        cpu.get(f"worker-{j}", 0.0) + cpu.get(f"worker-{j}:children", 0.0) for j in range(workers)
    )
    wait_pct = sum(cpu.get(f"worker-{j}:waiting", 0.0) for j in range(workers))
    ms = best["worker_cpu_ms_per_article"]
    idle = result.get("idle_cpu_pct") or {}
    idle_pct = [
        round(idle.get(f"worker-{j}", 0.0) + idle.get(f"worker-{j}:children", 0.0), 1)
        for j in range(workers)
    ]
    net = None
    if ms and idle and best["processed"]:
        fixed_ms = sum(idle_pct) / 100.0 * best["duration_s"] * 1000.0
        net = round(ms - fixed_ms / best["processed"], 2)
    return {
        "workers": workers,
        "phase": best["phase"],
        "rate_offered_articles_per_s": best["rate_offered_articles_per_s"],
        "throughput_articles_per_s": best["throughput_articles_per_s"],
        "keeps_up": best["keeps_up"],
        "processed": best["processed"],
        "worker_cpu_ms_per_article": ms,
        "articles_per_cpu_s": round(1000.0 / ms, 1) if ms else None,
        "worker_idle_cpu_pct": idle_pct,
        "worker_cpu_ms_per_article_net_of_idle": net,
        "worker_cpu_pct": [cpu.get(f"worker-{j}") for j in range(workers)],
        "worker_waiting_pct": [cpu.get(f"worker-{j}:waiting") for j in range(workers)],
        "cpu_wait_share": round(wait_pct / (run_pct + wait_pct), 2) if run_pct + wait_pct else None,
        "broker_cpu_pct": cpu.get("broker"),
        "bench_cpu_pct": cpu.get("bench"),
        "e2e_p99_ms": best["latency_ms"]["end_to_end"]["p99"],
        "loadavg_before_after": [
            result["machine"]["loadavg_before"],
            result["machine"]["loadavg_after"],
        ],
    }


def ratios(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    """Articles per CPU-second of each count relative to the first (e.g. ``"2_vs_1"``)."""
    base = rows[0]
    out: dict[str, float | None] = {}
    for row in rows[1:]:
        key = f"{row['workers']}_vs_{base['workers']}"
        a, b = row["articles_per_cpu_s"], base["articles_per_cpu_s"]
        out[key] = round(a / b, 3) if a and b else None
    return out


#: The workers' largest CPU share, enrichment, on fixed generated articles (the benchmark
#: corpus); prints the CPU seconds of the measured part (after loading and a warm-up batch).
_BOX_TASK = """
import logging, time
logging.disable(logging.WARNING)
from schemas.records import RawArticle
from streams.enrich import EnrichConfig, Enricher
from streams.tools.bench.corpus import make_corpus
arts = [RawArticle(**a.fields) for a in make_corpus(ARTICLES + 32, rules=10, tag="nwbox")]
enricher = Enricher(EnrichConfig(languages=["de", "en", "fr"]))
enricher.enrich_batch(arts[:32])
t = time.process_time()
for i in range(32, len(arts), 32):
    enricher.enrich_batch(arts[i : i + 32])
print(time.process_time() - t)
"""


def box_calibration(counts: list[int], articles: int = 256) -> dict[str, Any]:
    """CPU seconds of one fixed task when ``n`` copies run at once, for each ``n`` in ``counts``.

    The task is the workers' own enrichment code on the same articles, without Kafka or any
    coordination: what the machine alone takes from per-CPU-second efficiency when n such
    processes compute at the same time (shared caches, memory bandwidth, other users).
    ``ratio["2_vs_1"]`` is the best a 2-worker run can reach on this box.
    """
    code = _BOX_TASK.replace("ARTICLES", str(articles))
    cpu: dict[int, float] = {}
    for n in sorted(set(counts)):
        procs = [
            subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
            for _ in range(n)
        ]
        outs = [float(p.communicate(timeout=600)[0]) for p in procs]
        cpu[n] = sum(outs) / len(outs)
    first = min(cpu)
    return {
        "task_cpu_s_per_copy": {str(n): round(v, 3) for n, v in cpu.items()},
        "ratio": {
            f"{n}_vs_{first}": round(cpu[first] / v, 3) for n, v in cpu.items() if n != first
        },
    }


def bench_e2e_scale(base: Any, options: E2EOptions, counts: list[int]) -> dict[str, Any]:
    """Run ``bench_e2e`` once per worker count in ``counts``; the runs and their comparison."""
    box = box_calibration(counts)
    runs = []
    for n in counts:
        keep = options.keep_dir / f"workers-{n}" if options.keep_dir is not None else None
        profile = options.profile
        if profile is not None:  # one profile per worker count: name-w2.svg
            profile = profile.with_name(f"{profile.stem}-w{n}{profile.suffix}")
        runs.append(bench_e2e(base, replace(options, workers=n, keep_dir=keep, profile=profile)))
    rows = [scale_row(r) for r in runs]
    compared = ratios(rows)
    return {
        "bench": "e2e-scale",
        "scale": rows,
        "articles_per_cpu_s_ratio": compared,
        # the same ratio for a task without any coordination: the machine's share of the loss
        "box_ratio": box["ratio"],
        # measured / box: what newswatch's own coordination leaves (1.0 = none lost)
        "design_ratio": {
            k: round(v / box["ratio"][k], 3) if v and box["ratio"].get(k) else None
            for k, v in compared.items()
        },
        "box_calibration": box,
        "target_ratio": TARGET_RATIO,
        "meets_target": all(v is not None and v >= TARGET_RATIO for v in compared.values())
        if compared
        else None,
        "runs": runs,
    }


def run_bench_e2e_scale(settings: Any, options: E2EOptions, counts: list[int]) -> int:
    """Print the JSON comparison; exit 0 (1 if a phase of a run did not drain)."""
    result = bench_e2e_scale(settings, options, counts)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    drained = all(p["consumer_lag"]["drained"] for r in result["runs"] for p in r["phases"])
    return 0 if drained else 1

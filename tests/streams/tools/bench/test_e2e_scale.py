"""``newswatch bench e2e --workers 1,2``: the comparison figures computed from each run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from streams.tools.bench.e2e_scale import box_calibration, ratios, scale_row

REPO = Path(__file__).resolve().parents[4]


def _result(workers: int, ms: float, cpu: dict[str, float], phases: list[str]) -> dict[str, Any]:
    """A ``bench_e2e`` result with only the fields the comparison reads."""
    rows = [
        {
            "phase": name,
            "rate_offered_articles_per_s": 50.0,
            "throughput_articles_per_s": 49.0,
            "keeps_up": name != "sustain@90.0",
            "processed": 1000,
            "duration_s": 20.0,
            "worker_cpu_ms_per_article": ms if name != "backlog" else 99.0,
            "cpu_pct": cpu,
            "latency_ms": {"end_to_end": {"p99": 210.0}},
        }
        for name in phases
    ]
    return {
        "config": {"workers": workers},
        "idle_cpu_pct": {f"worker-{j}": 2.0 for j in range(workers)},
        "machine": {"loadavg_before": [1.0, 1.0, 1.0], "loadavg_after": [1.5, 1.0, 1.0]},
        "phases": rows,
    }


def test_row_takes_cpu_per_article_and_the_wait_share_of_all_workers() -> None:
    """Two workers at 40 % CPU waiting 10 % each: wait share 0.2; 8 ms/article = 125/CPU-s."""
    cpu = {
        "worker-0": 40.0,
        "worker-0:waiting": 10.0,
        "worker-1": 30.0,
        "worker-1:children": 10.0,
        "worker-1:waiting": 10.0,
        "broker": 7.0,
    }
    row = scale_row(_result(2, 8.0, cpu, ["measured"]))
    assert row["articles_per_cpu_s"] == 125.0
    assert row["cpu_wait_share"] == 0.2
    assert row["worker_cpu_pct"] == [40.0, 30.0] and row["worker_waiting_pct"] == [10.0, 10.0]
    assert row["broker_cpu_pct"] == 7.0 and row["e2e_p99_ms"] == 210.0
    # two idle workers at 2 % each for 20 s: 0.8 CPU-s of 8 CPU-s over 1,000 articles
    assert row["worker_idle_cpu_pct"] == [2.0, 2.0]
    assert row["worker_cpu_ms_per_article_net_of_idle"] == 7.2


def test_rate_search_uses_the_first_sustained_phase() -> None:
    """With --rate max the row describes the first sustain phase that kept up, not the backlog."""
    phases = ["backlog", "sustain@90.0", "sustain@76.5"]
    row = scale_row(_result(1, 8.0, {"worker-0": 80.0, "worker-0:waiting": 0.0}, phases))
    assert row["phase"] == "sustain@76.5" and row["articles_per_cpu_s"] == 125.0


def test_ratio_is_relative_to_the_first_count() -> None:
    """Articles per CPU-second of 2 workers over 1 worker's."""
    rows = [
        {"workers": 1, "articles_per_cpu_s": 125.0},
        {"workers": 2, "articles_per_cpu_s": 112.5},
    ]
    assert ratios(rows) == {"2_vs_1": 0.9}


def test_bad_worker_list_is_a_usage_error() -> None:
    """--workers 1,x exits 2 with a message naming the option, no traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSWATCH_", "KAFKA_"))}
    cmd = [sys.executable, "-m", "streams.cli", "bench", "e2e", "--workers", "1,x"]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--workers" in done.stderr and "Traceback" not in done.stderr


def test_box_calibration_times_the_task_alone_and_in_parallel() -> None:
    """One and two copies of the fixed task each report CPU seconds; the ratio compares them."""
    box = box_calibration([2, 1], articles=32)
    cpu = box["task_cpu_s_per_copy"]
    assert set(cpu) == {"1", "2"} and all(v > 0 for v in cpu.values())
    # the ratio comes from the unrounded times: it lies within what the rounded ones allow
    h = 0.0005  # both are rounded to 3 decimals
    low, high = (cpu["1"] - h) / (cpu["2"] + h), (cpu["1"] + h) / (cpu["2"] - h)
    assert low - h <= box["ratio"]["2_vs_1"] <= high + h

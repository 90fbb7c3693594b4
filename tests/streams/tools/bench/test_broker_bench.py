"""``newswatch bench broker``: one small real run on the embedded broker, and its arguments."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[4]


def _run(args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSWATCH_", "KAFKA_"))}
    cmd = [sys.executable, "-m", "streams.cli", "bench", "broker", *args.split()]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.broker
def test_small_run_reports_each_stored_size() -> None:
    """Two sizes, two partitions: per size the fetch times of every record and the broker's CPU."""
    done = _run("--stored 60,20 --partitions 2 --rate 20 --seconds 0.5 --record-bytes 200")
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["bench"] == "broker" and result["config"]["partitions"] == 2
    assert [s["stored_records"] for s in result["sizes"]] == [20, 60]
    for size in result["sizes"]:
        assert size["records"] == 10
        assert size["fetch_latency_ms"]["n"] == 10
        assert 0 < size["fetch_latency_ms"]["p50"] <= size["fetch_latency_ms"]["max"]
        assert size["broker_cpu_pct"] >= 0 and size["broker_rss_mb"] > 0
        assert len(size["loadavg"]) == 3
    assert result["sizes"][1]["stored_batches_per_partition"] == 30


@pytest.mark.broker
def test_rotating_run_keeps_the_stored_records_under_the_bound() -> None:
    """--rotate 1000: 3,000 records produced, the topic rotated and at most ~1,000 kept."""
    done = _run(
        "--stored 1500,3000 --rotate 1000 --partitions 2 --rate 20 --seconds 0.5 --record-bytes 200"
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["config"]["rotate_records"] == 1000
    last = result["sizes"][-1]
    assert last["produced_records"] == 3000 + 10  # the fill tops up to 3,000, then 10 measured
    assert last["rotations"] >= 2
    assert last["stored_now"] <= 1000 + 10
    assert last["fetch_latency_ms"]["n"] == 10


def test_bad_stored_list_is_a_usage_error() -> None:
    """--stored that is not a list of counts exits 2 with a message, no traceback."""
    done = _run("--stored ten")
    assert done.returncode == 2
    assert "--stored" in done.stderr and "Traceback" not in done.stderr

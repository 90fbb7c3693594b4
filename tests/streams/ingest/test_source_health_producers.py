"""Source health of non-feed producers on the real broker: a JSONL source that stops goes
silent in two separate workers (one ops alert, one recovery), a file that turns invalid shows
consecutive failures with its last error, and the number of tracked sources is bounded."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from test_source_health_broker import WATCHLIST, _kinds, _ops_alerts

from schemas.records import AlertRecord
from streams.kafka.broker import EmbeddedBroker, free_port
from streams.kafka.follow import read_whole_topic
from streams.pipeline.arrivals import ARRIVAL_GAUGES, SourceArrivals
from streams.pipeline.metrics import Metrics
from streams.settings import Settings
from streams.testing import (
    WorkerProcess,
    metric_value,
    scrape_metrics,
    settings_env,
    wait_until,
)

pytestmark = pytest.mark.broker


def _jsonl(path: Path, source: str, count: int = 1) -> Path:
    """Write ``count`` fresh articles of ``source`` to ``path``."""
    lines = []
    for _ in range(count):
        tag = uuid.uuid4().hex[:10]
        article = {"id": f"{source}-{tag}", "title": f"Notice {tag}", "text": "Routine notice."}
        lines.append(json.dumps({**article, "source": source}))
    path.write_text("\n".join(lines) + "\n")
    return path


def _ingest(env: dict[str, str], *paths: Path) -> subprocess.CompletedProcess[str]:
    """``newswatch ingest PATHS`` as a one-shot producer process."""
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", "ingest", *map(str, paths)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _sources(env: dict[str, str]) -> dict[str, dict]:
    """``newswatch sources --json`` by source name."""
    shown = subprocess.run(
        [sys.executable, "-m", "streams.cli", "sources", "--json"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return {r["source"]: r for r in json.loads(shown.stdout)["sources"]}


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    # English articles, only ``en`` known (no language detector): the detector's models for
    # 23 languages would cost each worker start seconds of CPU, testing nothing here
    return {
        **settings_env(settings),
        "NEWSWATCH_LANGUAGES": "en",
        "NEWSWATCH_DETECT_PACK_LANGUAGES": "false",
        **extra,
    }


def test_jsonl_source_that_stops_goes_silent_once_for_two_separate_workers(
    broker: EmbeddedBroker, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """One-shot `newswatch ingest` runs feed a JSONL source, then stop: two workers (other
    processes, one consumer group) both see it silent, one ops alert is delivered; produced
    again: one recovery, nothing more."""
    (tmp_path / "watchlist.yaml").write_text(WATCHLIST)
    settings = make_settings(broker, watchlist=tmp_path / "watchlist.yaml", partitions=2)
    env = _env(settings, NEWSWATCH_SOURCE_SILENT_FACTOR="2", NEWSWATCH_SOURCE_MIN_SILENT="6")
    workers = [
        WorkerProcess(env, web_port=free_port(), log_path=tmp_path / f"worker-{n}.log")
        for n in range(2)
    ]
    logs = lambda: "\n".join(w.log_tail(20) for w in workers)  # noqa: E731
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.wait_ready(180)
        for _ in range(5):
            assert _ingest(env, _jsonl(tmp_path / "wire.jsonl", "wire-jsonl")).returncode == 0
            time.sleep(0.5)
        assert _ops_alerts(settings) == [], _kinds(settings)
        opened = [("wire-jsonl:silent", False)]
        assert wait_until(lambda: _kinds(settings) == opened, 90), logs()
        row = _sources(env)["wire-jsonl"]
        assert row["status"] == "silent" and row["seen_by"] == "ingest+worker", row

        def seen() -> list[int]:
            return [w.log_path.read_text().count("wire-jsonl has gone silent") for w in workers]

        assert wait_until(lambda: seen() == [1, 1], 15), seen()  # each worker opened it ...
        time.sleep(2)
        assert _kinds(settings) == opened  # ... and the lanes delivered it once
        for worker in workers:
            metrics = scrape_metrics(worker.web_port)
            incident = metric_value(
                metrics, "newswatch_source_incident", source="wire-jsonl", kind="silent"
            )
            assert incident == 1.0, metrics
        assert _ingest(env, _jsonl(tmp_path / "wire.jsonl", "wire-jsonl")).returncode == 0
        closed = [("wire-jsonl:silent", False), ("wire-jsonl:silent", True)]
        assert wait_until(lambda: _kinds(settings) == closed, 60), logs()
        for _ in range(4):  # the source lives on: nothing more is alerted
            assert _ingest(env, _jsonl(tmp_path / "wire.jsonl", "wire-jsonl")).returncode == 0
        assert _kinds(settings) == closed
    finally:
        for worker in workers:
            worker.stop()
    recovery = next(a for a in _ops_alerts(settings) if ":recovered:" in a["article"]["id"])
    assert recovery["article"]["title"].startswith("Recovered: source wire-jsonl was silent")


def test_invalid_file_source_shows_consecutive_failures_and_the_last_error(
    broker: EmbeddedBroker, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """A JSONL file read fine once, then invalid on three runs: its source shows 3 failures
    in a row and the parse error; one failing alert on `alerts`; fixed: one recovery."""
    (tmp_path / "watchlist.yaml").write_text(WATCHLIST)
    settings = make_settings(broker, watchlist=tmp_path / "watchlist.yaml", partitions=1)
    env = _env(settings, NEWSWATCH_SOURCE_FAIL_AFTER="2")
    path = _jsonl(tmp_path / "desk.jsonl", "desk-file", count=2)
    assert _ingest(env, path).returncode == 0
    assert _sources(env)["desk-file"]["status"] == "healthy"
    for _ in range(3):
        path.write_text("{not json at all\n")
        run = _ingest(env, path)
        assert run.returncode == 1, run.stderr
    row = _sources(env)["desk-file"]
    assert row["status"] == "failing" and row["consecutive_failures"] == 3, (row, run.stderr)
    assert row["last_error"].startswith(f"{path}:1:"), row
    assert row["items_last_fetch"] == 2 and row["last_success"], row
    missing = tmp_path / "gone.jsonl"
    assert _ingest(env, missing).returncode == 1
    assert "no such file" in _sources(env)[str(missing)]["last_error"]
    _jsonl(path, "desk-file", count=3)
    assert _ingest(env, path).returncode == 0
    row = _sources(env)["desk-file"]
    assert row["status"] == "healthy" and row["consecutive_failures"] == 0, row
    alerts = [
        AlertRecord.model_validate_json(v)
        for _, v in asyncio.run(read_whole_topic(broker.bootstrap_servers, settings.topics.alerts))
        if v
    ]
    kinds = sorted((a.article.source, a.article.id.split(":")[2]) for a in alerts)
    assert kinds == [("desk-file", "opened"), ("desk-file", "recovered")], kinds


def test_tracked_sources_are_capped_with_an_other_row(
    broker: EmbeddedBroker, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """Eight sources with NEWSWATCH_SOURCE_MAX_TRACKED=3: the producer's and the worker's
    rows and the /metrics labels are the first three plus `other`, which counts the rest."""
    settings = make_settings(broker, partitions=2, source_max_tracked=3)
    env = _env(settings, NEWSWATCH_SOURCE_MAX_TRACKED="3")
    feed = tmp_path / "many.jsonl"
    feed.write_text("".join(_jsonl(tmp_path / "x", f"s{i}").read_text() for i in range(8)))
    assert _ingest(env, feed).returncode == 0
    assert set(_sources(env)) == {"s0", "s1", "s2", "other"}
    metrics = Metrics()

    async def follow() -> dict[str, int]:
        arrivals = SourceArrivals.from_settings(
            settings,
            lambda *_: asyncio.sleep(0),
            bootstrap=broker.bootstrap_servers,
            on_rows=functools.partial(metrics.sources_health, only=ARRIVAL_GAUGES),
        )
        await arrivals.start()
        try:
            for _ in range(100):
                await arrivals.check(lambda: asyncio.sleep(0))
                if sum(s.new_items for s in arrivals.health.sources.values()) >= 8:
                    break
                await asyncio.sleep(0.1)
        finally:
            await arrivals.stop()
        return {name: s.new_items for name, s in arrivals.health.sources.items()}

    counts = asyncio.run(follow())
    assert sorted(counts.values()) == [1, 1, 1, 5] and counts.get("other") == 5, counts
    exposed = [
        line
        for line in scrape_text(metrics).splitlines()
        if line.startswith("newswatch_source_items_today{")
    ]
    labels = sorted(line.split('source="')[1].split('"')[0] for line in exposed)
    assert len(labels) == 4 and "other" in labels, labels


def scrape_text(metrics: Metrics) -> str:
    """The registry of ``metrics`` in the text exposition format."""
    from prometheus_client import generate_latest

    return generate_latest(metrics.registry).decode()

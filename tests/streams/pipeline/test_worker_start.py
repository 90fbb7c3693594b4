"""A healthy worker start on the embedded broker logs no ERROR."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from streams.kafka.broker import EmbeddedBroker, free_port
from streams.kafka.topics import ensure_topics
from streams.settings import Settings
from streams.testing import WorkerProcess, local_watchlist, settings_env

pytestmark = pytest.mark.broker


def test_healthy_worker_start_logs_no_error_and_dumps_its_state_on_request(
    broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Start, idle, `kill -USR1`/`-QUIT`, stop: no ERROR line (was: keepalive), a full dump.

    The dump (consumer partitions with offsets, generators, tasks, threads) is how a stuck
    worker is diagnosed; one worker start serves both checks (the suite's time budget).
    """
    tag = uuid.uuid4().hex[:8]
    tmp = tmp_path_factory.mktemp("start")
    settings = Settings.load(
        kafka_bootstrap_servers=broker.bootstrap_servers,
        data_dir=tmp / "data",
        app_id=f"nw-start-{tag}",
        topic_prefix=f"st{tag}.",
        partitions=2,
        session_timeout_s=4.0,
        log_level="info",
        watchlist=local_watchlist(tmp / "wl"),  # every channel it names is configured
        alert_channels=["console", "file"],
    )
    asyncio.run(ensure_topics(settings))
    log_path = tmp / "worker.log"
    worker = WorkerProcess(settings_env(settings), web_port=free_port(), log_path=log_path)
    worker.start()
    try:
        worker.wait_ready(120)
        time.sleep(6.0)  # the keepalive complains within seconds of a blocked loop
        worker.dump_stacks()
        time.sleep(2.0)
        worker.wait_ready(10)  # still serving after the dump
    finally:
        worker.stop()
    log = log_path.read_text(encoding="utf-8", errors="replace")
    errors = [line for line in log.splitlines() if "[ERROR]" in line or '"level": "error"' in line]
    assert errors == [], "\n".join(errors)
    assert "Thread keepalive is not responding" not in log
    raw = settings.topic("articles.raw")
    assert "SIGUSR1: consumer: flow_active=True" in log
    assert f"{raw}[0] active=True" in log and "kafka: position=" in log
    assert "agent enrich-match: queue=0/1024" in log
    assert "Stream.take_events line" in log  # where the batching generator waits
    assert "memory: rss " in log and "most numerous: builtins." in log
    assert "Stack for <Task" in log  # mode's task dump
    assert "most recent call first" in log  # faulthandler's thread dump

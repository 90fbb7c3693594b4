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


def test_healthy_worker_start_logs_no_error(
    broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Start, become ready, idle a few seconds, stop: not one ERROR line (was: keepalive)."""
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
    finally:
        worker.stop()
    log = log_path.read_text(encoding="utf-8", errors="replace")
    errors = [line for line in log.splitlines() if "[ERROR]" in line or '"level": "error"' in line]
    assert errors == [], "\n".join(errors)
    assert "Thread keepalive is not responding" not in log

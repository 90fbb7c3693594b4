"""The embedded broker's memory watch: one warning per doubling of its RSS, and it stops."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from streams.kafka.broker import EmbeddedBroker, free_port
from streams.kafka.broker_watch import MemoryWatch, rss_mb


def test_warns_once_per_threshold_passed(caplog: pytest.LogCaptureFixture) -> None:
    """A process above 1 MB: one warning naming the way out, none again until RSS doubles."""
    watch = MemoryWatch(os.getpid(), first_mb=1.0, interval_s=3600)
    rss = rss_mb(os.getpid())
    assert rss is not None and rss > 1.0
    with caplog.at_level(logging.WARNING, logger="streams.kafka.broker_watch"):
        watch.check()
        watch.check()
    assert watch.warnings == 1 and watch.next_mb > rss
    (record,) = caplog.records
    assert "KAFKA_BOOTSTRAP_SERVERS" in record.getMessage()


def test_a_gone_process_is_not_an_error() -> None:
    """No /proc entry (the broker exited): no reading, no warning, no exception."""
    watch = MemoryWatch(2**22 + 12345, first_mb=0.0)
    watch.check()
    assert watch.warnings == 0


@pytest.mark.broker
def test_embedded_broker_runs_its_watch_while_it_runs(tmp_path: Path) -> None:
    """start() starts the watch on the broker's pid; stop() ends the watch thread."""
    broker = EmbeddedBroker(port=free_port(), log_path=tmp_path / "b.log").start()
    try:
        watch = broker._watch
        assert watch is not None and watch.pid == broker.pid
        assert watch._thread.is_alive()
    finally:
        broker.stop()
    assert not watch._thread.is_alive()

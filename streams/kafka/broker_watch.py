"""Warns when the embedded broker's memory passes a threshold (it never frees records).

Tansu 0.6's memory storage keeps every record until its topic is deleted: no retention, no
DeleteRecords; newswatch rotates topics (``streams/kafka/janitor.py``), which a stopped
worker holds (docs/kafka.md, "Limits of the embedded broker"). ``MemoryWatch`` reads the
broker's RSS every ``interval_s`` and logs one warning per threshold crossed (1, 2, 4,
8 … GB by default), naming the way out: a Kafka cluster via ``KAFKA_BOOTSTRAP_SERVERS``.
"""

from __future__ import annotations

import logging
import threading

__all__ = ["MemoryWatch", "rss_mb"]

log = logging.getLogger(__name__)


def rss_mb(pid: int) -> float | None:
    """Resident memory of ``pid`` in MB (``/proc/<pid>/status``), None if it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError):
        return None
    return None


class MemoryWatch:
    """A daemon thread that logs a warning each time the broker's RSS doubles past ``first_mb``."""

    def __init__(self, pid: int, *, first_mb: float = 1024.0, interval_s: float = 60.0) -> None:
        self.pid = pid
        self.next_mb = first_mb
        self.interval_s = interval_s
        self.warnings = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="broker-memory-watch", daemon=True)

    def start(self) -> MemoryWatch:
        """Start watching."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching (returns once the thread has ended)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5.0)

    def check(self) -> None:
        """One reading: warn once for each threshold the RSS has passed since the last one."""
        rss = rss_mb(self.pid)
        if rss is None or rss < self.next_mb:
            return
        while rss >= self.next_mb:
            self.next_mb *= 2
        self.warnings += 1
        log.warning(
            "embedded broker uses %.0f MB: Tansu 0.6 keeps a topic's records until newswatch "
            "rotates it (NEWSWATCH_BROKER_ROTATE_RECORDS, once the workers have read it all) "
            "or the broker stops; a stopped worker or another consumer group holds rotation; "
            "for long runs use a Kafka cluster (KAFKA_BOOTSTRAP_SERVERS), see docs/kafka.md",
            rss,
        )

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.check()

"""The source monitor of a feed loop: health bookkeeping, ops alerts, the status file.

``SourceMonitor.check`` evaluates the health after each fetch, sends each incident that
opened or recovered as an ops alert (``streams.ingest.ops``) to the watch-list's
``ops_channels`` and rewrites ``DATA_DIR/sources.json`` (what ``newswatch sources`` shows).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from schemas.topics import Topics
from streams.ingest.health import HealthPolicy, SourceHealth
from streams.ingest.ops import Send, send_incident
from streams.settings import Settings

__all__ = ["SOURCES_FILE", "SourceMonitor", "read_sources"]

log = logging.getLogger(__name__)

SOURCES_FILE = "sources.json"


def _ops_channels(settings: Settings) -> list[str]:
    try:
        from streams.watchlist.load import load_watchlist

        return list(load_watchlist(settings.watchlist).model.ops_channels)
    except Exception as exc:  # the worker reports a bad watch-list; here: log only
        log.warning("source health: no ops channels (watch-list not loaded: %s)", exc)
        return []


class SourceMonitor:
    """Health of the polled sources, their ops alerts and the status file."""

    def __init__(
        self,
        health: SourceHealth,
        send: Send,
        topics: Topics,
        *,
        channels: list[str],
        path: Path,
    ) -> None:
        self.health = health
        self.send = send
        self.topics = topics
        self.channels = channels
        self.path = path
        self.alerts_sent = 0
        self.on_rows: Callable[[list[dict[str, Any]]], None] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, send: Send) -> SourceMonitor:
        """A monitor with the thresholds, topics and ops channels of ``settings``."""
        policy = HealthPolicy(
            fail_after=settings.source_fail_after,
            silent_factor=settings.source_silent_factor,
            min_silent_s=settings.source_min_silent_s,
        )
        return cls(
            SourceHealth(policy),
            send,
            settings.topics,
            channels=_ops_channels(settings),
            path=Path(settings.data_dir) / SOURCES_FILE,
        )

    async def check(self, flush: Callable[[], Awaitable[None]]) -> None:
        """Evaluate, send the incidents' ops alerts, rewrite the status file."""
        incidents = self.health.evaluate()
        for incident in incidents:
            url = incident.source if "://" in incident.source else None
            if await send_incident(self.send, self.topics, incident, self.channels, url=url):
                self.alerts_sent += 1
        if incidents:
            await flush()
        self.write()

    def write(self) -> None:
        """Write every source's row to the status file (atomically)."""
        now = time.time()
        rows = [s.snapshot(now, self.health.policy.min_gaps) for s in self.health.sources.values()]
        if self.on_rows is not None:
            self.on_rows(rows)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"written_at": now, "sources": rows}, indent=1))
        os.replace(tmp, self.path)


def read_sources(data_dir: Path) -> dict[str, object]:
    """The status file of the feed loop (empty when none ran)."""
    path = Path(data_dir) / SOURCES_FILE
    if not path.exists():
        return {"written_at": None, "sources": []}
    data = json.loads(path.read_text())
    return data if isinstance(data, dict) else {"written_at": None, "sources": []}

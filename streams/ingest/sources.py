"""The source monitor of a feed loop: health bookkeeping, ops alerts, the status file.

``SourceMonitor.check`` evaluates the health after each fetch, sends each incident that
opened or recovered as an ops alert (``streams.ingest.ops``) to the watch-list's
``ops_channels`` and rewrites ``DATA_DIR/sources.json`` (what ``newswatch sources`` shows).

The file is also the memory of one-shot producers (``newswatch ingest FILE`` from cron): a
monitor starts from the rows it finds there (failures in a row, last error, open incidents,
which sources each file produced), so a file that fails on every run shows its consecutive
failures and raises its ops alert once. One producer process per ``DATA_DIR`` writes it.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from schemas.topics import Topics
from streams.ingest.health import ALL_KINDS, HealthPolicy, SourceHealth, SourceStats
from streams.ingest.ops import Send, send_incident
from streams.settings import Settings

__all__ = [
    "SOURCES_FILE",
    "SourceMonitor",
    "health_policy",
    "ops_channels",
    "read_sources",
    "restore_stats",
]

log = logging.getLogger(__name__)

SOURCES_FILE = "sources.json"


def ops_channels(settings: Settings) -> list[str]:
    try:
        from streams.watchlist.load import load_watchlist

        return list(load_watchlist(settings.watchlist).model.ops_channels)
    except Exception as exc:  # the worker reports a bad watch-list; here: log only
        log.warning("source health: no ops channels (watch-list not loaded: %s)", exc)
        return []


def health_policy(settings: Settings) -> HealthPolicy:
    """The incident thresholds and the source cap of ``settings``."""
    return HealthPolicy(
        fail_after=settings.source_fail_after,
        silent_factor=settings.source_silent_factor,
        min_silent_s=settings.source_min_silent_s,
        max_sources=settings.source_max_tracked,
    )


def restore_stats(stats: SourceStats, row: dict[str, Any]) -> None:
    """Take back the state of a ``snapshot`` row (a one-shot producer's last run)."""
    for key in ("last_success", "last_new_item"):
        value = row.get(key)
        setattr(stats, key, float(value) if isinstance(value, (int, float)) else None)
    stats.last_fetch = stats.last_success
    stats.failures = int(row.get("consecutive_failures") or 0)
    stats.last_error = row.get("last_error") if isinstance(row.get("last_error"), str) else None
    items = row.get("items_last_fetch")
    stats.items_last_fetch = items if isinstance(items, int) else None
    stats.fetches = int(row.get("fetches") or 0)
    stats.fetches_with_items = int(row.get("fetches_with_items") or 0)
    stats.new_items = int(row.get("new_items") or 0)
    since = row.get("incident_since")
    if isinstance(since, dict):
        stats.open = {k: float(v) for k, v in since.items() if k in stats.alerts}


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
        #: Which record sources each local file (or ``<stdin>``) produced at its last read.
        self.origins: dict[str, list[str]] = {}
        self.seen_by = "ingest"
        #: Resolves the ops channels when an incident is to be sent (None: ``channels``).
        self.route: Callable[[], list[str]] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, send: Send) -> SourceMonitor:
        """A monitor with the thresholds, topics and ops channels of ``settings``.

        It starts from the rows of ``DATA_DIR/sources.json`` (see the module docstring).
        """
        monitor = cls(
            SourceHealth(health_policy(settings)),
            send,
            settings.topics,
            channels=ops_channels(settings),
            path=Path(settings.data_dir) / SOURCES_FILE,
        )
        monitor.restore()
        return monitor

    def restore(self) -> None:
        """Load the rows and origins of the status file, if any (a bad file is ignored)."""
        try:
            data = read_sources(self.path.parent)
        except (OSError, ValueError) as exc:
            log.warning("source health: ignoring %s: %s", self.path, exc)
            return
        rows = data.get("sources")
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict) and isinstance(row.get("source"), str):
                stats = self.health.stats(row["source"], str(row.get("kind") or "feed"))
                kinds = row.get("incident_kinds")
                if isinstance(kinds, list):
                    stats.alerts = frozenset(k for k in kinds if k in ALL_KINDS)
                restore_stats(stats, row)
        origins = data.get("origins")
        if isinstance(origins, dict):
            self.origins = {str(k): [str(s) for s in v] for k, v in origins.items() if v}

    async def check(self, flush: Callable[[], Awaitable[None]]) -> None:
        """Evaluate, send the incidents' ops alerts, rewrite the status file."""
        incidents = self.health.evaluate()
        if incidents and self.route is not None:
            self.channels = self.route()
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
        for row in rows:
            row["seen_by"] = self.seen_by
        if self.on_rows is not None:
            self.on_rows(rows)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        data = {"written_at": now, "sources": rows, "origins": self.origins}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(data, indent=1))
            os.replace(tmp, self.path)
        except OSError as exc:  # health must never stop a producer or a worker
            log.warning("source health: cannot write %s: %s", self.path, exc)


def read_sources(data_dir: Path, name: str = SOURCES_FILE) -> dict[str, object]:
    """A status file (``sources.json`` of the producers by default; empty when none ran)."""
    path = Path(data_dir) / name
    if not path.exists():
        return {"written_at": None, "sources": []}
    data = json.loads(path.read_text())
    return data if isinstance(data, dict) else {"written_at": None, "sources": []}

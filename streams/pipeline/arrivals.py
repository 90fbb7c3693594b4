"""Source health from what arrives on ``articles.raw``: every source, whoever produced it.

Decision (issue 17): producers run anywhere (``newswatch ingest`` from cron or another
host, the feed loop of ``newswatch run``, kcat), so the one place that sees every source is
the worker. Each worker follows the whole ``articles.raw`` (every partition, no consumer
group, like ``alerts.silences``) and keeps per record ``source``: the last new item (the
record's ``ingested_at``, else its Kafka timestamp), new items per day against the source's
own baseline and its usual gap between items (an article id counts once: a file produced
again by every cron run does not hide that nothing new arrives). Reading every partition,
not only those the worker enriches, gives every worker the same complete view: a source is
never "silent" on one worker because its articles hashed to another's partitions, any
worker's ``/metrics`` shows every source, and an incident starts at a time taken from the
data, so every worker builds the same ops alert id and the deliver lanes' sent-state sends
it once. At start the follower reads what the topic retains, which rebuilds the baselines
after a restart. The cost: each worker decodes every raw record a second time.

Ops alerts from here: ``silent`` and ``low_volume`` (same ``ops_channels`` route and policy
as the feed loop's). Not for records of a polled feed (``text_origin`` feed_*): the feed
loop watches those and can tell why they are quiet (failing, zero items); they are still
tracked here (``/metrics``, ``newswatch sources``). The rows are written to
``DATA_DIR/sources.worker.json`` for ``newswatch sources``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import orjson

from streams.ingest.health import ARRIVAL_KINDS, OTHER, SourceHealth
from streams.ingest.local_health import UNKNOWN_SOURCE
from streams.ingest.ops import Send
from streams.ingest.sources import SourceMonitor, health_policy, ops_channels
from streams.kafka.follow import TopicFollower
from streams.settings import Settings

__all__ = ["ARRIVAL_GAUGES", "SOURCE_CHECK_S", "WORKER_SOURCES_FILE", "SourceArrivals"]

log = logging.getLogger(__name__)

WORKER_SOURCES_FILE = "sources.worker.json"
#: Seconds between two evaluations (cheap: at most ``NEWSWATCH_SOURCE_MAX_TRACKED`` rows).
SOURCE_CHECK_S = 2.0
#: Article ids remembered to count each article once (a re-produced id is not a new item).
SEEN_IDS = 100_000
#: The gauges a worker sets (it sees no fetch: failures, items per fetch are the producer's).
ARRIVAL_GAUGES = ("last_new_item", "items_today", "baseline_per_day")


class _TimedFollower(TopicFollower):
    """A follower that also hands over each record's timestamp (seconds)."""

    def __init__(self, on_value: Callable[[bytes | None, float], None], **kwargs: Any) -> None:
        super().__init__(on_record=lambda k, v: None, **kwargs)
        self.on_value = on_value

    def _deliver(self, batch: Mapping[Any, Any]) -> None:
        for records in batch.values():
            for record in records:
                try:
                    self.on_value(record.value, (record.timestamp or 0) / 1000.0)
                except Exception:  # a bad record must not stop the follower
                    log.exception("bad record on %s at offset %s", self.topic, record.offset)


class SourceArrivals:
    """Per-source health of ``articles.raw`` in this worker, its ops alerts and status file."""

    def __init__(
        self,
        monitor: SourceMonitor,
        *,
        bootstrap: str,
        topic: str,
        client: Mapping[str, Any] | None = None,
        channels: Callable[[], list[str]] = list,
    ) -> None:
        self.monitor = monitor
        self.monitor.route = channels
        self.health = monitor.health
        self.health.alerts = ARRIVAL_KINDS
        self.follower = _TimedFollower(
            self.on_value, bootstrap=bootstrap, topic=topic, client=client
        )
        self._task: asyncio.Task[None] | None = None
        self._seen: dict[str, None] = {}  # insertion-ordered: the oldest id goes first

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        send: Send,
        *,
        bootstrap: str,
        client: Mapping[str, Any] | None = None,
        on_rows: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> SourceArrivals:
        """The arrivals of ``settings``' ``articles.raw``; ops alerts through ``send``."""
        monitor = SourceMonitor(
            SourceHealth(health_policy(settings)),
            send,
            settings.topics,
            channels=[],
            path=Path(settings.data_dir) / WORKER_SOURCES_FILE,
        )
        monitor.seen_by = "worker"
        monitor.on_rows = on_rows
        return cls(
            monitor,
            bootstrap=bootstrap,
            topic=settings.topics.raw,
            client=client,
            channels=lambda: ops_channels(settings),
        )

    def on_value(self, value: bytes | None, timestamp: float) -> None:
        """Count one record of ``articles.raw`` as a new item of its source.

        Not counted: a record that is not a JSON object, a replayed one, an article id seen
        among the last ``SEEN_IDS``.
        """
        if not value:
            return
        try:
            data = orjson.loads(value)
        except orjson.JSONDecodeError:
            return
        if not isinstance(data, dict) or data.get("replayed") is True:
            return
        article_id = data.get("id")
        if isinstance(article_id, str):  # a file produced again by every cron run is not new
            if article_id in self._seen:
                return
            self._seen[article_id] = None
            if len(self._seen) > SEEN_IDS:
                del self._seen[next(iter(self._seen))]
        source = data.get("source")
        name = " ".join(source.split())[:512] if isinstance(source, str) else ""
        at = data.get("ingested_at")
        at = float(at) if isinstance(at, (int, float)) and at > 0 else timestamp or time.time()
        feed = data.get("text_origin") in ("feed_content", "feed_summary")
        stats = self.health.stats(name or UNKNOWN_SOURCE, "feed" if feed else "producer")
        if feed and stats.name != OTHER:
            stats.alerts = frozenset()
        self.health.new_items(stats.name, 1, kind=stats.kind, now=at)

    async def start(self) -> None:
        """Read the retained records and follow, in the background (never delays readiness)."""
        self._task = asyncio.create_task(self._follow(), name="source-arrivals")

    async def _follow(self) -> None:
        while True:
            try:
                await self.follower.start(catch_up_s=60.0)
                log.info("source health: %d sources on articles.raw", len(self.health.sources))
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker probe reports an unreachable broker
                log.warning("source health: cannot follow articles.raw (retrying): %s", exc)
                await asyncio.sleep(5.0)

    async def stop(self) -> None:
        """Stop following (safe to call twice)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.follower.stop()

    async def check(self, flush: Callable[[], Any]) -> None:
        """Once caught up: evaluate, send ops alerts, rewrite the status file and gauges."""
        if not self.follower.caught_up.is_set():
            return
        await self.monitor.check(flush)

"""``create_app(settings)``: build the Faust app, its tables, agents and web pages.

No module-level app: every worker, test and benchmark calls the factory with its own
settings. The pure stages get their dependencies through ``PipelineServices``; the
``Runtime`` service owns everything with a lifecycle (enricher pool, watch-list reloader,
HTTP client, channels) and starts it before the agents process their first message.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any, cast

import faust
import mode
from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.transport.drivers import aiokafka as faust_aiokafka

from streams.agents import FaustOutbox, register_agents
from streams.runtime import Runtime
from streams.settings import Settings
from streams.stages import PipelineServices, Topics
from streams.web import mount

__all__ = ["FETCH_MAX_WAIT_MS", "create_app", "faust_config"]

log = logging.getLogger(__name__)

#: Longest a consumer fetch waits for data. Faust hard-codes 1500 ms, and a broker that does
#: not answer a waiting fetch as soon as data arrives (the embedded Tansu broker) then adds
#: up to that much latency per topic hop: 2 hops made the p99 from article to Slack ~2.5 s.
FETCH_MAX_WAIT_MS = 100


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """Faust's aiokafka consumer thread with ``fetch_max_wait_ms = FETCH_MAX_WAIT_MS``.

    And two fixes found by the SIGKILL test (tests/faults/test_worker_crash.py):

    - ``seek_to_committed`` also rewinds source partitions without a committed offset: Faust
      drops records it fetched when a rebalance interrupts a fetch and seeks back to the
      committed offsets, but aiokafka skips partitions that have none, so those records
      were never read again (up to a whole partition's backlog lost).
    - ``_highwaters`` (table recovery reads each changelog up to them) is confirmed by a
      fetch: the embedded broker answers ListOffsets(latest) with the last batch's base
      offset + 1, so recovery stopped before the last records of a batch (alert decisions
      lost after a crash, and alerts with them).
    """

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # read when the consumer starts
        return consumer

    async def seek_to_committed(self) -> Mapping[Any, int]:
        """Seek to the committed offsets; partitions without one go to the beginning."""
        return await self.call_thread(self._seek_to_committed_or_beginning)

    async def _seek_to_committed_or_beginning(self) -> Mapping[Any, int]:
        consumer = self._ensure_consumer()
        committed = await consumer.seek_to_committed()
        changelogs = self.app.tables.changelog_topics
        fresh = [tp for tp, at in committed.items() if not at and tp.topic not in changelogs]
        if fresh:  # auto_offset_reset is "earliest"
            await consumer.seek_to_beginning(*fresh)
        return cast(Mapping[Any, int], committed)

    async def _highwaters(self, partitions: Any) -> Any:
        ends = await super()._highwaters(partitions)
        conf = self.app.conf
        auth = faust_aiokafka.credentials_to_aiokafka_auth(
            conf.broker_credentials, conf.ssl_context
        )
        transport = cast(faust_aiokafka.Transport, self.transport)
        servers = faust_aiokafka.server_list(transport.url, transport.default_port)
        return await _confirm_end_offsets(ends, bootstrap_servers=servers, **auth)


async def _confirm_end_offsets(ends: Mapping[Any, int], **client: Any) -> dict[Any, int]:
    """``ends`` raised to the high watermark a fetch of each partition's last batch reports."""
    result = dict(ends)
    tps = {TopicPartition(tp.topic, tp.partition): tp for tp, end in ends.items() if end}
    if not tps:
        return result
    probe = AIOKafkaConsumer(enable_auto_commit=False, **client)
    await probe.start()
    try:
        probe.assign(list(tps))
        for tp, key in tps.items():
            probe.seek(tp, ends[key] - 1)
        pending = set(tps)
        for _ in range(10):
            await probe.getmany(*pending, timeout_ms=200)
            for tp in list(pending):
                highwater = probe.highwater(tp)
                if highwater is not None:
                    result[tps[tp]] = max(result[tps[tp]], highwater)
                    pending.discard(tp)
            if not pending:
                break
        return result
    finally:
        await probe.stop()


class _Consumer(faust_aiokafka.Consumer):
    """Faust's consumer, reading again the records a rebalance made it skip.

    When a rebalance interrupts a fetch, Faust drops records it had fetched (or hands them
    to a stream that skips them) and relies on a seek back to the committed offset; when
    that seek does not happen, the next record of the partition comes after a hole, which
    Faust takes for a compaction gap and acks: the records in the hole were committed
    unprocessed (lost alerts in the SIGKILL test, tests/faults/test_worker_crash.py). Here
    the offset each partition must read next is tracked, and a hole makes the partition
    seek back and read again (at-least-once: a record may come twice). A hole still there
    after that rewind is real (transaction markers, compaction) and is let through.
    """

    def _new_consumer_thread(self) -> Any:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def _rewind(self, tp: Any, offset: int) -> None:
        """Seek ``tp`` back to ``offset`` in the consumer thread; the next record read is it."""
        log.info("%s: reading again from offset %d", tp, offset)
        consumer = self._thread._ensure_consumer()  # type: ignore[attr-defined]

        async def seek() -> None:
            consumer.seek(tp, offset)

        with contextlib.suppress(Exception):  # e.g. revoked meanwhile: the new owner reads it
            await self._thread.call_thread(seek)  # type: ignore[attr-defined]
            self._read_offset[tp] = offset
            self._expected()[tp] = offset

    def _expected(self) -> dict[Any, int]:
        """Per partition, the offset the next record must have (known after a seek)."""
        return self.__dict__.setdefault("_next_offset", {})

    async def perform_seek(self) -> None:
        """Seek to the committed offsets; they are the offsets expected next."""
        await super().perform_seek()
        expected = self._expected()
        for tp, offset in list(self._read_offset.items()):
            if offset is None:
                expected.pop(tp, None)
            else:
                expected[tp] = offset

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[Any, Any]]:
        """Fetched records in order; after a hole the partition is read again."""
        rewound = self.__dict__.setdefault("_rewound", {})
        expected = self._expected()
        changelogs = self.app.tables.changelog_topics  # compacted: holes are normal there
        skipping: set[Any] = set()
        async for tp, message in super().getmany(timeout):
            if tp in skipping:
                continue
            if tp.topic in changelogs:
                yield tp, message
                continue
            want = expected.get(tp)
            if (
                want is not None
                and message.offset > want
                and not self.in_transaction
                and rewound.get(tp) != want
            ):
                log.warning(
                    "%s: records %d..%d were skipped; reading them again",
                    tp,
                    want,
                    message.offset - 1,
                )
                rewound[tp] = want
                skipping.add(tp)
                await self._rewind(tp, want)
                continue
            if want is None or message.offset >= want:
                expected[tp] = message.offset + 1
            yield tp, message


class _Transport(faust_aiokafka.Transport):
    Consumer = _Consumer


def faust_config(settings: Settings, bootstrap: str | None = None) -> dict[str, Any]:
    """Faust settings derived from newswatch settings (at-least-once, no idempotence by default)."""
    data_dir = Path(settings.data_dir)
    session = settings.session_timeout_s
    return {
        "broker": f"kafka://{bootstrap or settings.bootstrap_servers}",
        "store": "memory://",
        "datadir": str(data_dir / "faust"),
        "topic_partitions": settings.partitions,
        "topic_replication_factor": settings.replication_factor,
        "topic_allow_declare": True,
        "processing_guarantee": "exactly_once" if settings.exactly_once else "at_least_once",
        "producer_acks": -1,
        "producer_max_request_size": max(settings.max_record_bytes * 8, 1_048_576),
        "consumer_max_fetch_size": max(settings.max_record_bytes * 8, 4_194_304),
        "consumer_auto_offset_reset": "earliest",
        "broker_session_timeout": session,
        "broker_heartbeat_interval": max(0.5, session / 6),
        "broker_rebalance_timeout": session,
        "broker_commit_every": 100,
        "broker_commit_interval": 1.0,
        # The memory store persists no offsets, so this check only compares standby/active
        # read positions with ListOffsets; the embedded broker answers ListOffsets(latest)
        # with the last batch's base offset + 1, so after reading a multi-record batch the
        # check fails and crashes the worker in a rebalance (found by tests/faults).
        "recovery_consistency_check": False,
        "stream_buffer_maxsize": 1024,
        "table_cleanup_interval": 30.0,
        "web_enabled": settings.web_port != 0,
        "web_port": settings.web_port or 6066,
        "web_bind": settings.web_host,
        "web_host": settings.web_host,
        "autodiscover": False,
        "worker_redirect_stdouts": False,
        "key_serializer": "json",  # tables; our topics set "raw" explicitly
        "value_serializer": "json",
    }


def create_app(
    settings: Settings, *, bootstrap: str | None = None, runtime: Runtime | None = None
) -> faust.App:
    """A Faust app with the enrich+match and alert agents; ``app.newswatch`` is the runtime."""
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    app = faust.App(settings.app_id, **faust_config(settings, bootstrap))
    app.transport = _Transport(app.conf.broker_consumer, app)  # short fetch waits
    topics = Topics(
        **{name: settings.topic(default) for name, default in Topics().__dict__.items()}
    )
    runtime = runtime if runtime is not None else Runtime(settings)
    rt: Runtime = runtime
    outbox = FaustOutbox(app)
    services = PipelineServices(
        topics=topics,
        outbox=outbox,
        enrich_batch=runtime.enrich_batch,
        watchlist=runtime.watchlist,
        match=runtime.match,
        max_record_bytes=settings.max_record_bytes,
        metrics=runtime.metrics,
        test_channel=settings.test_channel,
    )
    runtime.services = services

    # State of the alert agent: co-partitioned with articles.matches (keyed by rule id).
    policy_table = app.Table("alert-policy", default=None, partitions=settings.partitions)
    sent_table = app.Table("alert-sent", default=None, partitions=settings.partitions)
    runtime.bind_state(policy_table, sent_table)

    register_agents(
        app,
        services,
        batch_size=settings.batch_size,
        batch_within_s=settings.batch_within_s,
        ready=runtime.ready,
    )

    class RuntimeService(mode.Service):
        """Starts and stops the runtime with the app."""

        async def on_start(self) -> None:
            await rt.start()

        async def on_stop(self) -> None:
            await rt.stop()

    app.service(RuntimeService)

    @app.timer(interval=settings.watchlist_poll_s)
    async def _reload_watchlist() -> None:
        await runtime.poll_watchlist()

    @app.timer(interval=5.0)
    async def _probe_broker() -> None:
        await runtime.check_broker()

    @app.timer(interval=10.0)
    async def _consumer_lag() -> None:
        _record_lag(app, runtime)

    mount(app, runtime.health, runtime.metrics)
    app.newswatch = runtime  # type: ignore[attr-defined]
    return app


def _record_lag(app: faust.App, runtime: Runtime) -> None:
    """Consumer lag per assigned partition (highwater - committed position) into metrics."""
    consumer = app.consumer
    assigned = consumer.assignment()
    for tp in assigned:
        highwater = consumer.highwater(tp)
        position = (
            consumer._committed_offset.get(tp) if hasattr(consumer, "_committed_offset") else None
        )
        if highwater is not None and position is not None:
            runtime.metrics.set_consumer_lag(
                tp.topic, tp.partition, max(0, highwater - position - 1)
            )
    runtime.metrics.retain_partitions((tp.topic, tp.partition) for tp in assigned)

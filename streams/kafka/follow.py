"""Read a whole topic, every partition, and keep following it: a table every process holds.

``alerts.silences`` is small and compacted (the latest record of a key is its state) and
every decide partition needs all of it, so each worker reads it in full without a consumer
group: no rebalance decides who sees a silence, a new worker catches up from offset 0
before it is ready, and a record produced by the CLI reaches every worker within a poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

__all__ = ["TopicFollower", "read_whole_topic"]

log = logging.getLogger(__name__)

OnRecord = Callable[[bytes | None, bytes | None], None]


class TopicFollower:
    """Reads ``topic`` from the beginning into ``on_record(key, value)`` and keeps following."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        on_record: OnRecord,
        *,
        client: Mapping[str, Any] | None = None,
        poll_ms: int = 250,
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.on_record = on_record
        self.client = dict(client or {})
        self.poll_ms = poll_ms
        self.caught_up = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, *, catch_up_s: float = 30.0) -> None:
        """Assign every partition, read up to the current end (at most ``catch_up_s``), follow."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **self.client,
        )
        try:
            await consumer.start()
        except BaseException:
            await consumer.stop()  # a half-started client holds sockets (ResourceWarning)
            raise
        self._consumer = consumer
        try:
            # The end offsets first: once partitions are assigned, the consumer keeps a fetch
            # waiting at the broker (up to fetch_max_wait_ms, 500 ms) on the connection that
            # ListOffsets would queue behind.
            tps = await _partitions(consumer, self.topic, timeout=catch_up_s)
            ends = await consumer.end_offsets(tps) if tps else {}
            await _assign_from_beginning(consumer, tps)
            deadline = time.monotonic() + catch_up_s
            while time.monotonic() < deadline and await _behind(consumer, ends):
                self._deliver(await consumer.getmany(timeout_ms=self.poll_ms))
        except BaseException:
            await self.stop()
            raise
        self.caught_up.set()
        self._task = asyncio.create_task(self._follow(), name=f"follow-{self.topic}")

    async def stop(self) -> None:
        """Stop following (safe to call twice)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await consumer.stop()

    async def _follow(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        while True:
            try:
                self._deliver(await consumer.getmany(timeout_ms=self.poll_ms))
            except asyncio.CancelledError:
                raise
            except KafkaError as exc:  # the consumer reconnects by itself; keep polling
                log.warning("following %s: %s", self.topic, exc)
                await asyncio.sleep(1.0)

    def _deliver(self, batch: Mapping[Any, Any]) -> None:
        for records in batch.values():
            for record in records:
                try:
                    self.on_record(record.key, record.value)
                except Exception:  # a bad record must not stop the follower
                    log.exception("bad record on %s at offset %s", self.topic, record.offset)


async def _behind(consumer: AIOKafkaConsumer, ends: Mapping[Any, int]) -> bool:
    """True while some partition's position is before its end offset."""
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return True
    return False


async def _partitions(consumer: AIOKafkaConsumer, topic: str, timeout: float) -> list[Any]:
    """Every partition of ``topic``, waiting up to ``timeout`` for its metadata."""
    deadline = time.monotonic() + timeout
    parts = consumer.partitions_for_topic(topic)
    while not parts and time.monotonic() < deadline:
        await consumer._client.force_metadata_update()
        parts = consumer.partitions_for_topic(topic)
        if not parts:
            await asyncio.sleep(0.2)
    return [TopicPartition(topic, p) for p in sorted(parts or [])]


async def _assign_from_beginning(consumer: AIOKafkaConsumer, tps: list[Any]) -> None:
    consumer.assign(tps)
    if tps:
        await consumer.seek_to_beginning(*tps)


async def read_whole_topic(
    bootstrap: str,
    topic: str,
    *,
    client: Mapping[str, Any] | None = None,
    timeout: float = 30.0,
) -> list[tuple[bytes | None, bytes | None]]:
    """Every ``(key, value)`` of ``topic`` up to its current end, partition by partition."""
    records: list[tuple[bytes | None, bytes | None]] = []
    follower = TopicFollower(
        bootstrap, topic, lambda k, v: records.append((k, v)), client=client, poll_ms=200
    )
    await follower.start(catch_up_s=timeout)
    # the embedded broker may report the end of a multi-record batch early: one more poll
    await asyncio.sleep(0.6)
    await follower.stop()
    return records

"""Topic readers and writers, consumer-group lag, and an in-memory outbox."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

__all__ = [
    "MemoryOutbox",
    "agroup_lag",
    "aproduce_values",
    "aread_topic",
    "group_lag",
    "produce_values",
    "read_present",
    "read_topic",
]


def _json_or_bytes(value: bytes | None) -> Any:
    """Decoded JSON, or the raw bytes when the record is not JSON (e.g. garbage on purpose)."""
    if value is None:
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return value


async def _started_reader(bootstrap: str, client: Mapping[str, Any] | None) -> AIOKafkaConsumer:
    """A started group-less consumer that reads from the earliest offset (caller stops it)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **(client or {}),
    )
    await consumer.start()
    return consumer


async def aread_topic(
    bootstrap: str,
    topic: str,
    *,
    expect: int = 1,
    timeout: float = 30.0,
    client: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Async ``read_topic``; ``client`` = TLS/SASL options (``security.client_kwargs``)."""
    consumer = await _started_reader(bootstrap, client)
    try:
        records: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        await _assign_from_beginning(consumer, topic, deadline)
        while len(records) < expect and time.monotonic() < deadline:
            records += _decoded(await consumer.getmany(timeout_ms=200))
        return records
    finally:
        await consumer.stop()


async def _partitions(
    consumer: AIOKafkaConsumer, topic: str, deadline: float
) -> list[TopicPartition]:
    """Every partition of ``topic``, waiting for its metadata until ``deadline``."""
    parts: set[int] | None = None
    while parts is None and time.monotonic() < deadline:
        parts = consumer.partitions_for_topic(topic) or None
        if parts is None:
            await consumer._client.force_metadata_update()
            await asyncio.sleep(0.1)
    return [TopicPartition(topic, p) for p in sorted(parts or [])]


async def _assign_from_beginning(
    consumer: AIOKafkaConsumer, topic: str, deadline: float
) -> list[TopicPartition]:
    """Assign every partition of ``topic`` (waiting for its metadata) at its first offset."""
    tps = await _partitions(consumer, topic, deadline)
    consumer.assign(tps)
    if tps:
        await consumer.seek_to_beginning(*tps)
    return tps


def _decoded(batch: Mapping[TopicPartition, list[Any]]) -> list[dict[str, Any]]:
    """The records of a ``getmany`` batch as dicts (value decoded from JSON when it is JSON)."""
    return [
        {
            "key": m.key,
            "value": _json_or_bytes(m.value),
            "partition": m.partition,
            "offset": m.offset,
            "timestamp": m.timestamp,
        }
        for msgs in batch.values()
        for m in msgs
    ]


async def aread_present(
    bootstrap: str,
    topic: str,
    *,
    timeout: float = 30.0,
    client: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Async ``read_present``; ``client`` = TLS/SASL options (``security.client_kwargs``)."""
    consumer = await _started_reader(bootstrap, client)
    try:
        records: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        tps = await _partitions(consumer, topic, deadline)
        if not tps:
            return records
        # offsets before assigning: an assigned consumer keeps a fetch waiting at the broker
        # (up to 500 ms) on the connection that ListOffsets would queue behind
        ends = await consumer.end_offsets(tps)
        starts = await consumer.beginning_offsets(tps)
        pending = {tp for tp in tps if ends[tp] > starts[tp]}
        if not pending:
            return records
        consumer.assign(sorted(pending))
        await consumer.seek_to_beginning(*pending)
        while pending and time.monotonic() < deadline:
            records += _decoded(await consumer.getmany(*pending, timeout_ms=200))
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
        return records
    finally:
        await consumer.stop()


def read_topic(
    bootstrap: str,
    topic: str,
    *,
    expect: int = 1,
    timeout: float = 30.0,
    client: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Read ``topic`` from the beginning until ``expect`` records arrived or ``timeout`` passed."""
    return asyncio.run(aread_topic(bootstrap, topic, expect=expect, timeout=timeout, client=client))


def read_present(
    bootstrap: str,
    topic: str,
    *,
    timeout: float = 30.0,
    client: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Every record on ``topic`` now: read from the beginning up to each partition's end offset
    at the time of the call (returns as soon as it got there; ``timeout`` bounds a stuck read).

    ``read_topic(expect=10**6, timeout=T)`` reads the same records but always waits ``T``:
    use this one to poll a topic's state, that one to give late records a window to arrive.
    """
    return asyncio.run(aread_present(bootstrap, topic, timeout=timeout, client=client))


async def aproduce_values(
    bootstrap: str,
    topic: str,
    records: Iterable[tuple[bytes | None, bytes | None]],
    *,
    max_request_size: int = 16 * 1024 * 1024,
    client: Mapping[str, Any] | None = None,
) -> int:
    """Produce raw ``(key, value)`` records in order (acks=all); returns how many were sent."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=5,
        max_request_size=max_request_size,
        **(client or {}),
    )
    await producer.start()
    try:
        futures = [await producer.send(topic, value, key=key) for key, value in records]
        await producer.flush()
        for future in futures:
            await future
        return len(futures)
    finally:
        await producer.stop()


def produce_values(
    bootstrap: str, topic: str, records: Iterable[tuple[bytes | None, bytes | None]], **options: Any
) -> int:
    """Blocking ``aproduce_values``."""
    return asyncio.run(aproduce_values(bootstrap, topic, records, **options))


async def agroup_lag(
    bootstrap: str, group: str, topic: str, client: Mapping[str, Any] | None = None
) -> int | None:
    """Records of ``topic`` the consumer ``group`` has not committed yet; None when unknown."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **(client or {}))
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, **(client or {})
    )
    await admin.start()
    await consumer.start()
    try:
        parts = consumer.partitions_for_topic(topic)
        if not parts:
            await consumer._client.force_metadata_update()
            parts = consumer.partitions_for_topic(topic)
        if not parts:
            return None
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        ends = await _exact_end_offsets(consumer, tps)
        committed = await admin.list_consumer_group_offsets(group, partitions=tps)
        lag = 0
        for tp in tps:
            meta = committed.get(tp)
            position = meta.offset if meta is not None and meta.offset >= 0 else 0
            lag += max(0, ends[tp] - position)
        return lag
    finally:
        await consumer.stop()
        await admin.close()


def group_lag(
    bootstrap: str, group: str, topic: str, client: Mapping[str, Any] | None = None
) -> int | None:
    """Blocking ``agroup_lag``."""
    return asyncio.run(agroup_lag(bootstrap, group, topic, client))


async def _exact_end_offsets(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition]
) -> dict[TopicPartition, int]:
    """End offsets confirmed by reading the last batch of each partition.

    The embedded broker answers ListOffsets(latest) with the base offset of the last batch
    plus one, which under-counts when that batch holds several records.
    """
    ends = dict(await consumer.end_offsets(tps))
    consumer.assign(tps)
    for tp in tps:
        consumer.seek(tp, max(0, ends[tp] - 1))
    while True:
        batch = await consumer.getmany(timeout_ms=300)
        if not batch:
            return ends
        for tp, messages in batch.items():
            if messages:
                ends[tp] = max(ends[tp], messages[-1].offset + 1)


class MemoryOutbox:
    """An ``Outbox`` that keeps sent records in memory: ``records[topic] -> [(key, value)]``."""

    def __init__(self) -> None:
        self.records: dict[str, list[tuple[bytes | None, bytes]]] = {}
        self.flushes = 0

    async def send(self, topic: str, key: bytes | None, value: bytes) -> None:
        """Keep one record."""
        self.records.setdefault(topic, []).append((key, value))

    async def flush(self) -> None:
        """Count flushes (nothing is pending in memory)."""
        self.flushes += 1

    def values(self, topic: str) -> list[dict[str, Any]]:
        """Decoded JSON values sent to ``topic``."""
        return [orjson.loads(v) for _, v in self.records.get(topic, [])]

"""Offset-preserving rotation of a topic on the embedded broker (Tansu 0.6, memory storage).

Tansu never deletes records (no retention, DeleteRecords is unimplemented), so the only way
to free a topic's memory is to delete the topic. ``rotate_topic`` deletes it, creates it
again with the same partitions, and writes one *control batch* per partition whose last
offset is the old high watermark - 1 (Tansu advances a partition by a batch's
``last_offset_delta + 1``). So offsets never go back: the next record of partition p gets
the offset it would have got without the rotation. Consumers skip control batches
(aiokafka, the Java client), readers that start at the beginning jump to the old end, and
Faust, which drops records below the offset it last read, loses nothing. The consumer
group's committed offsets on the topic are gone after a delete (Tansu drops them); a
worker that rejoins without one starts at the beginning (``auto_offset_reset=earliest``,
``streams/kafka/compat.py``), that is at the old end.

Records are deleted: rotate a topic only when its readers have committed all of it
(``drained``) and while nothing can write to it (``streams/kafka/gate.py``).
"""

from __future__ import annotations

import struct
import time
from collections.abc import Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.protocol.produce import ProduceRequest
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.record.util import calc_crc32c

from streams.errors import BrokerError
from streams.kafka.gate import EXEMPT_CLIENT_ID

__all__ = [
    "committed_offsets",
    "drained",
    "high_watermarks",
    "offset_advance_batch",
    "partition_count",
    "restore_offsets",
    "rotate_topic",
]

_CONTROL = 0x20  # attributes bit 5: control batch (never returned to applications)
_COMMIT_MARKER_KEY = struct.pack(">hh", 0, 1)  # control record v0, type 1 = COMMIT
_COMMIT_MARKER_VALUE = struct.pack(">hi", 0, 0)


def offset_advance_batch(count: int, timestamp_ms: int | None = None) -> bytes:
    """A v2 control batch spanning ``count`` offsets: it moves a partition's end by ``count``."""
    if count < 1:
        raise ValueError("count must be >= 1")
    builder = DefaultRecordBatchBuilder(
        magic=2,
        compression_type=0,
        is_transactional=0,
        producer_id=-1,
        producer_epoch=-1,
        base_sequence=-1,
        batch_size=1 << 16,
    )
    stamp = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    builder.append(
        0, timestamp=stamp, key=_COMMIT_MARKER_KEY, value=_COMMIT_MARKER_VALUE, headers=[]
    )
    buf = bytearray(builder.build())
    (attributes,) = struct.unpack_from(">h", buf, 21)
    struct.pack_into(">h", buf, 21, attributes | _CONTROL)
    struct.pack_into(">i", buf, 23, count - 1)  # lastOffsetDelta
    struct.pack_into(">I", buf, 17, calc_crc32c(bytes(buf[21:])))  # CRC covers attributes..end
    return bytes(buf)


async def high_watermarks(
    bootstrap: str, topic: str, partitions: int, *, exact: bool = True
) -> dict[int, int]:
    """The end offset of every partition: with ``exact``, a fetch's high watermark.

    Tansu answers ListOffsets(latest) with the last batch's base offset + 1 (cheap, low by
    up to a batch); a fetch of that batch reports the real high watermark (it costs a
    listing of the partition's batches).
    """
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id=EXEMPT_CLIENT_ID,
        enable_auto_commit=False,
        fetch_max_wait_ms=10,  # Tansu holds a fetch this long even with data to return
    )
    await consumer.start()
    try:
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        highs = {tp.partition: ends[tp] for tp in tps}
        probing = [tp for tp in tps if ends[tp] > 0] if exact else []
        for tp in probing:
            consumer.seek(tp, ends[tp] - 1)
        for _ in range(20):
            if not probing:
                break
            await consumer.getmany(*probing, timeout_ms=200)
            for tp in list(probing):
                seen = consumer.highwater(tp)
                if seen is not None:
                    highs[tp.partition] = max(highs[tp.partition], seen)
                    probing.remove(tp)
        if probing:
            raise BrokerError(f"no high watermark for {probing} of {topic}")
        return highs
    finally:
        await consumer.stop()


async def committed_offsets(
    bootstrap: str, group: str, topic: str, partitions: int
) -> dict[int, int]:
    """The group's committed offset per partition of ``topic`` (-1 where it has none)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id=EXEMPT_CLIENT_ID)
    await admin.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        got = await admin.list_consumer_group_offsets(group, partitions=tps)
        return {tp.partition: (got[tp].offset if tp in got else -1) for tp in tps}
    finally:
        await admin.close()


def drained(
    highs: Mapping[int, int], committed: Mapping[int, int], floors: Mapping[int, int]
) -> bool:
    """True when the group has read every record: committed (or, without one, floor) >= end."""
    for partition, high in highs.items():
        done = committed.get(partition, -1)
        if done < 0:
            done = floors.get(partition, 0)
        if done < high:
            return False
    return True


async def partition_count(bootstrap: str, topic: str) -> int:
    """How many partitions ``topic`` has (0 if it does not exist).

    Asks for *all* topics: a Metadata request naming a missing topic makes Tansu create it
    (with its default partition count).
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id=EXEMPT_CLIENT_ID)
    await admin.start()
    try:
        for described in await admin.describe_topics():
            if described.get("topic") == topic and not described.get("error_code"):
                return len(described.get("partitions") or [])
        return 0
    finally:
        await admin.close()


async def rotate_topic(bootstrap: str, topic: str, highs: Mapping[int, int]) -> None:
    """Delete ``topic`` and create it again with its offsets continuing at ``highs``."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id=EXEMPT_CLIENT_ID)
    await admin.start()
    try:
        await admin.delete_topics([topic])
    finally:
        await admin.close()
    await restore_offsets(bootstrap, topic, highs)


async def restore_offsets(bootstrap: str, topic: str, highs: Mapping[int, int]) -> None:
    """Make ``topic`` exist with every partition ending at ``highs`` (idempotent; retry it)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id=EXEMPT_CLIENT_ID)
    await admin.start()
    try:
        response = await admin.create_topics([NewTopic(topic, len(highs), 1)])
    except TopicAlreadyExistsError:
        response = None
    finally:
        await admin.close()
    for name, code, *rest in getattr(response, "topic_errors", []):
        if code not in (0, 36):  # 36: TOPIC_ALREADY_EXISTS (an earlier attempt made it)
            raise BrokerError(f"cannot create rotated topic {name}: error {code} {rest}")
    count = await partition_count(bootstrap, topic)
    if count != len(highs):
        raise BrokerError(f"rotated {topic} has {count} partitions, expected {len(highs)}")
    now = await high_watermarks(bootstrap, topic, len(highs))
    await _advance(bootstrap, topic, {p: high - now[p] for p, high in highs.items()})
    after = await high_watermarks(bootstrap, topic, len(highs))
    if any(after[p] != high for p, high in highs.items()):
        raise BrokerError(f"rotated {topic} ends at {after}, expected {dict(highs)}")


async def _advance(bootstrap: str, topic: str, counts: Mapping[int, int]) -> None:
    """Produce one control batch spanning ``counts[p]`` offsets to each partition p (if > 0)."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap, client_id=EXEMPT_CLIENT_ID)
    await client.bootstrap()
    try:
        await client.force_metadata_update()
        for partition, count in counts.items():
            if count <= 0:
                continue
            leader = client.cluster.leader_for_partition(TopicPartition(topic, partition))
            if leader is None:
                raise BrokerError(f"no leader for {topic}[{partition}] after rotation")
            request = ProduceRequest(
                None, 1, 10000, [(topic, [(partition, offset_advance_batch(count))])]
            )
            response = await client.send(leader, request)
            for _name, parts in response.topics:
                for part in parts:
                    if part[1] != 0:
                        raise BrokerError(f"advancing {topic}[{partition}] failed: error {part[1]}")
    finally:
        await client.close()

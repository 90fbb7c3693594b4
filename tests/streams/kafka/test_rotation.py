"""Bounded topics on the embedded broker: offset-preserving rotation behind a request gate.

Tansu 0.6 keeps every record (tests/streams/kafka/test_broker_limits.py); these show the
rotation that bounds what it keeps: stored records stay under the bound, offsets continue,
a reader that was at the end loses nothing and reads nothing twice, a lagging group holds
the rotation of what it reads, and the gate fences every client but the rotation's own.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Iterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from streams.kafka.broker import EmbeddedBroker, free_port, maybe_embedded_broker
from streams.kafka.janitor import RotationPolicy
from streams.kafka.rotation import (
    high_watermarks,
    partition_count,
    restore_offsets,
    rotate_topic,
)
from streams.kafka.topics import ensure_topics
from streams.settings import Settings

pytestmark = pytest.mark.broker


async def _topics(bootstrap: str, *names: str, partitions: int = 2) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(n, partitions, 1) for n in names])
    finally:
        await admin.close()


async def _produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()


async def _read_from_start(
    bootstrap: str, topic: str, partitions: int = 2, expect: int = 0
) -> list[tuple[int, int]]:
    """(partition, offset) of the records a new reader finds from the beginning.

    Reads for 2 s, or until ``expect`` records are found (10 s at most).
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        found: list[tuple[int, int]] = []
        for _ in range(20 if expect else 4):
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                found += [(tp.partition, r.offset) for r in records]
            if expect and len(found) >= expect:
                break
        return sorted(found)
    finally:
        await consumer.stop()


def _stored(bootstrap: str, topic: str, floors: dict[int, int]) -> int:
    highs = asyncio.run(high_watermarks(bootstrap, topic, 2))
    return sum(high - floors.get(p, 0) for p, high in highs.items())


@pytest.fixture(scope="module")
def rotating() -> Iterator[EmbeddedBroker]:
    """A broker with a janitor for group ``g`` (reads ``r-*`` topics); checks run by hand."""
    policy = RotationPolicy(10, "g", read=("r-a", "r-b"), unread=("u-a",), interval_s=3600)
    with EmbeddedBroker(port=free_port(), rotation=policy) as broker:
        asyncio.run(_topics(broker.bootstrap_servers, "r-a", "r-b", "u-a"))
        yield broker


def test_rotation_continues_offsets_and_a_new_reader_sees_only_new_records(
    broker: EmbeddedBroker,
) -> None:
    """After a rotation the next record of a partition gets the old end offset; nothing older."""
    topic = "nwrot" + uuid.uuid4().hex[:8]
    bootstrap = broker.bootstrap_servers

    async def run() -> tuple[dict[int, int], int, list[tuple[int, int]]]:
        await _topics(bootstrap, topic)
        await _produce(bootstrap, topic, [b"old"] * 9)
        highs = await high_watermarks(bootstrap, topic, 2)
        await rotate_topic(bootstrap, topic, highs)
        partitions = await partition_count(bootstrap, topic)
        await _produce(bootstrap, topic, [b"new"] * 4)
        return highs, partitions, await _read_from_start(bootstrap, topic, expect=4)

    highs, partitions, found = asyncio.run(run())
    assert sum(highs.values()) == 9
    assert partitions == 2  # not the broker's default of 4 (a Metadata request auto-creates)
    assert len(found) == 4
    for partition in {p for p, _ in found}:
        offsets = [o for p, o in found if p == partition]
        assert offsets == list(range(highs[partition], highs[partition] + len(offsets)))


def test_restoring_a_deleted_topic_is_idempotent(broker: EmbeddedBroker) -> None:
    """restore_offsets recreates a topic at its old ends; a second call changes nothing."""
    topic = "nwrot" + uuid.uuid4().hex[:8]
    bootstrap = broker.bootstrap_servers

    async def run() -> tuple[dict[int, int], dict[int, int]]:
        await _topics(bootstrap, topic)
        await _produce(bootstrap, topic, [b"old"] * 7)
        highs = await high_watermarks(bootstrap, topic, 2)
        await rotate_topic(bootstrap, topic, highs)  # delete, then restore once
        await restore_offsets(bootstrap, topic, highs)  # a retried restore changes nothing
        return highs, await high_watermarks(bootstrap, topic, 2)

    before, after = asyncio.run(run())
    assert after == before and sum(before.values()) == 7


def test_a_reader_at_the_end_continues_across_rotations_without_gap_or_repeat(
    rotating: EmbeddedBroker,
) -> None:
    """A group member reading r-a gets all 60 records once while the topic rotates each round."""
    bootstrap = rotating.bootstrap_servers
    assert rotating.janitor is not None
    janitor = rotating.janitor

    async def run() -> tuple[list[bytes], list[str]]:
        consumer = AIOKafkaConsumer(
            "r-a", bootstrap_servers=bootstrap, group_id="g", auto_offset_reset="earliest"
        )
        await consumer.start()
        got: list[bytes] = []
        rotated: list[str] = []
        try:
            for round_ in range(4):
                sent = [f"{round_}-{i}".encode() for i in range(15)]
                await _produce(bootstrap, "r-a", sent)
                while len(got) < 15 * (round_ + 1):
                    for records in (await consumer.getmany(timeout_ms=1000)).values():
                        got += [r.value or b"" for r in records]
                await consumer.commit()
                rotated += await janitor.check()
        finally:
            await consumer.stop()
        return got, rotated

    got, rotated = asyncio.run(run())
    assert sorted(got) == sorted(f"{r}-{i}".encode() for r in range(4) for i in range(15))
    assert rotated.count("r-a") == 4
    assert _stored(bootstrap, "r-a", {}) == 60  # offsets continued: the end is 60, ...
    assert asyncio.run(_read_from_start(bootstrap, "r-a")) == []  # ... and nothing is kept


def test_a_lagging_group_holds_its_topic_but_not_an_unread_one(rotating: EmbeddedBroker) -> None:
    """r-b with unread records stays whole; u-a (no reader) rotates past the bound."""
    bootstrap = rotating.bootstrap_servers
    assert rotating.janitor is not None
    asyncio.run(_produce(bootstrap, "r-b", [b"x"] * 30))
    asyncio.run(_produce(bootstrap, "u-a", [b"y"] * 30))
    assert asyncio.run(rotating.janitor.check()) == ["u-a"]
    assert len(asyncio.run(_read_from_start(bootstrap, "r-b"))) == 30
    assert asyncio.run(_read_from_start(bootstrap, "u-a")) == []


def test_a_held_gate_fences_clients_but_not_the_rotation(rotating: EmbeddedBroker) -> None:
    """While held a producer's send waits, the rotation's client is answered; release frees it."""
    assert rotating.janitor is not None
    gate = rotating.janitor.gate
    bootstrap = rotating.bootstrap_servers
    sent = threading.Event()

    def produce() -> None:
        asyncio.run(_produce(bootstrap, "u-a", [b"held"]))
        sent.set()

    assert gate.hold(5.0)
    try:
        worker = threading.Thread(target=produce)
        worker.start()
        assert not sent.wait(1.5)
        # the rotation's clients (client id EXEMPT_CLIENT_ID) are answered while held
        asyncio.run(asyncio.wait_for(high_watermarks(bootstrap, "u-a", 2), 10))
    finally:
        gate.release()
    assert sent.wait(15)
    worker.join(5)


def test_embedded_default_rotates_what_the_worker_group_has_read(
    make_settings: Callable[..., Settings],
) -> None:
    """``maybe_embedded_broker`` with NEWSWATCH_BROKER_ROTATE_RECORDS=20 keeps raw bounded."""
    settings = make_settings(broker_port=free_port(), broker_rotate_records=20)
    raw = settings.topics.raw
    with maybe_embedded_broker(settings) as bootstrap:
        asyncio.run(ensure_topics(settings, bootstrap))

        async def run() -> int:
            consumer = AIOKafkaConsumer(
                raw,
                bootstrap_servers=bootstrap,
                group_id=settings.app_id,
                auto_offset_reset="earliest",
                auto_commit_interval_ms=200,
            )
            await consumer.start()
            got = 0
            try:
                await _produce(bootstrap, raw, [b"a"] * 60)
                while got < 60:
                    got += sum(len(r) for r in (await consumer.getmany(timeout_ms=500)).values())
                for _ in range(60):  # the janitor checks every 10 s
                    await asyncio.sleep(0.5)
                    if not await _read_from_start(bootstrap, raw, settings.partitions):
                        break
            finally:
                await consumer.stop()
            return len(await _read_from_start(bootstrap, raw, settings.partitions))

        assert asyncio.run(run()) == 0

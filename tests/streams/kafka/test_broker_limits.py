"""What the embedded broker (Tansu 0.6, memory storage) keeps: everything, until it stops.

These pin the facts docs/kafka.md ("Limits of the embedded broker") is built on. If one
fails after a broker upgrade, the broker now trims records: switch the embedded default to
retention (``retention.ms`` or DeleteRecords) and update the documentation.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic, RecordsToDelete
from aiokafka.errors import KafkaError

from streams.kafka.broker import EmbeddedBroker, metadata_ok

pytestmark = pytest.mark.broker


async def _first_offset(bootstrap: str, tp: TopicPartition) -> tuple[int, int]:
    """(earliest offset the broker reports, offset of the first record a fresh reader gets)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([tp])
        earliest = (await consumer.beginning_offsets([tp]))[tp]
        consumer.seek(tp, earliest)
        got = await consumer.getmany(tp, timeout_ms=5000)
        return earliest, got[tp][0].offset
    finally:
        await consumer.stop()


async def _topic_with_records(bootstrap: str, configs: dict[str, str], n: int) -> TopicPartition:
    """A fresh one-partition topic with ``configs`` holding ``n`` records."""
    name = "nwlim" + uuid.uuid4().hex[:8]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1, topic_configs=configs)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for i in range(n):
            await producer.send_and_wait(name, f"record {i}".encode())
    finally:
        await producer.stop()
    return TopicPartition(name, 0)


def test_retention_ms_is_stored_but_old_records_stay(broker: EmbeddedBroker) -> None:
    """A topic with retention.ms=500 still serves its first record 3 s later: no time retention."""

    async def run() -> tuple[int, int]:
        tp = await _topic_with_records(
            broker.bootstrap_servers, {"retention.ms": "500", "segment.ms": "100"}, 3
        )
        await asyncio.sleep(3.0)
        return await _first_offset(broker.bootstrap_servers, tp)

    assert asyncio.run(run()) == (0, 0)


def test_delete_records_is_refused_and_the_broker_keeps_serving(broker: EmbeddedBroker) -> None:
    """DeleteRecords fails (Tansu's memory engine has no implementation) and removes nothing."""

    async def run() -> tuple[int, int]:
        tp = await _topic_with_records(broker.bootstrap_servers, {}, 5)
        admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
        await admin.start()
        try:
            with pytest.raises(KafkaError):
                await admin.delete_records({tp: RecordsToDelete(3)}, timeout_ms=5000)
        finally:
            await admin.close()
        return await _first_offset(broker.bootstrap_servers, tp)

    assert asyncio.run(run()) == (0, 0)
    assert metadata_ok(broker.host, broker.port)

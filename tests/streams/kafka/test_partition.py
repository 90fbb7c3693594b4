"""``partition_for`` names the partition the Kafka producer really writes a key to."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from streams.kafka.broker import EmbeddedBroker
from streams.kafka.partition import partition_for

pytestmark = pytest.mark.broker


async def _written_partitions(bootstrap: str, keys: list[bytes]) -> list[int]:
    topic = f"part-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=4, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        return [(await producer.send_and_wait(topic, b"v", key=key)).partition for key in keys]
    finally:
        await producer.stop()


def test_partition_for_matches_the_producer(broker: EmbeddedBroker) -> None:
    """For 40 alert-id keys the broker stores each record in the partition we compute."""
    keys = [f"alert-{i}-{uuid.uuid4().hex[:6]}".encode() for i in range(40)]
    written = asyncio.run(_written_partitions(broker.bootstrap_servers, keys))
    assert written == [partition_for(key, 4) for key in keys]
    assert len(set(written)) > 1

"""The embedded broker's end-offset quirk, which the worker's table recovery works around.

ListOffsets(latest) on the embedded broker answers the base offset of the last record
batch plus one, so after a multi-record batch it under-counts the partition. Faust's table
recovery reads each changelog up to that offset; the SIGKILL test lost alert decisions
through it until the worker confirmed end offsets with a fetch (``streams.pipeline.app``).
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from streams.kafka.broker import EmbeddedBroker
from streams.kafka.compat import check_versions, confirm_end_offsets

pytestmark = [pytest.mark.broker]


async def _batch_then_ends(bootstrap: str, topic: str) -> tuple[int, int]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=100)
    await producer.start()
    try:
        sent = [await producer.send(topic, b"record", partition=0) for _ in range(5)]
        await producer.flush()
        offsets = [(await future).offset for future in sent]
    finally:
        await producer.stop()
    assert offsets == [0, 1, 2, 3, 4]  # one batch of five records
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        listed = (await consumer.end_offsets([tp]))[tp]
    finally:
        await consumer.stop()
    confirmed = await confirm_end_offsets({tp: listed}, bootstrap_servers=bootstrap)
    return listed, confirmed[tp]


def test_end_offsets_are_confirmed_past_the_last_batch(broker: EmbeddedBroker) -> None:
    """After one batch of five records the confirmed end offset is 5, whatever ListOffsets says."""
    listed, confirmed = asyncio.run(
        _batch_then_ends(broker.bootstrap_servers, f"quirk-{uuid.uuid4().hex[:8]}")
    )
    assert confirmed == 5
    assert listed <= confirmed  # the embedded broker says 1 (base offset 0 + 1)


def test_untested_faust_version_fails_at_import_with_a_clear_message() -> None:
    """A faust-streaming other than the tested one is refused, naming both versions."""
    from streams.errors import ConfigError

    with pytest.raises(ConfigError, match=r"faust-streaming 0\.16\.0 \(tested: 0\.15\.3\)"):
        check_versions({"faust-streaming": "0.16.0", "aiokafka": "0.14.0"})
    check_versions({"faust-streaming": "0.15.3", "aiokafka": "0.14.0"})

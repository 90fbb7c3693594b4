"""``read_present``: every record a topic holds at the call, without waiting out a timeout."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import pytest

from streams.kafka.broker import EmbeddedBroker
from streams.kafka.topics import ensure_topics
from streams.settings import Settings
from streams.testing import produce_values, read_present, read_topic

pytestmark = pytest.mark.broker


def test_reads_every_present_record_of_every_partition_and_returns_at_once(
    broker: EmbeddedBroker, make_settings: Callable[..., Settings]
) -> None:
    """Multi-record batches on two partitions, and an empty topic, are read fully and fast."""
    settings = make_settings(broker)
    asyncio.run(ensure_topics(settings))
    topic = settings.topic("articles.raw")
    empty = settings.topic("alerts.feedback")
    assert read_present(settings.bootstrap_servers, empty, timeout=10) == []
    records = [(f"k{n}".encode(), f'{{"n": {n}}}'.encode()) for n in range(40)]
    produce_values(settings.bootstrap_servers, topic, records[:25])  # batches of many records
    produce_values(settings.bootstrap_servers, topic, records[25:])
    started = time.monotonic()
    found = read_present(settings.bootstrap_servers, topic, timeout=10)
    elapsed = time.monotonic() - started
    assert sorted(r["value"]["n"] for r in found) == list(range(40))
    assert {r["partition"] for r in found} == {0, 1}
    assert elapsed < 5.0, elapsed  # the 10 s bound was not waited out
    everything = read_topic(settings.bootstrap_servers, topic, expect=10**6, timeout=2)
    assert sorted(r["offset"] for r in found) == sorted(r["offset"] for r in everything)


def test_a_missing_topic_reads_as_empty(broker: EmbeddedBroker) -> None:
    """A topic that does not exist yields no records once the bound passed (no exception)."""
    topic = f"absent-{uuid.uuid4().hex[:8]}"
    assert read_present(broker.bootstrap_servers, topic, timeout=1) == []

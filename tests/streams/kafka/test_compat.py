"""One test per override of Faust/aiokafka internals in ``streams.kafka.compat``.

Each test names the broker or library behaviour its patch works around and, where that
behaviour is the broker's or aiokafka's, shows it on the real embedded broker first, so a
new library version (or a broker that behaves) is noticed here rather than in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import faust
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faust.transport.drivers import aiokafka as faust_aiokafka

from streams.errors import ConfigError
from streams.kafka import compat
from streams.kafka.broker import EmbeddedBroker
from streams.kafka.compat import FETCH_MAX_WAIT_MS, check_versions, confirm_end_offsets
from streams.pipeline.app import create_app
from streams.settings import Settings


def _topic(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def _produce(bootstrap: str, topic: str, count: int, *, linger_ms: int = 0) -> list[int]:
    """Produce ``count`` records to partition 0 of ``topic``; their offsets."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=linger_ms)
    await producer.start()
    try:
        sent = [await producer.send(topic, b"record-%d" % i, partition=0) for i in range(count)]
        await producer.flush()
        return [(await future).offset for future in sent]
    finally:
        await producer.stop()


# --- FETCH_MAX_WAIT_MS ------------------------------------------------------------------


@pytest.mark.broker
def test_worker_consumer_fetches_with_the_short_wait(
    broker: EmbeddedBroker, make_settings: Callable[..., Settings]
) -> None:
    """The worker's consumer waits at most FETCH_MAX_WAIT_MS per fetch, not Faust's 1500 ms.

    Works around: the embedded broker does not answer a waiting fetch when data arrives, so
    Faust's hard-coded ``fetch_max_wait_ms=1500`` became up to 1.5 s of latency per hop.
    """

    async def waits() -> tuple[int, int]:
        app = create_app(make_settings(broker))
        thread = app.consumer._thread
        assert isinstance(thread, compat.ConsumerThread)
        base = faust_aiokafka.AIOKafkaConsumerThread
        stock = base._create_worker_consumer(thread, app.transport)  # Faust's own consumer
        consumer = thread._create_worker_consumer(app.transport)
        await consumer.start()
        try:
            # the fetcher, created at start, is what really waits
            return int(stock._fetch_max_wait_ms), int(consumer._fetcher._fetch_max_wait_ms)
        finally:
            await consumer.stop()
            await stock.stop()
            thread.thread_loop.close()  # created with the (never started) consumer thread

    stock, patched = asyncio.run(waits())
    assert stock == 1500  # Faust's hard-coded wait (the library behaviour)
    assert patched == FETCH_MAX_WAIT_MS == 100


# --- ConsumerThread.seek_to_committed ----------------------------------------------------


@pytest.mark.broker
def test_seek_to_committed_rewinds_partitions_without_a_committed_offset(
    broker: EmbeddedBroker,
) -> None:
    """Partitions without a committed offset go back to the beginning; changelogs stay put.

    Works around: aiokafka's ``seek_to_committed`` skips partitions that have no committed
    offset, so records Faust fetched and dropped in a rebalance were never read again.
    """
    bootstrap = broker.bootstrap_servers
    source, changelog = _topic("compat-seek"), _topic("compat-seek-changelog")

    async def scenario() -> tuple[int, int, int]:
        for topic in (source, changelog):
            await _produce(bootstrap, topic, 5)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=_topic("compat-group"), enable_auto_commit=False
        )
        await consumer.start()
        try:
            src, log = TopicPartition(source, 0), TopicPartition(changelog, 0)
            consumer.assign([src, log])
            for tp in (src, log):
                consumer.seek(tp, 5)  # records fetched, then dropped
            await consumer.seek_to_committed()  # stock aiokafka: no committed offset, no seek
            stock = await consumer.position(src)
            thread = SimpleNamespace(
                _ensure_consumer=lambda: consumer,
                app=SimpleNamespace(tables=SimpleNamespace(changelog_topics={changelog})),
            )
            await compat.ConsumerThread._seek_to_committed_or_beginning(thread)  # type: ignore[arg-type]
            return stock, await consumer.position(src), await consumer.position(log)
        finally:
            await consumer.stop()

    stock, patched, changelog_at = asyncio.run(scenario())
    assert stock == 5  # the library behaviour the patch works around
    assert patched == 0  # read again from the beginning (auto_offset_reset "earliest")
    assert changelog_at == 5  # table recovery positions its changelogs itself


# --- ConsumerThread._highwaters -> confirm_end_offsets ------------------------------------


@pytest.mark.broker
def test_end_offsets_are_confirmed_past_the_last_batch(broker: EmbeddedBroker) -> None:
    """After one batch of five records the confirmed end offset is 5, whatever ListOffsets says.

    Works around: the embedded broker answers ListOffsets(latest) with the last batch's base
    offset + 1, so Faust's table recovery stopped before the last records of a batch.
    """

    async def batch_then_ends(bootstrap: str, topic: str) -> tuple[int, int]:
        assert await _produce(bootstrap, topic, 5, linger_ms=100) == [0, 1, 2, 3, 4]
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
        await consumer.start()
        try:
            tp = TopicPartition(topic, 0)
            listed = (await consumer.end_offsets([tp]))[tp]
        finally:
            await consumer.stop()
        confirmed = await confirm_end_offsets({tp: listed}, bootstrap_servers=bootstrap)
        return listed, confirmed[tp]

    listed, confirmed = asyncio.run(batch_then_ends(broker.bootstrap_servers, _topic("quirk")))
    assert confirmed == 5
    assert listed <= confirmed  # the embedded broker says 1 (base offset 0 + 1)


# --- Consumer.getmany -----------------------------------------------------------------------


class _Fetch(faust_aiokafka.Consumer):
    """Stands in for Faust's fetch loop: yields what a real aiokafka consumer fetches."""

    source: AIOKafkaConsumer

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[Any, Any]]:
        batches = await self.source.getmany(timeout_ms=int(timeout * 1000), max_records=3)
        for tp, records in batches.items():
            for record in records:
                yield tp, record


class _HoleConsumer(compat.Consumer, _Fetch):
    """compat.Consumer over ``_Fetch`` (MRO: compat.Consumer's ``super()`` is ``_Fetch``)."""


class _ThreadHop:
    """Faust's consumer-thread hop, run on this loop: the consumer the thread would own."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self.consumer = consumer

    def _ensure_consumer(self) -> AIOKafkaConsumer:
        return self.consumer

    async def call_thread(self, fun: Callable[[], Awaitable[None]]) -> None:
        await fun()


class _HoleTransport(compat.Transport):
    Consumer = _HoleConsumer


@contextlib.asynccontextmanager
async def _hole_consumer(
    bootstrap: str, topic: str, datadir: Path, app_id: str
) -> AsyncIterator[tuple[_HoleConsumer, AIOKafkaConsumer, TopicPartition]]:
    """compat.Consumer fed by a real aiokafka consumer at partition 0's start (no thread)."""
    app = faust.App(app_id, broker=f"kafka://{bootstrap}", datadir=str(datadir))
    app.transport = _HoleTransport(app.conf.broker_consumer, app)
    consumer = app.consumer
    assert isinstance(consumer, _HoleConsumer)
    source = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await source.start()
    try:
        tp = TopicPartition(topic, 0)
        source.assign([tp])
        source.seek(tp, 0)
        consumer.source = source
        consumer._thread.thread_loop.close()  # the real thread is never started
        consumer._thread = _ThreadHop(source)  # type: ignore[assignment]
        yield consumer, source, tp
    finally:
        await source.stop()


@pytest.mark.broker
def test_a_hole_in_the_offsets_is_read_again(broker: EmbeddedBroker, tmp_path: Path) -> None:
    """Records after a hole are held back and the hole is read again from the broker.

    Works around: when a rebalance interrupts a fetch, Faust drops the fetched records and
    relies on a seek back; without it the next record follows a hole that Faust acks as a
    compaction gap, committing the records in the hole unprocessed (lost alerts).
    """
    bootstrap, topic = broker.bootstrap_servers, _topic("compat-hole")

    async def scenario() -> list[list[int]]:
        assert await _produce(bootstrap, topic, 10) == list(range(10))
        async with _hole_consumer(bootstrap, topic, tmp_path, "compat-hole") as (
            consumer,
            source,
            tp,
        ):
            rounds = [[m.offset async for _, m in consumer.getmany(timeout=2.0)]]
            source.seek(tp, 6)  # the rebalance skipped 3..5 and no seek back happened
            for _ in range(3):
                rounds.append([m.offset async for _, m in consumer.getmany(timeout=2.0)])
            return rounds

    rounds = asyncio.run(scenario())
    assert rounds[0] == [0, 1, 2]
    assert rounds[1] == []  # 6..8 follow the hole: held back, the partition seeks to 3
    assert [offset for batch in rounds[2:] for offset in batch] == [3, 4, 5, 6, 7, 8]


@pytest.mark.broker
def test_a_second_hole_at_the_same_offset_is_read_again(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """After a partition was read past a rewound hole, a new hole at the same offset is read too.

    Two rebalances in a row (a worker killed, then restarted) can both seek a partition back
    to the same committed offset and both skip the same records; the second hole used to be
    let through as "real" because the first rewind had the same offset (one lost alert in
    the random SIGKILL test, tests/faults/test_worker_crash.py).
    """
    bootstrap, topic = broker.bootstrap_servers, _topic("compat-hole-twice")

    async def scenario() -> list[int]:
        assert await _produce(bootstrap, topic, 10) == list(range(10))
        async with _hole_consumer(bootstrap, topic, tmp_path, "compat-hole2") as (
            consumer,
            source,
            tp,
        ):
            offsets = [m.offset async for _, m in consumer.getmany(timeout=2.0)]
            for _ in range(2):  # two rebalances: each seeks back to 3 and skips 3..5
                source.seek(tp, 3)
                consumer._expected()[tp] = 3  # what perform_seek does with committed 3
                source.seek(tp, 6)
                for _ in range(3):
                    offsets += [m.offset async for _, m in consumer.getmany(timeout=2.0)]
            return offsets

    offsets = asyncio.run(scenario())
    assert offsets[:3] == [0, 1, 2]
    first, second = offsets[3:9], offsets[9:15]
    assert first == [3, 4, 5, 6, 7, 8], offsets
    assert second == [3, 4, 5, 6, 7, 8], offsets


@pytest.mark.broker
def test_records_dropped_at_the_end_of_a_partition_are_read_again(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """Records the client handed out but no stream received are read again with none after them.

    Faust drops fetched records when a rebalance or a generation change interrupts a batch,
    after the client moved its position past them. A hole is noticed when the next record
    arrives; at the end of a partition none does, and the dropped records waited forever (a
    restarted worker that stopped after its first batch: 12 lost alerts in the random
    SIGKILL test, tests/faults/test_worker_crash.py).
    """
    bootstrap, topic = broker.bootstrap_servers, _topic("compat-tail")

    async def scenario() -> list[int]:
        assert await _produce(bootstrap, topic, 6) == list(range(6))
        async with _hole_consumer(bootstrap, topic, tmp_path, "compat-tail") as (
            consumer,
            source,
            tp,
        ):
            consumer.app.flow_control.resume()  # a running worker's flow is open
            offsets = [m.offset async for _, m in consumer.getmany(timeout=2.0)]
            dropped = await source.getmany(timeout_ms=2000, max_records=3)  # never yielded
            assert [r.offset for r in dropped[tp]] == [3, 4, 5]
            for _ in range(3):
                offsets += [m.offset async for _, m in consumer.getmany(timeout=1.0)]
            return offsets

    assert asyncio.run(scenario()) == [0, 1, 2, 3, 4, 5]


@pytest.mark.broker
def test_a_gap_that_stays_after_rewinds_is_let_through(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """A position past the last record that no rewind fills (a transaction marker) is let go.

    The tail check rewinds at most a few times to the same offset, then reads on: it must
    not seek back forever on a partition whose end has no record.
    """
    bootstrap, topic = broker.bootstrap_servers, _topic("compat-tail-gap")

    async def scenario() -> tuple[list[int], int]:
        assert await _produce(bootstrap, topic, 3) == [0, 1, 2]
        async with _hole_consumer(bootstrap, topic, tmp_path, "compat-tail-gap") as (
            consumer,
            source,
            tp,
        ):
            consumer.app.flow_control.resume()
            offsets = [m.offset async for _, m in consumer.getmany(timeout=2.0)]
            state = source._subscription.subscription.assignment.state_value(tp)
            for _ in range(6):  # the client's position moves past a record-less end each time
                state._position = 5
                offsets += [m.offset async for _, m in consumer.getmany(timeout=0.2)]
            return offsets, consumer._expected()[tp]

    offsets, expected = asyncio.run(scenario())
    assert offsets == [0, 1, 2]
    assert expected == 5


# --- Consumer.ack ---------------------------------------------------------------------------


def test_an_event_a_stream_skipped_in_a_rebalance_is_not_committed(tmp_path: Path) -> None:
    """An event skipped by the stream (flow stopped for a rebalance) does not move the commit.

    During a revoke Faust forgets the partition's committed offset and waits for in-flight
    events; an event that reaches the stream then is skipped and acked, and the commit made
    before handing the partition over went past it: nobody processed it (a lost alert in the
    random SIGKILL test). Only events the stream tracked (handed to the agent) count.
    """
    from faust.types.tuples import TP, ConsumerMessage

    app = faust.App("compat-ack", broker="kafka://127.0.0.1:1", datadir=str(tmp_path))
    app.transport = compat.Transport(app.conf.broker_consumer, app)
    consumer = app.consumer
    consumer._thread.thread_loop.close()  # the real thread is never started
    topic = "compat-ack-topic"
    app.topics._acking_topics.add(topic)  # what subscribing an agent to the topic does
    tp = TP(topic, 0)

    def message(offset: int, *, tracked: bool) -> ConsumerMessage:
        msg = ConsumerMessage(topic, 0, offset, 0.0, 0, None, b"k", b"v", None)
        msg.tracked = tracked  # the stream tracks an event when it hands it to the agent
        msg.incref()
        return msg

    in_flight = message(41, tracked=True)  # the agent was processing it when the revoke began
    skipped = message(42, tracked=False)  # reached the stream with the flow stopped: skipped
    assert consumer._committed_offset[tp] is None  # popped by the revoke
    assert in_flight.ack(consumer) is True
    assert skipped.ack(consumer) is False
    assert skipped.acked and skipped not in consumer._unacked_messages
    assert consumer._new_offset(tp) == 42  # 42 is read again by the partition's next owner


def test_the_commit_never_passes_an_unprocessed_record_at_the_head(tmp_path: Path) -> None:
    """Committed 329 with 330 and 331 acked: nothing is committed until 329 is processed.

    Faust's head-gap test is ``min(acked) - committed > 1``, so one record dropped right at
    the head of a partition (while the next ones were processed) was committed unprocessed:
    one lost alert in 30 random kills (NW_FAULTS_KILL_ROUNDS=30, seed 563164872, round 29).
    """
    from faust.transport.consumer import Consumer as FaustConsumer
    from faust.types.tuples import TP

    app = faust.App("compat-head", broker="kafka://127.0.0.1:1", datadir=str(tmp_path))
    app.transport = compat.Transport(app.conf.broker_consumer, app)
    consumer = app.consumer
    consumer._thread.thread_loop.close()  # the real thread is never started
    tp = TP("compat-head-topic", 2)

    def head(committed: int, acked: list[int]) -> None:
        consumer._committed_offset[tp] = committed
        consumer._acked[tp][:] = acked
        consumer._acked_index[tp].clear()
        consumer._acked_index[tp].update(acked)

    head(329, [330, 331])
    assert FaustConsumer._new_offset(consumer, tp) == 332  # Faust's own: 329 lost
    head(329, [330, 331])
    assert consumer._new_offset(tp) is None
    assert consumer.__dict__["_head_gaps"][tp][0] == 329  # read again from 329 shortly
    head(329, [329, 330, 331])
    assert consumer._new_offset(tp) == 332
    assert tp not in consumer.__dict__["_head_gaps"]  # processed after all: no read again
    head(329, [330, 331])
    consumer._gap[tp].addi(329, 330)  # a known gap (no record at 329) counts as processed
    assert consumer._new_offset(tp) == 332


@pytest.mark.broker
def test_an_unprocessed_head_record_is_read_again(
    broker: EmbeddedBroker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit held by an unprocessed head record rewinds the partition to that record.

    The records after it are read again too (their acks are forgotten; delivery of an alert
    already sent is suppressed by the sent table), so the commit can move on.
    """
    monkeypatch.setattr(compat, "_HEAD_GAP_GRACE_S", 0.0)
    bootstrap, topic = broker.bootstrap_servers, _topic("compat-head")

    async def scenario() -> tuple[list[int], list[int]]:
        assert await _produce(bootstrap, topic, 6) == list(range(6))
        async with _hole_consumer(bootstrap, topic, tmp_path, "compat-head2") as (
            consumer,
            _source,
            tp,
        ):
            consumer.app.flow_control.resume()
            consumer.assignment = lambda: {tp}  # type: ignore[method-assign]
            offsets = [m.offset async for _, m in consumer.getmany(timeout=2.0)]
            offsets += [m.offset async for _, m in consumer.getmany(timeout=2.0)]
            consumer._committed_offset[tp] = 3  # 0..2 committed; 3 was dropped, 4 and 5 acked
            consumer._acked[tp][:] = [4, 5]
            consumer._acked_index[tp].update([4, 5])
            assert consumer._new_offset(tp) is None
            for _ in range(3):
                offsets += [m.offset async for _, m in consumer.getmany(timeout=1.0)]
            return offsets, list(consumer._acked[tp])

    offsets, acked = asyncio.run(scenario())
    assert offsets == [0, 1, 2, 3, 4, 5, 3, 4, 5]
    assert acked == []  # 4 and 5 are acked again when processed again


# --- TableManager ---------------------------------------------------------------------------


def test_the_worker_registers_its_tables_without_faust_s_one_second_pause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's table manager registers changelogs and starts recovery without sleeping.

    Works around: Faust's TableManager sleeps 1 s at start so late-declared tables are
    included; newswatch declares all three tables in create_app, so the pause only delayed
    every worker start.
    """
    settings = Settings.load(data_dir=tmp_path / "data", kafka_bootstrap_servers="127.0.0.1:1")
    app = create_app(settings)
    manager = app.tables
    assert isinstance(manager, compat.TableManager)
    assert set(manager) == {"alert-policy", "alert-sent", "alert-digest"}  # all declared here
    calls: list[str] = []

    async def record(name: str) -> None:
        calls.append(name)

    monkeypatch.setattr(manager, "sleep", lambda seconds: record(f"sleep {seconds}"))
    monkeypatch.setattr(manager, "_update_channels", lambda: record("channels"))
    monkeypatch.setattr(manager.recovery, "start", lambda: record("recovery"))
    asyncio.run(manager.on_start())
    assert calls == ["channels", "recovery"]
    app.consumer._thread.thread_loop.close()  # created with the (never started) consumer thread


# --- check_versions ------------------------------------------------------------------------


def test_untested_faust_version_fails_at_import_with_a_clear_message() -> None:
    """A faust-streaming other than the tested one is refused, naming both versions.

    Guards every patch above: they read private attributes of these exact versions.
    """
    with pytest.raises(ConfigError, match=r"faust-streaming 0\.16\.0 \(tested: 0\.15\.3\)"):
        check_versions({"faust-streaming": "0.16.0", "aiokafka": "0.14.0"})
    check_versions({"faust-streaming": "0.15.3", "aiokafka": "0.14.0"})

"""``newswatch bench broker``: the embedded broker's fetch latency and CPU by records stored.

One run starts the embedded broker (Tansu, memory storage, as ``newswatch worker`` does),
creates one throw-away topic (``nwbb…``, ``partitions`` partitions) and, for each size in
``stored`` (ascending), fills it up to that many records and then measures for ``seconds``:

* at ``rate`` records per second, one article-sized record is produced (acknowledged) and
  read back by a consumer that seeks to it: the time of that one fetch (the record is already
  stored, so no long-poll wait is in it) is the fetch latency (p50/p99);
* broker CPU: CPU seconds of the broker process (``/proc/<pid>/stat``) over the phase's wall
  time (% of one core), and per produced+fetched record (ms); broker RSS.

Fill records are produced as single-record batches by default (``batch=1``): an article a
second is one batch per record, and Tansu 0.6's memory engine stores one object per batch
and lists every object of a partition on each fetch that returns data
(``tansu-storage/src/dynostore.rs`` ``fetch``), so its cost follows batches per partition.
With ``rotate`` (> 0) the broker runs as ``newswatch broker`` does with
``NEWSWATCH_BROKER_ROTATE_RECORDS``: behind the request gate, with a janitor (checks every
``rotate_interval_s``) that rotates the topic past ``rotate`` records once a reader group has
committed all of it. The sizes are then records *produced* so far; after each fill the
group commits the end (a reader that keeps up), the measuring consumers commit what they
fetch, and each row adds the records actually stored and the rotations so far.
This is a benchmark (figures to read, JSON), not a test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from streams.tools.bench._harness import proc_cpu_seconds, proc_memory
from streams.tools.bench._stats import summary

__all__ = ["BrokerBenchOptions", "bench_broker", "run_bench_broker"]


@dataclass
class BrokerBenchOptions:
    """What to measure: stored sizes, partitions, the measuring rate and record shape."""

    stored: list[int] = field(default_factory=lambda: [1000, 10000, 100000])
    partitions: int = 4
    rate: float = 30.0
    seconds: float = 10.0
    record_bytes: int = 3000
    batch: int = 1
    rotate: int = 0
    rotate_interval_s: float = 2.0


#: The consumer group of the rotating benchmark (what the janitor waits for).
READER_GROUP = "nwbb-reader"


def _loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


async def _fill(
    producer: Any,
    topic: str,
    partitions: int,
    count: int,
    size: int,
    batch: int,
    on_chunk: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Produce ``count`` records of ``size`` bytes, ``batch`` per batch, round-robin.

    ``on_chunk`` is awaited after every 1,000 records (the rotating run's reader commits).
    """
    value = b"f" * size
    sent = 0
    partition = 0
    pending: list[Any] = []
    while sent < count:
        n = min(batch, count - sent)
        builder = producer.create_batch()
        for _ in range(n):
            builder.append(key=None, value=value, timestamp=None)
        builder.close()
        pending.append(await producer.send_batch(builder, topic, partition=partition))
        sent += n
        partition = (partition + 1) % partitions
        if len(pending) >= 64 * partitions:
            await asyncio.gather(*pending)
            pending.clear()
        if on_chunk is not None and sent % 1000 < n:
            await asyncio.gather(*pending)
            pending.clear()
            await on_chunk()
    await asyncio.gather(*pending)


async def _measure(
    producer: Any,
    consumers: list[Any],
    topic: str,
    options: BrokerBenchOptions,
    broker_pid: int | None,
) -> dict[str, Any]:
    """Produce-then-fetch one record at ``rate`` for ``seconds``; fetch times and broker CPU."""
    from aiokafka import TopicPartition

    value = b"m" * options.record_bytes
    fetch_ms: list[float] = []
    n = max(1, round(options.rate * options.seconds))
    cpu0 = proc_cpu_seconds(broker_pid) if broker_pid else None
    t0 = time.monotonic()
    for i in range(n):
        partition = i % options.partitions
        tp = TopicPartition(topic, partition)
        meta = await producer.send_and_wait(topic, value, partition=partition)
        consumer = consumers[partition]
        consumer.seek(tp, meta.offset)
        start = time.perf_counter()
        got = await consumer.getmany(tp, timeout_ms=5000, max_records=1)
        if not got.get(tp):
            raise RuntimeError(f"record {topic}[{partition}]@{meta.offset} was not fetched in 5 s")
        fetch_ms.append((time.perf_counter() - start) * 1000.0)
        if options.rotate:
            await consumer.commit({tp: meta.offset + 1})
        pause = t0 + (i + 1) / options.rate - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)
    wall = time.monotonic() - t0
    cpu1 = proc_cpu_seconds(broker_pid) if broker_pid else None
    out: dict[str, Any] = {
        "records": n,
        "wall_s": round(wall, 2),
        "fetch_latency_ms": summary(fetch_ms, digits=2),
    }
    if cpu0 is not None and cpu1 is not None:
        cpu = cpu1 - cpu0
        out["broker_cpu_pct"] = round(100.0 * cpu / wall, 1)
        out["broker_cpu_ms_per_record"] = round(1000.0 * cpu / n, 2)
        # at one article a second the broker pays this per article (one produce, one fetch)
        out["broker_cpu_pct_at_1_per_s"] = round(100.0 * cpu / n, 2)
    return out


async def _commit_end(consumer: Any, bootstrap: str, topic: str, partitions: int) -> None:
    """Commit the topic's end for ``READER_GROUP``: a reader that has read everything."""
    from aiokafka import TopicPartition

    from streams.kafka.rotation import high_watermarks

    highs = await high_watermarks(bootstrap, topic, partitions)
    await consumer.commit({TopicPartition(topic, p): high for p, high in highs.items()})


async def _run(
    bootstrap: str, broker: Any, topic: str, options: BrokerBenchOptions
) -> dict[str, Any]:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    from streams.kafka.rotation import high_watermarks

    broker_pid = broker.pid if broker is not None else None
    group = READER_GROUP if options.rotate else None
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0, acks=1)
    # one consumer per partition: a consumer's fetch request covers all its partitions and
    # waits (long-poll) while they are empty, so a seek on one would wait for that answer
    consumers = [
        AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group,
            enable_auto_commit=False,
            fetch_max_wait_ms=100,
        )
        for _ in range(options.partitions)
    ]
    # the reader that keeps up: commits the end after every fill chunk (rotating runs)
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    sizes: list[dict[str, Any]] = []
    try:
        await admin.create_topics([NewTopic(topic, options.partitions, 1)])
        await producer.start()
        for p, consumer in enumerate(consumers):
            await consumer.start()
            consumer.assign([TopicPartition(topic, p)])
        await reader.start()
        reader.assign([TopicPartition(topic, p) for p in range(options.partitions)])
        stored = 0
        for size in sorted(set(options.stored)):
            t_fill = time.monotonic()
            await _fill(
                producer,
                topic,
                options.partitions,
                size - stored,
                options.record_bytes,
                options.batch,
                on_chunk=(lambda: _commit_end(reader, bootstrap, topic, options.partitions))
                if options.rotate
                else None,
            )
            if options.rotate:
                await _commit_end(reader, bootstrap, topic, options.partitions)
                await asyncio.sleep(1.5 * options.rotate_interval_s)  # one janitor check
            fill_s = time.monotonic() - t_fill
            stored = size
            load = _loadavg()
            phase = await _measure(producer, consumers, topic, options, broker_pid)
            stored += phase["records"]
            row: dict[str, Any] = {
                "stored_records": size,
                "stored_batches_per_partition": round(size / options.batch / options.partitions),
                "fill_s": round(fill_s, 1),
                "loadavg": load,
                **phase,
            }
            if broker_pid:
                row["broker_rss_mb"] = proc_memory(broker_pid).get("rss_mb")
            janitor = getattr(broker, "janitor", None)
            if janitor is not None:
                highs = await high_watermarks(bootstrap, topic, options.partitions)
                row["produced_records"] = sum(highs.values())
                row["stored_now"] = janitor.stored(topic, highs)
                row["rotations"] = len(janitor.rotations)
                row["gate_held_ms_max"] = max(janitor.held_ms, default=0.0)
            sizes.append(row)
    finally:
        for consumer in [*consumers, reader]:
            await consumer.stop()
        await producer.stop()
        with contextlib.suppress(Exception):  # a throw-away topic; the broker may be gone
            await admin.delete_topics([topic])
        await admin.close()
    return {"topic": topic, "sizes": sizes}


def bench_broker(base: Any, options: BrokerBenchOptions) -> dict[str, Any]:
    """Run the benchmark (embedded broker unless ``KAFKA_BOOTSTRAP_SERVERS``); JSON-ready result."""
    from streams.kafka.broker import EmbeddedBroker, free_port
    from streams.kafka.janitor import RotationPolicy

    load_before = _loadavg()
    broker = None
    bootstrap = base.kafka_bootstrap_servers
    topic = "nwbb" + uuid.uuid4().hex[:8]
    rotation = None
    if options.rotate:
        if bootstrap:
            raise ValueError("--rotate needs the embedded broker (KAFKA_BOOTSTRAP_SERVERS is set)")
        rotation = RotationPolicy(
            options.rotate, READER_GROUP, (topic,), (), interval_s=options.rotate_interval_s
        )
    try:
        if not bootstrap:
            broker = EmbeddedBroker(port=free_port(), rotation=rotation).start()
            bootstrap = broker.bootstrap_servers
        measured = asyncio.run(_run(bootstrap, broker, topic, options))
    finally:
        if broker is not None:
            broker.stop()
    return {
        "bench": "broker",
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "loadavg_before": load_before,
            "loadavg_after": _loadavg(),
        },
        "config": {
            "broker": "embedded (Tansu, memory storage)" if broker else bootstrap,
            "partitions": options.partitions,
            "rate_per_s": options.rate,
            "seconds": options.seconds,
            "record_bytes": options.record_bytes,
            "records_per_stored_batch": options.batch,
            "rotate_records": options.rotate,
            "rotate_interval_s": options.rotate_interval_s if options.rotate else None,
        },
        **measured,
    }


def run_bench_broker(settings: Any, options: BrokerBenchOptions) -> int:
    """``newswatch bench broker``: print the JSON result; exit 0."""
    print(json.dumps(bench_broker(settings, options), indent=2))
    return 0

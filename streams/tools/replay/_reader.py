"""Read one topic, all partitions, over a time range: its own consumer, no group, no commits.

``TopicReader.plan()`` snapshots each partition's first and end offsets, asks the broker for
the offsets of ``since`` and checks each answer against the records around it (``_seek``);
``batches()`` then reads every partition from its planned start to the snapshot end (records
appended during the replay, e.g. by ``--republish``, are not read). Filtering on record
timestamps is the caller's job, so the selection is the same whatever the plan says.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from streams.errors import BrokerError
from streams.tools.replay._seek import Probe, plan_partition, probe_offset
from streams.tools.replay._types import ReadBatch, ReadRecord
from streams.tools.replay.errors import ReplayReadError, TopicNotFound
from streams.tools.report.model import PartitionRead

__all__ = ["TopicReader"]


class TopicReader:
    """Reads ``topic`` between planned offsets; ``start``/``stop`` own the consumer."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        *,
        since_ms: int | None = None,
        full_scan: bool = False,
        max_fetch_bytes: int = 4_194_304,
        max_records: int = 500,
        stall_timeout_s: float = 30.0,
        security: Mapping[str, Any] | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.since_ms = since_ms
        self.full_scan = full_scan
        self.max_records = max_records
        self.stall_timeout_s = stall_timeout_s
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            client_id="newswatch-replay",
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=max_fetch_bytes,
            fetch_max_bytes=max(max_fetch_bytes, 52_428_800),
            isolation_level="read_uncommitted",
            **(security or {}),  # TLS/SASL: streams.kafka.security.client_kwargs(settings)
        )
        self._tps: list[TopicPartition] = []
        self.plan_: list[PartitionRead] = []

    async def start(self) -> None:
        """Connect and check that the topic exists (without auto-creating it)."""
        try:
            await self._consumer.start()
            topics = await self._consumer.topics()
        except (KafkaError, OSError) as exc:
            await self._consumer.stop()
            raise BrokerError(f"cannot read from Kafka at {self.bootstrap}: {exc}") from None
        if self.topic not in topics:
            await self._consumer.stop()
            raise TopicNotFound(self.topic, self.bootstrap)
        parts = self._consumer.partitions_for_topic(self.topic) or set()
        self._tps = [TopicPartition(self.topic, p) for p in sorted(parts)]
        self._consumer.assign(self._tps)

    async def stop(self) -> None:
        """Close the consumer (it never committed anything)."""
        await self._consumer.stop()

    async def __aenter__(self) -> TopicReader:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def total(self) -> int:
        """Offsets to read over all partitions (known after ``plan``)."""
        return sum(p.end - p.start for p in self.plan_)

    async def plan(self) -> list[PartitionRead]:
        """Decide where each partition starts and ends; checks the broker's answers."""
        try:
            beginning = await self._consumer.beginning_offsets(self._tps)
            listed = await self._consumer.end_offsets(self._tps)
            end = await self._high_watermarks(beginning, listed)
            answers: dict[TopicPartition, int | None] = {tp: None for tp in self._tps}
            probes: dict[int, list[Probe]] = {}
            if self.since_ms is not None and not self.full_scan:
                found = await self._consumer.offsets_for_times(
                    {tp: self.since_ms for tp in self._tps}
                )
                answers = {tp: (v.offset if v is not None else None) for tp, v in found.items()}
                probes = await self._probe(
                    {tp: probe_offset(answers.get(tp), beginning[tp], end[tp]) for tp in self._tps},
                    answers,
                    end,
                )
        except (KafkaError, OSError) as exc:
            raise ReplayReadError(f"cannot list offsets: {exc}", topic=self.topic) from None
        plan = []
        for tp in self._tps:
            read = plan_partition(
                tp.partition,
                since_ms=self.since_ms,
                answer=answers.get(tp),
                beginning=beginning[tp],
                end=end[tp],
                probe=probes.get(tp.partition, []),
                full_scan=self.full_scan,
            )
            if end[tp] != listed[tp]:
                note = f"end = fetch high watermark {end[tp]} (ListOffsets said {listed[tp]})"
                read = read.model_copy(update={"reason": f"{read.reason}; {note}"})
            plan.append(read)
        self.plan_ = plan
        return plan

    async def _high_watermarks(
        self, beginning: dict[TopicPartition, int], listed: dict[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        """End offsets: the larger of ListOffsets(latest) and a fetch response's high watermark.

        The embedded broker answers ListOffsets(latest) with the base offset of the last
        record *batch* plus one, which misses the rest of a multi-record batch; the fetch
        response carries the true high watermark.
        """
        for tp in self._tps:
            self._consumer.seek(tp, max(beginning[tp], listed[tp] - 1))
        pending = set(self._tps)
        deadline = time.monotonic() + self.stall_timeout_s
        while pending and time.monotonic() < deadline:
            await self._consumer.getmany(*pending, timeout_ms=100, max_records=1)
            pending = {tp for tp in pending if self._consumer.highwater(tp) is None}
        if pending:
            tp = next(iter(pending))
            raise ReplayReadError(
                "no fetch answer to learn the high watermark",
                topic=self.topic,
                partition=tp.partition,
            )
        return {tp: max(listed[tp], int(self._consumer.highwater(tp) or 0)) for tp in self._tps}

    async def _probe(
        self,
        starts: dict[TopicPartition, int | None],
        answers: dict[TopicPartition, int | None],
        ends: dict[TopicPartition, int],
    ) -> dict[int, list[Probe]]:
        """Fetch, per partition, the records from ``starts[tp]`` up to one at/after the answer."""
        targets: dict[TopicPartition, int] = {}
        for tp, offset in starts.items():
            if offset is None:
                continue
            answer = answers.get(tp)
            targets[tp] = answer if answer is not None and offset <= answer < ends[tp] else offset
            if answer is None or answer >= ends[tp]:
                targets[tp] = ends[tp] - 1
            self._consumer.seek(tp, offset)
        got: dict[int, list[Probe]] = {tp.partition: [] for tp in targets}
        pending = set(targets)
        deadline = time.monotonic() + self.stall_timeout_s
        while pending and time.monotonic() < deadline:
            batch = await self._consumer.getmany(*pending, timeout_ms=200, max_records=10)
            for tp, msgs in batch.items():
                for m in msgs:
                    got[tp.partition].append(Probe(m.offset, int(m.timestamp)))
                    if m.offset >= targets[tp]:
                        pending.discard(tp)
                        break
            for tp in list(pending):  # gaps: the position may pass the target without a record
                if await self._consumer.position(tp) > targets[tp]:
                    pending.discard(tp)
        return got

    async def batches(self) -> AsyncIterator[ReadBatch]:
        """Every record of every partition from its planned start to its snapshot end."""
        if not self.plan_:
            await self.plan()
        by_part = {p.partition: p for p in self.plan_}
        active: dict[TopicPartition, int] = {}
        for tp in self._tps:
            read = by_part[tp.partition]
            if read.start < read.end:
                self._consumer.seek(tp, read.start)
                active[tp] = read.start
        last_progress = time.monotonic()
        while active:
            try:
                fetched = await self._consumer.getmany(
                    *active, timeout_ms=500, max_records=self.max_records
                )
            except (KafkaError, OSError) as exc:
                tp = next(iter(active))
                raise ReplayReadError(
                    f"fetch failed: {exc}",
                    topic=self.topic,
                    partition=tp.partition,
                    offset=active[tp],
                ) from None
            records: list[ReadRecord] = []
            consumed = 0
            for tp, msgs in fetched.items():
                if tp not in active:
                    continue
                stop = by_part[tp.partition].end
                for m in msgs:
                    if m.offset >= stop:
                        break
                    records.append(ReadRecord(tp.partition, m.offset, m.timestamp, m.key, m.value))
                new_pos = min(max(active[tp], msgs[-1].offset + 1), stop) if msgs else active[tp]
                consumed += new_pos - active[tp]
                active[tp] = new_pos
            # positions can move past gaps (compaction, control records) without records
            for tp in list(active):
                pos = max(
                    active[tp], min(await self._consumer.position(tp), by_part[tp.partition].end)
                )
                consumed += pos - active[tp]
                active[tp] = pos
                if pos >= by_part[tp.partition].end:
                    del active[tp]
                    self._consumer.pause(tp)
            if records or consumed:
                last_progress = time.monotonic()
                yield ReadBatch(records, consumed)
            elif time.monotonic() - last_progress > self.stall_timeout_s:
                tp = next(iter(active))
                raise ReplayReadError(
                    f"no progress for {self.stall_timeout_s:.0f}s (end offset "
                    f"{by_part[tp.partition].end})",
                    topic=self.topic,
                    partition=tp.partition,
                    offset=active[tp],
                )
            else:
                await asyncio.sleep(0)

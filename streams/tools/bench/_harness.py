"""Moving parts of ``newswatch bench e2e``: fake Slack in a thread, Kafka probes, /proc readers.

* ``accepted_posts`` / ``rejected_posts``: the ``chat.postMessage`` calls a ``FakeSlack``
  saw (it runs in ``streams.testing.SlackThread``, on its own event loop, so the time it
  stamps on a request does not wait for the benchmark's producer loop).
* ``KafkaProbe``: end offsets and the consumer group's committed offsets of a topic
  (consumer lag as Kafka defines it), and ``TopicTail``: reads a topic incrementally.
* ``proc_memory`` / ``proc_cpu_seconds`` / ``proc_wait_seconds``: RSS, peak RSS (``VmHWM``),
  CPU time and time spent waiting for a busy CPU of a pid.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

__all__ = [
    "KafkaProbe",
    "TopicTail",
    "accepted_posts",
    "proc_cpu_seconds",
    "proc_descendants",
    "proc_memory",
    "proc_wait_seconds",
    "rejected_posts",
]

_TICKS = os.sysconf("SC_CLK_TCK")


def proc_memory(pid: int) -> dict[str, float]:
    """``{"rss_mb", "hwm_mb"}`` of a live process from ``/proc/<pid>/status`` (empty if gone)."""
    out: dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key = "rss_mb" if line.startswith("VmRSS") else "hwm_mb"
                    out[key] = round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        return {}
    return out


def proc_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process (``/proc/<pid>/stat``), None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS


def accepted_posts(slack: Any) -> list[Any]:
    """Accepted ``chat.postMessage`` requests of a ``FakeSlack`` (``SlackRequest`` objects)."""
    return [r for r in list(slack.requests) if r.method == "chat.postMessage" and r.outcome == "ok"]


def rejected_posts(slack: Any) -> list[Any]:
    """``chat.postMessage`` requests a ``FakeSlack`` refused or failed (should be none)."""
    return [
        r
        for r in list(slack.requests)
        if r.method == "chat.postMessage" and r.outcome not in ("ok", "")
    ]


def proc_descendants(pid: int) -> list[int]:
    """Child processes of ``pid``, recursively (e.g. an enrichment process pool)."""
    out: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children", encoding="ascii") as fh:
                    kids = [int(k) for k in fh.read().split()]
            except (OSError, ValueError):
                continue
            out.extend(kids)
            todo.extend(kids)
    return out


def proc_wait_seconds(pid: int) -> float | None:
    """Seconds the threads of a process waited runnable for a CPU (``schedstat`` run delay).

    High values mean CPU contention: the process wanted to run but the cores were busy.
    """
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat", encoding="ascii") as fh:
                total += int(fh.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


class KafkaProbe:
    """Offsets of one topic: the log end, and what the consumer group ``group`` committed."""

    def __init__(
        self, bootstrap: str, topic: str, group: str, security: Mapping[str, Any] | None = None
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.group = group
        auth = dict(security or {})  # TLS/SASL: streams.kafka.security.client_kwargs(settings)
        self._admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap, client_id="nw-bench-probe", **auth
        )
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            enable_auto_commit=False,
            client_id="nw-bench-offsets",
            **auth,
        )
        self.partitions: list[TopicPartition] = []

    async def start(self) -> None:
        """Connect and learn the topic's partitions."""
        await self._admin.start()
        await self._consumer.start()
        for _ in range(100):
            parts = self._consumer.partitions_for_topic(self.topic)
            if parts:
                self.partitions = [TopicPartition(self.topic, p) for p in sorted(parts)]
                return
            await self._consumer._client.force_metadata_update()
            await asyncio.sleep(0.1)
        raise RuntimeError(f"topic {self.topic} has no partitions")

    async def stop(self) -> None:
        """Disconnect."""
        await self._consumer.stop()
        await self._admin.close()

    async def end_offsets(self) -> dict[int, int]:
        """partition → log end offset."""
        ends = await self._consumer.end_offsets(self.partitions)
        return {tp.partition: int(off) for tp, off in ends.items()}

    async def committed(self) -> dict[int, int]:
        """partition → the group's committed offset (0 where it committed nothing yet)."""
        got = await self._admin.list_consumer_group_offsets(self.group, partitions=self.partitions)
        out = {tp.partition: 0 for tp in self.partitions}
        for tp, meta in got.items():
            if tp.topic == self.topic and meta.offset >= 0:
                out[tp.partition] = int(meta.offset)
        return out

    async def lag(self) -> tuple[int, dict[int, int]]:
        """Total and per-partition consumer lag (end offset − committed offset)."""
        ends, done = await asyncio.gather(self.end_offsets(), self.committed())
        per = {p: max(0, ends[p] - done.get(p, 0)) for p in ends}
        return sum(per.values()), per


class TopicTail:
    """Reads every record of a topic from the beginning, a chunk per ``read_new`` call."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        parse: Callable[[Any], Any | None],
        security: Mapping[str, Any] | None = None,
    ) -> None:
        self.topic = topic
        self.parse = parse
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id=f"nw-bench-tail-{topic}",
            max_partition_fetch_bytes=8 * 1024 * 1024,
            **(security or {}),
        )
        # End offsets come from a consumer that fetches nothing: on the reading consumer's
        # connection ListOffsets queues behind its long-poll Fetch (up to 500 ms a call).
        self._offsets = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            enable_auto_commit=False,
            client_id=f"nw-bench-tail-offsets-{topic}",
            **(security or {}),
        )
        self._tps: list[TopicPartition] = []

    async def start(self) -> None:
        """Assign every partition from offset 0."""
        await self._consumer.start()
        await self._offsets.start()
        for _ in range(100):
            parts = self._consumer.partitions_for_topic(self.topic)
            if parts:
                break
            await self._consumer._client.force_metadata_update()
            await asyncio.sleep(0.1)
        self._tps = [TopicPartition(self.topic, p) for p in sorted(parts or [])]
        self._consumer.assign(self._tps)
        await self._consumer.seek_to_beginning(*self._tps)

    async def stop(self) -> None:
        """Disconnect."""
        await self._offsets.stop()
        await self._consumer.stop()

    async def read_new(self, timeout: float = 30.0) -> list[Any]:
        """Parsed records up to the end offsets as of this call (``parse`` may drop some)."""
        ends = await self._offsets.end_offsets(self._tps)
        out: list[Any] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while await self._behind(ends):
            if asyncio.get_running_loop().time() > deadline:
                break
            batch = await self._consumer.getmany(timeout_ms=200, max_records=2000)
            for msgs in batch.values():
                for msg in msgs:
                    parsed = self.parse(msg)
                    if parsed is not None:
                        out.append(parsed)
        return out

    async def _behind(self, ends: dict[TopicPartition, int]) -> bool:
        for tp, end in ends.items():
            if await self._consumer.position(tp) < end:
                return True
        return False

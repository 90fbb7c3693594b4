"""Keeps the embedded broker's topics bounded: rotates a topic once it holds too many records.

Runs in the process that runs the embedded broker (never against a Kafka cluster, where
``retention.ms`` does this). Every ``interval_s`` it reads each rotated topic's end offsets;
a topic with more than ``max_records`` records stored since its last rotation is rotated
(``streams/kafka/rotation.py``) when, with the gate holding every client's requests
(``streams/kafka/gate.py``):

* the topic is one the workers read (``READ_ROLES``) and the consumer group has committed
  up to its end on every partition (nothing stored is unread), or
* no worker reads it (``articles.enriched``, ``alerts``, ``alerts.outcomes``, dead
  letters): then only history for replay/audit goes.

Not rotated: ``alerts.silences`` (compacted state), ``alerts.feedback`` (read by every
worker's follower from its own position) and Faust's changelog and leader topics.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field

from streams.kafka.gate import RequestGate
from streams.kafka.rotation import (
    committed_offsets,
    drained,
    high_watermarks,
    partition_count,
    restore_offsets,
    rotate_topic,
)
from streams.settings import Settings

__all__ = ["READ_ROLES", "ROTATED_ROLES", "Janitor", "RotationPolicy"]

log = logging.getLogger(__name__)

#: Topic roles (``schemas.topics.Topics`` fields) the worker's agents consume with the group.
READ_ROLES = ("raw", "matches", "lane_slack", "lane_email", "lane_local")
#: Every role the janitor rotates: the read ones and the ones no newswatch group reads.
ROTATED_ROLES = (*READ_ROLES, "enriched", "alerts", "outcomes", "raw_dlq", "alerts_dlq")


@dataclass(frozen=True)
class RotationPolicy:
    """Which topics to bound, at how many records each, for which consumer group."""

    max_records: int
    group: str
    read: tuple[str, ...]
    unread: tuple[str, ...]
    interval_s: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RotationPolicy | None:
        """The policy of ``NEWSWATCH_BROKER_ROTATE_RECORDS`` (None when 0: never rotate)."""
        if settings.broker_rotate_records <= 0:
            return None
        topics = settings.topics
        read = tuple(getattr(topics, role) for role in READ_ROLES)
        unread = tuple(getattr(topics, r) for r in ROTATED_ROLES if r not in READ_ROLES)
        return cls(settings.broker_rotate_records, settings.app_id, read, unread)


@dataclass
class _Topic:
    partitions: int = 0
    floors: dict[int, int] = field(default_factory=dict)  # end offsets at the last rotation


class Janitor:
    """A daemon thread that rotates the policy's topics through ``bootstrap`` (the gate)."""

    def __init__(self, policy: RotationPolicy, gate: RequestGate, bootstrap: str) -> None:
        self.policy = policy
        self.gate = gate
        self.bootstrap = bootstrap
        self.rotations: list[tuple[str, int]] = []  # (topic, records dropped), in order
        self.held_ms: list[float] = []  # how long each pass held the clients' requests
        self._topics: dict[str, _Topic] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="broker-janitor", daemon=True)

    def start(self) -> Janitor:
        """Start the periodic checks."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop after the current check."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(30.0)

    def _run(self) -> None:
        while not self._stop.wait(self.policy.interval_s):
            try:
                asyncio.run(self.check())
            except Exception as exc:  # never let the broker's process die of a janitor error
                log.warning("embedded broker rotation check failed: %s", exc)

    def stored(self, topic: str, highs: dict[int, int]) -> int:
        """Records stored in ``topic`` since its last rotation."""
        floors = self._topics.setdefault(topic, _Topic()).floors
        return sum(high - floors.get(p, 0) for p, high in highs.items())

    async def check(self) -> list[str]:
        """One pass: rotate every topic over the bound that may go; returns their names."""
        due = [t for t in (*self.policy.read, *self.policy.unread) if await self._over(t)]
        if not due or not await asyncio.to_thread(self.gate.hold):
            return []
        start = time.monotonic()
        try:
            return [t for t in due if await self._rotate_if_safe(t)]
        finally:
            self.gate.release()
            self.held_ms.append(round((time.monotonic() - start) * 1000.0, 1))

    async def _restore(self, topic: str, highs: dict[int, int]) -> None:
        for attempt in range(5):
            try:
                await restore_offsets(self.bootstrap, topic, highs)
                return
            except Exception as exc:
                log.error("embedded broker: restoring %s after rotation: %s", topic, exc)
                await asyncio.sleep(0.2 * (attempt + 1))
        self._stop.set()  # no further rotation: offsets of this topic may have gone back
        raise RuntimeError(f"{topic} could not be restored at {highs}: rotation stopped")

    async def _over(self, topic: str) -> bool:
        state = self._topics.setdefault(topic, _Topic())
        if not state.partitions:
            state.partitions = await partition_count(self.bootstrap, topic)
            if not state.partitions:
                return False
        highs = await high_watermarks(self.bootstrap, topic, state.partitions)
        return self.stored(topic, highs) > self.policy.max_records

    async def _rotate_if_safe(self, topic: str) -> bool:
        state = self._topics[topic]
        highs = await high_watermarks(self.bootstrap, topic, state.partitions)
        if topic in self.policy.read:
            done = await committed_offsets(
                self.bootstrap, self.policy.group, topic, state.partitions
            )
            if not drained(highs, done, state.floors):
                log.debug("not rotating %s yet: ends %s, read %s", topic, highs, done)
                return False
        dropped = self.stored(topic, highs)
        reason = ", all read by the group" if topic in self.policy.read else ", not read by workers"
        try:
            await rotate_topic(self.bootstrap, topic, highs)
        except Exception:
            await self._restore(topic, highs)  # offsets must not go back: retry, gate held
        state.floors = dict(highs)
        self.rotations.append((topic, dropped))
        log.info("embedded broker: rotated %s (%d records dropped%s)", topic, dropped, reason)
        return True

"""Every override of Faust/aiokafka internals newswatch needs, in one place.

Each patch names the broker or library behaviour it works around and has one focused test
in ``tests/streams/kafka/test_compat.py``. They reach into private attributes of
faust-streaming and aiokafka, so both are pinned (pyproject.toml) and checked here at import:
an upgrade that could silently undo a fix fails at start with a clear message instead.

    FETCH_MAX_WAIT_MS          the embedded broker does not answer a waiting fetch when data
                               arrives: Faust's hard-coded 1500 ms became latency per hop
    ConsumerThread.seek_to_committed
                               aiokafka skips partitions without a committed offset when
                               Faust seeks back after a rebalance: their fetched records
                               were never read again (a partition's backlog lost)
    ConsumerThread._highwaters the embedded broker answers ListOffsets(latest) with the last
                               batch's base offset + 1: table recovery stopped early
                               (alert decisions lost after a crash)
    Consumer.getmany           a hole in a partition's offsets (records a rebalance made the
                               consumer skip) was acked as a compaction gap: the partition
                               now seeks back and reads the hole again
    Consumer.ack               an event a stream skipped during a rebalance (flow stopped, or
                               fetched in an older generation) was acked and its offset
                               committed unprocessed: skipped events no longer count
    Transport                  the transport that uses the consumer above
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Mapping
from importlib.metadata import version as _dist_version
from typing import Any, cast

from aiokafka import AIOKafkaConsumer, TopicPartition
from faust import tables as faust_tables
from faust.transport.drivers import aiokafka as faust_aiokafka

from streams.errors import ConfigError

__all__ = [
    "FETCH_MAX_WAIT_MS",
    "TESTED_VERSIONS",
    "TableManager",
    "Transport",
    "check_versions",
    "confirm_end_offsets",
]

log = logging.getLogger(__name__)

#: The library versions these patches were written against and tested with.
TESTED_VERSIONS = {"faust-streaming": "0.15.3", "aiokafka": "0.14.0"}


def check_versions(installed: Mapping[str, str] | None = None) -> None:
    """Raise ``ConfigError`` unless the installed Faust/aiokafka are the tested versions."""
    found = (
        dict(installed)
        if installed is not None
        else {name: _dist_version(name) for name in TESTED_VERSIONS}
    )
    wrong = [
        f"{name} {found.get(name)} (tested: {want})"
        for name, want in TESTED_VERSIONS.items()
        if found.get(name) != want
    ]
    if wrong:
        raise ConfigError(
            "streams/kafka/compat.py patches private internals of "
            + ", ".join(wrong)
            + "; re-run tests/streams/kafka/test_compat.py and tests/faults on the new version,"
            " then update TESTED_VERSIONS and the pins in pyproject.toml"
        )


check_versions()


#: Longest a consumer fetch waits for data. Faust hard-codes 1500 ms, and a broker that does
#: not answer a waiting fetch as soon as data arrives (the embedded Tansu broker) then adds
#: up to that much latency per topic hop: 2 hops made the p99 from article to Slack ~2.5 s.
FETCH_MAX_WAIT_MS = 100


class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """Faust's aiokafka consumer thread with ``fetch_max_wait_ms = FETCH_MAX_WAIT_MS``.

    And two fixes found by the SIGKILL test (tests/faults/test_worker_crash.py):

    - ``seek_to_committed`` also rewinds source partitions without a committed offset: Faust
      drops records it fetched when a rebalance interrupts a fetch and seeks back to the
      committed offsets, but aiokafka skips partitions that have none, so those records
      were never read again (up to a whole partition's backlog lost).
    - ``_highwaters`` (table recovery reads each changelog up to them) is confirmed by a
      fetch: the embedded broker answers ListOffsets(latest) with the last batch's base
      offset + 1, so recovery stopped before the last records of a batch (alert decisions
      lost after a crash, and alerts with them).
    """

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # read when the consumer starts
        return consumer

    async def seek_to_committed(self) -> Mapping[Any, int]:
        """Seek to the committed offsets; partitions without one go to the beginning."""
        committed = await self.call_thread(self._seek_to_committed_or_beginning)
        return cast(Mapping[Any, int], committed)

    async def _seek_to_committed_or_beginning(self) -> Mapping[Any, int]:
        consumer = self._ensure_consumer()
        committed = await consumer.seek_to_committed()
        changelogs = self.app.tables.changelog_topics
        fresh = [tp for tp, at in committed.items() if not at and tp.topic not in changelogs]
        if fresh:  # auto_offset_reset is "earliest"
            await consumer.seek_to_beginning(*fresh)
        return cast(Mapping[Any, int], committed)

    async def _highwaters(self, partitions: Any) -> Any:
        ends = await super()._highwaters(partitions)
        conf = self.app.conf
        auth = faust_aiokafka.credentials_to_aiokafka_auth(
            conf.broker_credentials, conf.ssl_context
        )
        transport = cast(faust_aiokafka.Transport, self.transport)
        servers = faust_aiokafka.server_list(transport.url, transport.default_port)
        return await confirm_end_offsets(ends, bootstrap_servers=servers, **auth)


async def confirm_end_offsets(ends: Mapping[Any, int], **client: Any) -> dict[Any, int]:
    """``ends`` raised to the high watermark a fetch of each partition's last batch reports."""
    result = dict(ends)
    tps = {TopicPartition(tp.topic, tp.partition): tp for tp, end in ends.items() if end}
    if not tps:
        return result
    probe = AIOKafkaConsumer(enable_auto_commit=False, **client)
    await probe.start()
    try:
        probe.assign(list(tps))
        for tp, key in tps.items():
            probe.seek(tp, ends[key] - 1)
        pending = set(tps)
        for _ in range(10):
            await probe.getmany(*pending, timeout_ms=200)
            for tp in list(pending):
                highwater = probe.highwater(tp)
                if highwater is not None:
                    result[tps[tp]] = max(result[tps[tp]], highwater)
                    pending.discard(tp)
            if not pending:
                break
        return result
    finally:
        await probe.stop()


class Consumer(faust_aiokafka.Consumer):
    """Faust's consumer, reading again the records a rebalance made it skip.

    When a rebalance interrupts a fetch, Faust drops records it had fetched (or hands them
    to a stream that skips them) and relies on a seek back to the committed offset; when
    that seek does not happen, the next record of the partition comes after a hole, which
    Faust takes for a compaction gap and acks: the records in the hole were committed
    unprocessed (lost alerts in the SIGKILL test, tests/faults/test_worker_crash.py). Here
    the offset each partition must read next is tracked, and a hole makes the partition
    seek back and read again (at-least-once: a record may come twice). A hole still there
    right after that rewind is real (transaction markers, compaction) and is let through;
    once the partition was read past it, a new hole at the same offset is rewound again.
    """

    def _new_consumer_thread(self) -> Any:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    def ack(self, message: Any) -> bool:
        """Mark a processed message safe to commit; a message a stream skipped is not.

        A Faust stream skips (and acks) an event that reaches it while the flow is stopped
        for a rebalance or that was fetched in an older consumer generation (stuck in the
        conductor across the rebalance), relying on a seek back to the committed offset to
        read it again. Acked, its offset was committed during the rebalance — past a record
        no agent had processed (a lost alert in the random SIGKILL test). Such a message
        never reached the agent, so the stream never tracked it: it is let go here without
        counting toward the committed offset, and is read again from the committed offset.
        """
        if not getattr(message, "tracked", True):
            message.acked = True
            self._unacked_messages.discard(message)
            said = self.__dict__.setdefault("_said_skipped", set())
            if (message.tp, message.generation_id) not in said:  # once per partition and rebalance
                if len(said) > 4096:
                    said.clear()
                said.add((message.tp, message.generation_id))
                log.info(
                    "%s: event at offset %d skipped during a rebalance: not committed, read again",
                    message.tp,
                    message.offset,
                )
            return False
        return super().ack(message)

    def _new_offset(self, tp: Any) -> int | None:
        """Faust's next offset to commit, never past a record at the head nobody processed.

        Faust commits the first run of acked offsets when it starts ONE past the committed
        offset (its test for a head gap is ``min(acked) - committed > 1``): a record dropped
        at the head of a partition while the next ones were processed was committed
        unprocessed (one lost alert in 30 random kills). Here the commit waits; the record
        is read again by ``_read_again_dropped``. Offsets marked as gaps count as processed.
        """
        committed = self._committed_offset[tp]
        acked = self._acked[tp]
        head_gap = acked and committed is not None and min(acked) > committed
        if head_gap and not self._gap[tp].at(committed):
            heads = self.__dict__.setdefault("_head_gaps", {})
            if heads.get(tp, (None, 0.0))[0] != committed:
                heads[tp] = (committed, time.monotonic())
            return None
        self.__dict__.get("_head_gaps", {}).pop(tp, None)  # the head was processed after all
        return super()._new_offset(tp)

    async def _read_again_unprocessed_head(self, tp: Any, offset: int) -> None:
        """Read ``tp`` again from ``offset``: the committed offset, its record never acked.

        Acks at and after it are forgotten (those records are read and acked again; a
        duplicate delivery is suppressed by the sent table). A head that three rewinds do not
        fill is a real gap (a transaction marker) and is marked as one.
        """
        retries: dict[Any, tuple[int, int]] = self.__dict__.setdefault("_head_rewinds", {})
        last, count = retries.get(tp, (-1, 0))
        count = count + 1 if last == offset else 1
        if count > _TAIL_RETRIES:
            log.info("%s: offset %d has no record (a real gap); committing past it", tp, offset)
            self._gap[tp].addi(offset, offset + 1)
            retries.pop(tp, None)
            return
        log.warning(
            "%s: record %d was never processed (later ones were); reading again from it",
            tp,
            offset,
        )
        if await self._rewind(tp, offset):
            retries[tp] = (offset, count)
            kept = [acked for acked in self._acked[tp] if acked < offset]
            self._acked[tp][:] = kept
            self._acked_index[tp].intersection_update(kept)

    async def _rewind(self, tp: Any, offset: int) -> bool:
        """Seek ``tp`` back to ``offset`` in the consumer thread; the next record read is it.

        False when the seek failed (e.g. the partition was revoked meanwhile: its new owner
        reads it from the committed offset).
        """
        log.info("%s: reading again from offset %d", tp, offset)
        consumer = self._thread._ensure_consumer()  # type: ignore[attr-defined]

        async def seek() -> None:
            consumer.seek(tp, offset)

        try:
            await self._thread.call_thread(seek)  # type: ignore[attr-defined]
        except Exception as exc:
            log.warning("%s: could not seek back to %d (%s)", tp, offset, exc)
            return False
        self._read_offset[tp] = offset
        self._expected()[tp] = offset
        return True

    def _expected(self) -> dict[Any, int]:
        """Per partition, the offset the next record must have (known after a seek)."""
        return cast(dict[Any, int], self.__dict__.setdefault("_next_offset", {}))

    async def perform_seek(self) -> None:
        """Seek to the committed offsets; they are the offsets expected next."""
        await super().perform_seek()
        expected = self._expected()
        for tp, offset in list(self._read_offset.items()):
            if offset is None:
                expected.pop(tp, None)
            else:
                expected[tp] = offset
        changelogs = self.app.tables.changelog_topics
        log.info(
            "read from committed offsets: %s",
            ", ".join(
                f"{tp.topic}[{tp.partition}]={self._read_offset.get(tp)}"
                for tp in sorted(self.assignment())
                if tp.topic not in changelogs and "__assignor" not in tp.topic
            ),
        )

    async def _read_again_dropped(self, changelogs: Any) -> None:
        """Rewind partitions whose client position passed records no stream received.

        Faust drops records the client already handed out (a rebalance, a generation
        change or a partition paused in the middle of a batch) and relies on a later seek.
        A hole is seen when the next record arrives; at the end of a partition none comes,
        so the dropped records waited forever (a restarted worker that stopped processing
        after its first batch in the random SIGKILL test). Here, between two fetches — when
        every record handed out was yielded — a client position past the offset expected
        next means records were dropped: they are read again. A gap that stays after
        ``_TAIL_RETRIES`` rewinds to the same offset is real (transaction markers).
        """
        if not self.flow_active or not self.app.flow_control.is_active():
            return
        heads: dict[Any, tuple[int, float]] = self.__dict__.get("_head_gaps", {})
        for tp, (offset, since) in list(heads.items()):
            if time.monotonic() - since < _HEAD_GAP_GRACE_S:
                continue
            del heads[tp]
            if tp in self.assignment() and self._committed_offset.get(tp) == offset:
                await self._read_again_unprocessed_head(tp, offset)
        expected = self._expected()
        retries: dict[Any, tuple[int, int]] = self.__dict__.setdefault("_tail_rewinds", {})
        for tp, want in list(expected.items()):
            if tp.topic in changelogs:
                continue
            position = _client_position(self, tp)
            if position is None or position <= want:
                continue
            last, count = retries.get(tp, (-1, 0))
            count = count + 1 if last == want else 1
            if count > _TAIL_RETRIES:
                log.info("%s: no records at %d..%d (a real gap); reading on", tp, want, position)
                expected[tp] = position
                retries.pop(tp, None)
                continue
            log.warning(
                "%s: records %d..%d were fetched but reached no stream; reading them again",
                tp,
                want,
                position - 1,
            )
            if await self._rewind(tp, want):
                retries[tp] = (want, count)

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[Any, Any]]:
        """Fetched records in order; after a hole the partition is read again."""
        rewound = self.__dict__.setdefault("_rewound", {})
        expected = self._expected()
        changelogs = self.app.tables.changelog_topics  # compacted: holes are normal there
        await self._read_again_dropped(changelogs)
        skipping: set[Any] = set()
        async for tp, message in super().getmany(timeout):
            if tp in skipping:
                continue
            if tp.topic in changelogs:
                yield tp, message
                continue
            want = expected.get(tp)
            if (
                want is not None
                and message.offset > want
                and not self.in_transaction
                and rewound.get(tp) != want
            ):
                log.warning(
                    "%s: records %d..%d were skipped; reading them again",
                    tp,
                    want,
                    message.offset - 1,
                )
                skipping.add(tp)
                if await self._rewind(tp, want):
                    rewound[tp] = want  # a hole still there right after this is real
                continue
            if want is None or message.offset >= want:
                expected[tp] = message.offset + 1
                self.__dict__.get("_tail_rewinds", {}).pop(tp, None)
            # Read on past the rewind: a later hole at the same offset (two rebalances
            # seeking back to the same committed offset) is a new hole, read again too.
            rewound.pop(tp, None)
            yield tp, message


class TableManager(faust_tables.TableManager):
    """Faust's table manager without its fixed 1 s pause at start-up.

    Faust sleeps a second before registering tables so that tables an app declares late
    are included; newswatch declares every table in ``create_app``, before the worker
    starts, so the pause only delayed every worker start (and the suite, by ~40 s).
    """

    async def on_start(self) -> None:
        """Register the tables' changelog channels and start recovery, at once."""
        if not self.should_stop:
            await self._update_channels()
            await self.recovery.start()


class Transport(faust_aiokafka.Transport):
    Consumer = Consumer


_TAIL_RETRIES = 3
_HEAD_GAP_GRACE_S = 5.0  # a commit held this long by an unprocessed head record: read it again


def _client_position(consumer: Any, tp: Any) -> int | None:
    """The aiokafka client's position of an assigned ``tp`` (None: unknown or not assigned).

    Read from the event loop while the client lives in the consumer thread: an int read
    under the GIL, taken between two fetches, when the thread hands out nothing.
    """
    try:
        client = consumer._thread._ensure_consumer()
        state = client._subscription.subscription.assignment.state_value(tp)
    except Exception:
        return None
    if state is None or state.paused:
        return None
    position = state._position
    return position if isinstance(position, int) else None

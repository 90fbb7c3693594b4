"""Where to start reading a partition for ``--since``: trust the broker's answer, but check it.

Kafka's ListOffsets-by-timestamp returns, per partition, the earliest offset whose record
timestamp is >= the target (``None`` when there is none); every earlier record is older than
the target. The embedded broker (Tansu, memory storage) does not honour that for records
produced with explicit timestamps: it answers from its *append* time, so for a week-old
``--since`` it returns offset 0 (and offset 0 with timestamp -1 for a future target).

So every answer is validated against the records themselves: the record just before the
answer must be older than ``since`` and the record at the answer must not be. If the check
fails, that partition is read from its first offset and filtered on record timestamps, so
the selected records are the same on either broker. Pure: no Kafka import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from streams.tools.report.model import PartitionRead
from streams.tools.timeparse import format_utc

__all__ = ["Probe", "plan_partition", "probe_offset", "validate_answer"]


@dataclass(frozen=True, slots=True)
class Probe:
    """A record's offset and timestamp, fetched to check the broker's answer."""

    offset: int
    timestamp_ms: int


def probe_offset(answer: int | None, beginning: int, end: int) -> int | None:
    """The offset to fetch probe records from (``None``: empty partition, nothing to check)."""
    if end <= beginning:
        return None
    if answer is None or answer >= end:
        return end - 1
    if answer < beginning:
        return beginning
    return max(beginning, answer - 1)


def validate_answer(
    since_ms: int, answer: int | None, beginning: int, end: int, probe: Sequence[Probe]
) -> str | None:
    """``None`` when the answer agrees with the probe records, else why it does not."""
    if answer is not None and not beginning <= answer <= end:
        return f"answer {answer} is outside the partition's offsets [{beginning}, {end})"
    since = format_utc(since_ms)
    if answer is None or answer >= end:
        last = [p for p in probe if p.offset < end]
        if not last:
            return "the last record could not be read to check the answer"
        if last[-1].timestamp_ms >= since_ms:
            return (
                f"answer says no record at/after {since}, but offset {last[-1].offset} "
                f"has timestamp {format_utc(last[-1].timestamp_ms)}"
            )
        return None
    for p in probe:
        if p.offset < answer and p.timestamp_ms >= since_ms:
            return (
                f"offset {p.offset} before the answer {answer} already has timestamp "
                f"{format_utc(p.timestamp_ms)} >= {since}"
            )
    at = next((p for p in probe if p.offset >= answer), None)
    if at is None:
        return f"the record at offset {answer} could not be read"
    if at.timestamp_ms < since_ms:
        return (
            f"record at offset {at.offset} has timestamp {format_utc(at.timestamp_ms)}, "
            f"older than {since}"
        )
    return None


def plan_partition(
    partition: int,
    *,
    since_ms: int | None,
    answer: int | None,
    beginning: int,
    end: int,
    probe: Sequence[Probe],
    full_scan: bool = False,
) -> PartitionRead:
    """Decide where to read ``partition`` from (``end`` is the snapshot high watermark)."""
    if end <= beginning:
        return PartitionRead(
            partition=partition,
            start=end,
            end=end,
            method="empty",
            broker_offset=answer,
            reason="no records",
        )
    if since_ms is None or full_scan:
        reason = "--full-scan" if full_scan else "no --since: from the first offset"
        return PartitionRead(
            partition=partition,
            start=beginning,
            end=end,
            method="scan",
            broker_offset=answer,
            reason=reason,
        )
    problem = validate_answer(since_ms, answer, beginning, end, probe)
    if problem is not None:
        return PartitionRead(
            partition=partition,
            start=beginning,
            end=end,
            method="scan",
            broker_offset=answer,
            reason=f"offsets_for_times answer rejected ({problem}); reading from the first "
            "offset and filtering on record timestamps",
        )
    if answer is None or answer >= end:
        return PartitionRead(
            partition=partition,
            start=end,
            end=end,
            method="nothing-in-range",
            broker_offset=answer,
            reason="no record at or after --since (last record checked)",
        )
    return PartitionRead(
        partition=partition,
        start=answer,
        end=end,
        method="by-time",
        broker_offset=answer,
        reason="offsets_for_times answer checked against the records around it",
    )

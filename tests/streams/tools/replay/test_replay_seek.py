"""Checking a broker's offsets-by-time answer against the records around it (pure)."""

from __future__ import annotations

import pytest

from streams.tools.replay import Probe, plan_partition, probe_offset, validate_answer

SINCE = 1_000
#: offsets 0..9 with timestamps 100, 200, ... 1000 (offset 9 is the first >= SINCE)
RECORDS = [Probe(o, (o + 1) * 100) for o in range(10)]


def _around(start: int) -> list[Probe]:
    return [p for p in RECORDS if p.offset >= start][:3]


def test_correct_answer_passes() -> None:
    """The first offset at/after since, with an older record just before it, is accepted."""
    assert probe_offset(9, 0, 10) == 8
    assert validate_answer(SINCE, 9, 0, 10, _around(8)) is None


def test_answer_too_early_is_rejected() -> None:
    """An answer whose record is older than since (what Tansu returns) is rejected."""
    problem = validate_answer(SINCE, 0, 0, 10, _around(0))
    assert problem is not None and "older than" in problem


def test_answer_too_late_is_rejected() -> None:
    """An answer with a record at/after since just before it would skip records: rejected."""
    records = [Probe(o, 5_000) for o in range(10)]
    problem = validate_answer(SINCE, 5, 0, 10, records[4:7])
    assert problem is not None and "before the answer" in problem


def test_none_answer_checked_against_the_last_record() -> None:
    """'No record at/after since' holds only if the last record is older than since."""
    assert probe_offset(None, 0, 10) == 9
    assert validate_answer(20_000, None, 0, 10, [RECORDS[-1]]) is None
    assert validate_answer(SINCE, None, 0, 10, [RECORDS[-1]]) is not None


def test_answer_outside_the_partition_is_rejected() -> None:
    """An offset beyond the partition's offsets is rejected without reading."""
    assert "outside" in (validate_answer(SINCE, 42, 0, 10, []) or "")


@pytest.mark.parametrize(
    ("kwargs", "method", "start"),
    [
        ({"since_ms": SINCE, "answer": 9, "probe": RECORDS[8:10]}, "by-time", 9),
        ({"since_ms": SINCE, "answer": 0, "probe": RECORDS[0:2]}, "scan", 0),
        ({"since_ms": 20_000, "answer": None, "probe": RECORDS[9:]}, "nothing-in-range", 10),
        ({"since_ms": None, "answer": None, "probe": []}, "scan", 0),
        ({"since_ms": SINCE, "answer": 9, "probe": RECORDS[8:10], "full_scan": True}, "scan", 0),
    ],
)
def test_plan_partition_start(kwargs: dict, method: str, start: int) -> None:
    """The plan seeks by time only for a checked answer, else reads from the first offset."""
    read = plan_partition(3, beginning=0, end=10, **kwargs)
    assert (read.partition, read.method, read.start, read.end) == (3, method, start, 10)


def test_empty_partition_plans_nothing() -> None:
    """An empty partition is not read."""
    read = plan_partition(0, since_ms=SINCE, answer=None, beginning=5, end=5, probe=[])
    assert (read.method, read.start, read.end) == ("empty", 5, 5)

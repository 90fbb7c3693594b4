"""``streams.tools.timeparse``: ISO 8601 and relative times for --since/--until."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from streams.tools.timeparse import TimeParseError, format_utc, parse_time, to_epoch_ms

NOW = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", NOW - timedelta(days=7)),
        ("24h", NOW - timedelta(hours=24)),
        ("90m", NOW - timedelta(minutes=90)),
        ("30s", NOW - timedelta(seconds=30)),
        ("2w", NOW - timedelta(weeks=2)),
        ("1.5h", NOW - timedelta(minutes=90)),
        ("-3d", NOW - timedelta(days=3)),
        (" 12H ", NOW - timedelta(hours=12)),
        ("now", NOW),
    ],
)
def test_relative_times_count_back_from_now(text: str, expected: datetime) -> None:
    """Relative forms are that long before the reference time."""
    assert parse_time(text, now=NOW) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
        ("2024-05-01T12:30", datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
        ("2024-05-01T12:30:00Z", datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
        ("2024-05-01T14:30:00+02:00", datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
    ],
)
def test_iso_times_are_utc(text: str, expected: datetime) -> None:
    """ISO 8601 dates and times parse to aware UTC; naive means UTC, offsets are honoured."""
    parsed = parse_time(text, now=NOW)
    assert parsed == expected
    assert parsed.tzinfo is not None and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["", "yesterday", "7 days", "2024-13-01", "5y", "d7"])
def test_bad_times_name_the_accepted_forms(text: str) -> None:
    """Anything else is a TimeParseError that shows the accepted forms."""
    with pytest.raises(TimeParseError, match=r"ISO 8601|7d"):
        parse_time(text, now=NOW)


def test_epoch_ms_round_trip() -> None:
    """to_epoch_ms and format_utc agree on a known instant."""
    moment = datetime(2024, 3, 1, 1, 0, tzinfo=UTC)
    assert to_epoch_ms(moment) == 1_709_254_800_000
    assert format_utc(1_709_254_800_000) == "2024-03-01T01:00:00Z"
    assert format_utc(None) is None

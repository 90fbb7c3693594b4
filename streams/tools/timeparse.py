"""Parse points in time given on the command line: ISO 8601 or relative to now.

    2024-05-01                  midnight UTC of that day
    2024-05-01T12:30            naive times are UTC
    2024-05-01T12:30:00+02:00   offsets are honoured; ``Z`` works too
    7d  24h  90m  30s  2w       that long before ``now`` (a leading ``-`` is allowed)
    1.5h                        fractions too
    now                         ``now``

Pure: no I/O. Every result is a timezone-aware ``datetime`` in UTC. A value that is neither
form raises ``TimeParseError`` (a ``ValueError``) naming the accepted forms.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = ["TimeParseError", "format_utc", "parse_time", "to_epoch_ms"]

_RELATIVE = re.compile(
    r"^-?\s*(?P<n>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>s|sec|m|min|h|d|w)$", re.IGNORECASE
)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


class TimeParseError(ValueError):
    """A time value is neither ISO 8601 nor a relative duration."""


def parse_time(value: str, *, now: datetime | None = None) -> datetime:
    """``value`` as an aware UTC datetime; relative forms count back from ``now``."""
    text = value.strip()
    if not text:
        raise TimeParseError("empty time; use ISO 8601 (2024-05-01T12:00Z) or 7d, 24h, 90m")
    reference = now if now is not None else datetime.now(UTC)
    if reference.tzinfo is None:
        reference = reference.replace(tzinfo=UTC)
    if text.lower() == "now":
        return reference.astimezone(UTC)
    rel = _RELATIVE.match(text)
    if rel:
        seconds = float(rel.group("n")) * _UNIT_SECONDS[rel.group("unit").lower()]
        try:
            return (reference - timedelta(seconds=seconds)).astimezone(UTC)
        except OverflowError:
            raise TimeParseError(f"{value!r}: too far in the past") from None
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        raise TimeParseError(
            f"{value!r} is not a time: use ISO 8601 (2024-05-01, 2024-05-01T12:00:00Z, "
            "2024-05-01T14:00+02:00) or a relative time (7d, 24h, 90m, 30s, 2w)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def to_epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch (Kafka record timestamps); naive means UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


def format_utc(epoch_ms: int | float | None) -> str | None:
    """``2024-05-01T12:30:00Z`` for a millisecond timestamp (``None`` stays ``None``)."""
    if epoch_ms is None:
        return None
    moment = datetime.fromtimestamp(epoch_ms / 1000.0, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

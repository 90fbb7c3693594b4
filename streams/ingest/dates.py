"""Dates as feeds write them, in any language ("Seg, 24 Set 2018 10:00:00 -0300").

feedparser reads RFC 822 / ISO 8601 and a few localized forms; what it cannot read goes to
dateparser (lazily imported: it takes a moment to load). Years outside 1990..2100 are
treated as unreadable.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

__all__ = ["parse_date"]

log = logging.getLogger(__name__)

_SETTINGS = {
    "RETURN_AS_TIMEZONE_AWARE": True,
    "TO_TIMEZONE": "UTC",
    "PREFER_DATES_FROM": "past",
}


def parse_date(raw: str) -> datetime | None:
    """The UTC time written in ``raw`` (any language dateparser knows), or None."""
    text = " ".join(raw.split())[:200]
    if not text:
        return None
    import dateparser

    try:
        value = dateparser.parse(text, settings=_SETTINGS)  # type: ignore[arg-type]
    except Exception as exc:  # dateparser raises assorted errors on odd input
        log.debug("unreadable date %r: %s", text, exc)
        return None
    if value is None or not 1990 <= value.year <= 2100:
        return None
    result: datetime = value.astimezone(UTC)
    return result

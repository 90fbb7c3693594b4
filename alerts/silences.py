"""Silences: story mutes and rule snoozes, held in memory and consulted by the decide stage.

A :class:`SilenceBook` is the materialised state of the ``alerts.silences`` topic: every
record (keyed by silence id) replaces the previous one of that id, so expiring a silence
early is re-publishing it with ``ends_at = now``. The book is pure (no I/O): the worker
feeds it from the topic, tests feed it directly.

``match(rule_id, story_id, now)`` answers the silence that holds an alert back, if any:
a rule snooze silences every alert of the rule, a story mute the alerts (new and updates)
of one story of the rule. A silence holds while ``starts_at <= now < ends_at``.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterable

from schemas.records import Silence

__all__ = ["SilenceBook", "new_silence", "parse_duration"]

_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(s|m|h|d|w)?\s*$", re.IGNORECASE)
_UNIT_S = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(text: str) -> float:
    """Seconds in ``30s``, ``90m``, ``24h``, ``7d``, ``2w`` or a plain number of seconds."""
    found = _DURATION.match(text)
    if found is None or float(found.group(1)) <= 0:
        raise ValueError(f"invalid duration {text!r}: use e.g. 30s, 90m, 24h, 7d")
    return float(found.group(1)) * _UNIT_S[(found.group(2) or "s").lower()]


def new_silence(
    *,
    rule_id: str,
    duration_s: float,
    story_id: str | None = None,
    reason: str = "",
    created_by: str = "",
    now: float | None = None,
) -> Silence:
    """A new silence starting ``now``: a story mute when ``story_id`` is given, else a snooze."""
    start = time.time() if now is None else now
    return Silence(
        id=f"sil-{secrets.token_hex(6)}",
        kind="story" if story_id else "rule",
        rule_id=rule_id,
        story_id=story_id or None,
        starts_at=start,
        ends_at=start + duration_s,
        reason=reason,
        created_by=created_by,
        created_at=start,
    )


class SilenceBook:
    """The latest record of every silence id; answers which silence holds an alert back."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._by_id: dict[str, Silence] = {}

    def apply(self, silence: Silence) -> None:
        """Record ``silence`` (replaces an earlier record of the same id)."""
        self._by_id[silence.id] = silence

    def get(self, silence_id: str) -> Silence | None:
        """The latest record of ``silence_id``, if any."""
        return self._by_id.get(silence_id)

    def all(self) -> list[Silence]:
        """Every silence known, expired ones included, by start time."""
        return sorted(self._by_id.values(), key=lambda s: (s.starts_at, s.id))

    def active(self, now: float | None = None) -> list[Silence]:
        """The silences holding at ``now``."""
        at = self.clock() if now is None else now
        return [s for s in self.all() if s.starts_at <= at < s.ends_at]

    def match(self, rule_id: str, story_id: str | None, now: float | None = None) -> Silence | None:
        """The active silence that holds back an alert of ``rule_id`` / ``story_id``, if any."""
        for silence in self.active(now):
            if silence.rule_id != rule_id:
                continue
            if silence.kind == "rule" or (story_id is not None and silence.story_id == story_id):
                return silence
        return None

    def load(self, silences: Iterable[Silence]) -> None:
        """Apply many records in order."""
        for silence in silences:
            self.apply(silence)

    def __len__(self) -> int:
        return len(self._by_id)

"""The rolling precision of ``FeedbackFeed``: one verdict per (alert, user) counts once."""

from __future__ import annotations

from schemas.records import Feedback
from streams.kafka.codec import dumps
from streams.pipeline.silences import PRECISION_WINDOW, FeedbackFeed


def _feedback(alert: str, user: str, verdict: str, rule: str = "r0") -> bytes:
    """One encoded feedback record."""
    record = Feedback(
        alert_id=alert,
        rule_id=rule,
        article_id=f"x-{alert}",
        story_id=f"s-{alert}",
        verdict=verdict,  # type: ignore[arg-type]
        user_id=user,
        at=1.0,
        watchlist_version="v1",
        source="email",
    )
    return dumps(record)


def _feed() -> tuple[FeedbackFeed, list[tuple[str, str, float | None]]]:
    """A feed (never started: records are fed by hand) and what it reported."""
    seen: list[tuple[str, str, float | None]] = []
    feed = FeedbackFeed(
        lambda rule, verdict, p: seen.append((rule, verdict, p)),
        bootstrap="127.0.0.1:9",
        topic="alerts.feedback",
    )
    return feed, seen


def test_a_repeated_judgement_counts_once_in_the_precision() -> None:
    """The same link confirmed twice (or a double click) does not tilt the precision."""
    feed, seen = _feed()
    feed.on_record(b"a1", _feedback("a1", "email:ana@example.org", "relevant"))
    feed.on_record(b"a2", _feedback("a2", "email:bo@example.org", "not_relevant"))
    feed.on_record(b"a1", _feedback("a1", "email:ana@example.org", "relevant"))
    feed.on_record(b"a1", _feedback("a1", "email:ana@example.org", "relevant"))
    assert [p for _r, _v, p in seen] == [1.0, 0.5, 0.5, 0.5]


def test_a_changed_verdict_replaces_the_earlier_one_and_others_still_count() -> None:
    """A user who changes their mind counts with the new verdict; another user adds one."""
    feed, seen = _feed()
    feed.on_record(b"a1", _feedback("a1", "U1", "relevant"))
    feed.on_record(b"a1", _feedback("a1", "U1", "not_relevant"))
    feed.on_record(b"a1", _feedback("a1", "U2", "relevant"))
    feed.on_record(b"a1", _feedback("a1", "U3", "mute_story"))  # not a relevance judgement
    assert [p for _r, _v, p in seen] == [1.0, 0.0, 0.5, None]


def test_the_window_keeps_the_last_judgements() -> None:
    """Past ``PRECISION_WINDOW`` distinct judgements the oldest ones drop out."""
    feed, seen = _feed()
    for n in range(PRECISION_WINDOW):
        feed.on_record(None, _feedback(f"old{n}", "U1", "not_relevant"))
    for n in range(PRECISION_WINDOW):
        feed.on_record(None, _feedback(f"new{n}", "U1", "relevant"))
    assert seen[-1][2] == 1.0

"""Silences in the decide stage: rule snoozes and story mutes hold alerts back until expiry."""

from __future__ import annotations

import pytest

from alerts.config import PolicyConfig
from alerts.service import AlertDecider
from alerts.silences import SilenceBook, new_silence, parse_duration
from schemas.records import ArticleRef, EnrichedArticle, Match


class Clock:
    """A settable clock."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _event(
    article_id: str, *, text: str, rule: str = "r1", replayed: bool = False, now: float
) -> EnrichedArticle:
    return EnrichedArticle(
        article=ArticleRef(
            id=article_id,
            title=f"Report {article_id}",
            url=f"https://{article_id}.example/x",
            source=f"outlet-{article_id}",
            replayed=replayed,
            ingested_at=now,
        ),
        language="en",
        language_confidence=1.0,
        clean_text=text,
        matches=[
            Match(
                rule_id=rule,
                rule_title="R",
                article_id=article_id,
                watchlist_version="v1",
                channels=["file"],
            )
        ],
    )


TEXT_A = "the harbour authority seized a shipment of drones at the northern quay " * 4
TEXT_B = "a completely different story about espionage charges filed in a district court " * 4


def _decider(clock: Clock, book: SilenceBook) -> AlertDecider:
    return AlertDecider(
        {}, config=PolicyConfig(), test_channel="file:t", max_age_s=1e9, clock=clock, silences=book
    )


def test_rule_snooze_silences_alerts_until_it_expires() -> None:
    """A snoozed rule's alert is 'silenced' (recorded with the silence id); after expiry: 'new'."""
    clock, book = Clock(), SilenceBook()
    decider = _decider(clock, book)
    snooze = new_silence(rule_id="r1", duration_s=100, reason="noisy", now=clock.now)
    book.apply(snooze)
    (first,) = decider.decide(_event("a1", text=TEXT_A, now=clock.now))
    assert first.action == "silenced" and first.alert is not None
    assert first.alert.silenced_by == snooze.id
    clock.now += 101
    (after,) = decider.decide(_event("a2", text=TEXT_B, now=clock.now))
    assert after.action == "new" and after.alert is not None and after.alert.silenced_by is None


def test_snooze_of_another_rule_changes_nothing() -> None:
    """A snooze names one rule; alerts of other rules are decided as before."""
    clock, book = Clock(), SilenceBook()
    book.apply(new_silence(rule_id="other", duration_s=100, now=clock.now))
    (outcome,) = _decider(clock, book).decide(_event("a1", text=TEXT_A, now=clock.now))
    assert outcome.action == "new"


def test_story_mute_silences_updates_of_that_story_only() -> None:
    """After a story is muted its updates are silenced; a different story still alerts."""
    clock, book = Clock(), SilenceBook()
    decider = _decider(clock, book)
    (first,) = decider.decide(_event("a1", text=TEXT_A, now=clock.now))
    assert first.action == "new" and first.alert is not None
    book.apply(
        new_silence(rule_id="r1", story_id=first.alert.story_id, duration_s=3600, now=clock.now)
    )
    clock.now += 10
    (update,) = decider.decide(_event("a2", text=TEXT_A, now=clock.now))  # same text, new outlet
    assert update.action == "silenced" and update.alert is not None
    assert update.alert.kind == "update" and update.alert.story_id == first.alert.story_id
    (other,) = decider.decide(_event("a3", text=TEXT_B, now=clock.now))
    assert other.action == "new"


def test_expired_early_silence_no_longer_holds() -> None:
    """Re-applying a silence with ends_at = now (``silence expire``) ends it."""
    clock, book = Clock(), SilenceBook()
    snooze = new_silence(rule_id="r1", duration_s=3600, now=clock.now)
    book.apply(snooze)
    assert book.match("r1", None, clock.now) == snooze
    book.apply(snooze.model_copy(update={"ends_at": clock.now}))
    assert book.match("r1", None, clock.now) is None
    assert book.active(clock.now) == [] and len(book) == 1


def test_replayed_articles_ignore_silences() -> None:
    """Replays go to the test channel: a snooze of live alerts does not hide them."""
    clock, book = Clock(), SilenceBook()
    book.apply(new_silence(rule_id="r1", duration_s=100, now=clock.now))
    (outcome,) = _decider(clock, book).decide(
        _event("a1", text=TEXT_A, replayed=True, now=clock.now)
    )
    assert outcome.action == "new"


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("90m", 5400), ("24h", 86400), ("7d", 604800), ("12", 12)]
)
def test_durations_parse(text: str, seconds: float) -> None:
    """Durations take s, m, h, d, w suffixes or plain seconds."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0h", "tomorrow", "-5m"])
def test_bad_durations_are_refused(text: str) -> None:
    """Zero, negative and unknown durations raise a clear ValueError."""
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)

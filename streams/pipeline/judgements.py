"""Applying one judgement of an alert: the code path Slack buttons and email links share.

A judgement becomes a ``Feedback`` record on ``alerts.feedback`` (key alert id); *Mute
this story* and *Snooze this rule* also become a ``Silence`` on ``alerts.silences``,
applied to this worker's book at once (the other workers get it from their feed).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from alerts.silences import SilenceBook, new_silence
from schemas.records import Feedback, Silence, Verdict
from schemas.topics import Topics
from streams.kafka.codec import dumps
from streams.pipeline.services import Outbox

__all__ = ["Judgement", "JudgementRecorder"]

log = logging.getLogger(__name__)

_SOURCE_NAMES = {"slack": "Slack", "email": "an email link"}


@dataclass(frozen=True)
class Judgement:
    """Who judged which alert how, and where the judgement came from."""

    verdict: Verdict
    alert_id: str
    rule_id: str
    article_id: str
    story_id: str
    #: the watch-list version the alert was decided with ("" → the current one)
    watchlist_version: str
    user_id: str
    source: Literal["slack", "email"]
    #: a fixed silence id (a replayed email link re-publishes the same silence); None: new id
    silence_id: str | None = None


class JudgementRecorder:
    """Publishes judgements (feedback and silences) through the worker's outbox."""

    def __init__(
        self,
        *,
        outbox: Outbox,
        topics: Topics,
        silences: SilenceBook,
        watchlist_version: Callable[[], str],
        snooze_s: float,
        mute_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.outbox = outbox
        self.topics = topics
        self.silences = silences
        self.watchlist_version = watchlist_version
        self.snooze_s = snooze_s
        self.mute_s = mute_s
        self.clock = clock

    async def apply(self, judgement: Judgement) -> tuple[Feedback, Silence | None]:
        """Record ``judgement``: a silence for mute/snooze, then the feedback record (flushed)."""
        j = judgement
        now = self.clock()
        prefix = f"{j.source}:"
        created_by = j.user_id if j.user_id.startswith(prefix) else prefix + j.user_id
        silence: Silence | None = None
        if j.verdict in ("mute_story", "snooze_rule"):
            mute = j.verdict == "mute_story"
            silence = new_silence(
                rule_id=j.rule_id,
                story_id=j.story_id if mute else None,
                duration_s=self.mute_s if mute else self.snooze_s,
                reason=f"{j.verdict.replace('_', ' ')} from {_SOURCE_NAMES[j.source]}",
                created_by=created_by[:256],
                now=now,
            )
            if j.silence_id is not None:
                silence = silence.model_copy(update={"id": j.silence_id})
            self.silences.apply(silence)  # this worker at once; the others by their feed
            await self.outbox.send(self.topics.silences, silence.id.encode(), dumps(silence))
        feedback = Feedback(
            alert_id=j.alert_id,
            rule_id=j.rule_id,
            article_id=j.article_id,
            story_id=j.story_id,
            verdict=j.verdict,
            user_id=j.user_id[:256],
            at=now,
            watchlist_version=j.watchlist_version or self.watchlist_version(),
            source=j.source,
            silence_id=silence.id if silence else None,
        )
        await self.outbox.send(self.topics.feedback, j.alert_id.encode(), dumps(feedback))
        await self.outbox.flush()
        log.info(
            "feedback %s on alert %s (rule %s) by %s via %s",
            j.verdict,
            j.alert_id,
            j.rule_id,
            j.user_id,
            j.source,
        )
        return feedback, silence

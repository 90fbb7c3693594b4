"""The worker's silences: ``alerts.silences`` materialised in a ``SilenceBook`` per worker.

Decision (issue 16): silences are not a Faust table partitioned like ``alert-policy`` but a
compacted topic that every worker reads in full (``streams.kafka.follow.TopicFollower``, no
consumer group). A rule snooze must reach every decide partition of that rule and a story
mute the partition of its rule, whichever worker owns it after a rebalance; reading the
whole (small) topic everywhere gives that without co-partitioning the writers (the CLI,
the Slack endpoint) with ``articles.matches``. The topic is the changelog: the latest record
of a silence id is its state, so silences survive restarts and are shared by all workers.
A worker is ready only after it has read the topic up to its end.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from alerts.silences import SilenceBook
from schemas.records import Feedback, Silence
from streams.kafka.follow import TopicFollower

__all__ = ["FeedbackFeed", "SilenceFeed"]

log = logging.getLogger(__name__)


class SilenceFeed:
    """Keeps ``book`` up to date with ``topic`` while started."""

    def __init__(
        self,
        book: SilenceBook,
        *,
        bootstrap: str,
        topic: str,
        client: Mapping[str, Any] | None = None,
    ) -> None:
        self.book = book
        self.topic = topic
        self.follower = TopicFollower(bootstrap, topic, self.on_record, client=client)

    def on_record(self, key: bytes | None, value: bytes | None) -> None:
        """Apply one record of the topic (invalid ones are logged and skipped)."""
        if value is None:
            return
        try:
            silence = Silence.model_validate_json(value)
        except ValidationError as exc:
            log.warning("ignoring an invalid silence record (key %r): %s", key, exc)
            return
        self.book.apply(silence)
        log.info(
            "silence %s: %s %s%s until %.0f",
            silence.id,
            silence.kind,
            silence.rule_id,
            f"/{silence.story_id}" if silence.story_id else "",
            silence.ends_at,
        )

    async def start(self) -> None:
        """Read every silence so far, then follow new ones."""
        await self.follower.start()
        log.info("silences: %d known, %d active", len(self.book), len(self.book.active()))

    async def stop(self) -> None:
        """Stop following."""
        await self.follower.stop()


#: Judgements per rule in the rolling precision of ``newswatch_feedback_precision``.
PRECISION_WINDOW = 50


class FeedbackFeed:
    """Follows ``alerts.feedback``: counts judgements and a rolling precision per rule.

    Every worker reads the whole topic (like silences), so each ``/metrics`` shows the same
    figures: precision = relevant / (relevant + not relevant) over the rule's last
    ``PRECISION_WINDOW`` relevance judgements. One person's judgement of one alert counts
    once: a repeat (a link confirmed twice, a double click) replaces the earlier verdict of
    the same ``(alert id, user id)`` instead of adding a second one.
    """

    def __init__(
        self,
        record: Callable[[str, str, float | None], None],
        *,
        bootstrap: str,
        topic: str,
        client: Mapping[str, Any] | None = None,
    ) -> None:
        self.record = record
        self.follower = TopicFollower(bootstrap, topic, self.on_record, client=client)
        self._judged: dict[str, OrderedDict[tuple[str, str], bool]] = {}

    def on_record(self, key: bytes | None, value: bytes | None) -> None:
        """Count one feedback record (invalid ones are skipped)."""
        if value is None:
            return
        try:
            feedback = Feedback.model_validate_json(value)
        except ValidationError:
            log.warning("ignoring an invalid feedback record (key %r)", key)
            return
        precision = None
        if feedback.verdict in ("relevant", "not_relevant"):
            judged = self._judged.setdefault(feedback.rule_id, OrderedDict())
            who = (feedback.alert_id, feedback.user_id)
            judged.pop(who, None)
            judged[who] = feedback.verdict == "relevant"
            while len(judged) > PRECISION_WINDOW:
                judged.popitem(last=False)
            precision = sum(judged.values()) / len(judged)
        self.record(feedback.rule_id, feedback.verdict, precision)

    async def start(self) -> None:
        """Read the feedback so far, then follow."""
        await self.follower.start()

    async def stop(self) -> None:
        """Stop following."""
        await self.follower.stop()

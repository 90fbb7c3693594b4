"""The topic catalogue: every topic newswatch uses, its record model and its key, defined once.

``NEWSWATCH_TOPIC_PREFIX`` is applied by :meth:`Topics.prefixed`; everything that names a
topic (agents, dead letters, ``ensure_topics``, the deploy files' tests) reads it from here.

    articles.raw        RawArticle        key: article id
    articles.enriched   EnrichedArticle   key: article id (audit, replay)
    articles.matches    EnrichedArticle   key: rule id (one record per article x rule hit)
    alerts              AlertRecord       key: alert id (every decided alert: the record)
    alerts.lane.slack   AlertRecord       key: alert id (alerts with work for a delivery lane;
    alerts.lane.email                     one deliver agent per lane topic, so a rate-limited
    alerts.lane.local                     Slack holds only its own lane)
    articles.raw.dlq    DeadLetter
    alerts.dlq          DeadLetter
    alerts.outcomes     OutcomeRecord     key: article id (every decision and delivery, for
                                          ``newswatch audit``; no agent reads it)
    alerts.silences     Silence           key: silence id (compacted: the latest record of an
                                          id is its state; every worker reads all of it)
    alerts.feedback     Feedback          key: alert id (judgements from Slack buttons)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["LANE_NAMES", "TOPIC_NAMES", "Topics"]

#: Delivery lanes, each with its own topic and deliver agent (kinds: ``alerts.service.LANES``).
LANE_NAMES = ("slack", "email", "local")


@dataclass(frozen=True)
class Topics:
    """Configured topic names (the defaults are the unprefixed catalogue names)."""

    raw: str = "articles.raw"
    enriched: str = "articles.enriched"
    matches: str = "articles.matches"
    alerts: str = "alerts"
    lane_slack: str = "alerts.lane.slack"
    lane_email: str = "alerts.lane.email"
    lane_local: str = "alerts.lane.local"
    raw_dlq: str = "articles.raw.dlq"
    alerts_dlq: str = "alerts.dlq"
    outcomes: str = "alerts.outcomes"
    silences: str = "alerts.silences"
    feedback: str = "alerts.feedback"

    @classmethod
    def prefixed(cls, prefix: str) -> Topics:
        """The catalogue with ``prefix`` in front of every name."""
        return cls(**{role: f"{prefix}{name}" for role, name in asdict(cls()).items()})

    def lane(self, name: str) -> str:
        """The topic of delivery lane ``name`` (one of ``LANE_NAMES``)."""
        if name not in LANE_NAMES:
            raise KeyError(f"unknown delivery lane {name!r}")
        return str(getattr(self, f"lane_{name}"))

    def names(self) -> tuple[str, ...]:
        """Every topic name, in catalogue order."""
        return tuple(asdict(self).values())


#: Every topic newswatch creates, unprefixed, in catalogue order.
TOPIC_NAMES: tuple[str, ...] = Topics().names()

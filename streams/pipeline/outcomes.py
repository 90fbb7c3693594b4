"""Outcome records for ``alerts.outcomes``: what the decide and deliver stages did.

One record per decided match and one per channel a lane handled, so ``newswatch audit``
can account for every match (throttled, grouped and stale ones included). The deliver lanes
never read this topic: it is an audit trail, published next to the records they do read.
"""

from __future__ import annotations

import time

from alerts.service import Outcome
from schemas.records import AlertRecord, OutcomeRecord
from streams.kafka.codec import dumps
from streams.pipeline.services import PipelineServices

__all__ = ["publish_decision", "publish_delivery"]


async def publish_decision(
    services: PipelineServices,
    article_id: str,
    outcome: Outcome,
    *,
    source_topic: str,
    partition: int,
    offset: int,
) -> None:
    """Publish what became of one match (its decision) to ``alerts.outcomes``."""
    alert = outcome.alert
    record = OutcomeRecord(
        stage="decide",
        article_id=article_id,
        rule_id=outcome.rule_id,
        action=outcome.action,
        reason=outcome.reason,
        alert_id=alert.alert_id if alert is not None else None,
        alert_kind=alert.kind if alert is not None else None,
        story_id=alert.story_id if alert is not None else outcome.story_id,
        channels=list(alert.channels if alert is not None else outcome.channels),
        replayed=outcome.replayed,
        at=time.time(),
        source_topic=source_topic,
        partition=partition,
        offset=offset,
    )
    await services.outbox.send(services.topics.outcomes, article_id.encode(), dumps(record))


async def publish_delivery(
    services: PipelineServices, alert: AlertRecord, channel: str, result: str, reason: str = ""
) -> None:
    """Publish what became of one channel delivery of ``alert`` to ``alerts.outcomes``."""
    record = OutcomeRecord(
        stage="deliver",
        article_id=alert.article.id,
        rule_id=alert.rule_id,
        action=result,
        reason=reason,
        alert_id=alert.alert_id,
        alert_kind=alert.kind,
        story_id=alert.story_id,
        channel=channel,
        replayed=alert.article.replayed,
        at=time.time(),
    )
    await services.outbox.send(services.topics.outcomes, alert.article.id.encode(), dumps(record))

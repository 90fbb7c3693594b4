"""Ops alerts about sources: an :class:`Incident` becomes an alert on ``ops_channels``.

The alert is an ordinary ``AlertRecord`` (rule ``source-health``) produced to ``alerts`` and
to the lane topics of its channels, so the worker's deliver lanes send it like any article
alert (same channels, templates, retries and dead letters). Each incident is one alert when
it opens and one when it recovers (``SourceHealth`` reports each once).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from alerts.service import lane_of
from schemas.channels import SpecSyntaxError, parse_channel_spec
from schemas.records import AlertRecord, ArticleRef
from schemas.topics import Topics
from streams.ingest.health import Incident

__all__ = ["OPS_RULE_ID", "incident_alert", "send_incident"]

log = logging.getLogger(__name__)

OPS_RULE_ID = "source-health"

Send = Callable[[str, bytes, bytes], Awaitable[None]]


def _h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def incident_alert(incident: Incident, channels: Sequence[str], *, url: str | None) -> AlertRecord:
    """The alert record of one incident opening or recovering."""
    story = _h(f"{incident.source}|{incident.kind}|{incident.since}")
    phase = "recovered" if incident.recovered else "opened"
    now = time.time()
    return AlertRecord(
        alert_id=_h(f"{story}|{phase}"),
        kind="new",
        rule_id=OPS_RULE_ID,
        rule_title="newswatch source health",
        severity="low" if incident.recovered else "high",
        story_id=story,
        article=ArticleRef(
            id=f"ops:{incident.kind}:{phase}:{story}",
            title=incident.title[:1_900],
            url=url if url and url.startswith(("http://", "https://")) else None,
            source=incident.source[:500],
            ingested_at=now,
        ),
        channels=list(channels),
        watchlist_version="ops",
        created_at=now,
        ingested_at=now,
    )


async def send_incident(
    send: Send, topics: Topics, incident: Incident, channels: Sequence[str], *, url: str | None
) -> AlertRecord | None:
    """Log the incident and, with ``channels``, produce its alert to ``alerts`` and the lanes."""
    level = logging.INFO if incident.recovered else logging.WARNING
    log.log(level, "source health: %s", incident.title)
    if not channels:
        return None
    alert = incident_alert(incident, channels, url=url)
    key = alert.alert_id.encode()
    value = alert.model_dump_json(exclude_none=True).encode()
    await send(topics.alerts, key, value)
    lanes = set()
    for spec in channels:
        try:
            lanes.add(lane_of(parse_channel_spec(spec).kind))
        except SpecSyntaxError:
            lanes.add("local")
    for lane in sorted(lanes):
        await send(topics.lane(lane), key, value)
    return alert

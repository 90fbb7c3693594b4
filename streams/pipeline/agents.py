"""Thin Faust agents: decode the Faust event into an ``InMessage`` and call a stage.

enrich-match     articles.raw      → stages.enrich_and_match (batched with take_events)
decide           articles.matches  → stages.decide (one event at a time: policy-table writes
                                      go to the changelog partition of the current event)
deliver-<lane>   alerts.lane.<lane> → stages.deliver, one agent per delivery lane
                                      (alerts.service.LANES): a slow lane (Slack in a 429
                                      pause) holds only its own deliveries. Each lane has its
                                      own topic because several agents on one topic broke
                                      rebalancing: Faust drops queued events on revoke, and a
                                      record another agent had already acked stayed "unacked"
                                      forever (wait_empty hung; found by tests/faults)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import faust

from alerts.service import LANES
from streams.pipeline import stages
from streams.pipeline.stages import InMessage, PipelineServices

__all__ = ["FaustOutbox", "register_agents"]

log = logging.getLogger(__name__)


def _message(event: Any) -> InMessage:
    msg = event.message
    return InMessage(
        value=msg.value,
        key=msg.key,
        topic=msg.topic,
        partition=msg.partition,
        offset=msg.offset,
        timestamp=float(msg.timestamp or 0.0),
    )


class FaustOutbox:
    """Send raw bytes through the app's producer; ``flush`` awaits every pending send."""

    def __init__(self, app: faust.App) -> None:
        self.app = app
        self._topics: dict[str, Any] = {}
        self._pending: list[asyncio.Future[Any]] = []

    def _topic(self, name: str) -> Any:
        if name not in self._topics:
            self._topics[name] = self.app.topic(name, key_serializer="raw", value_serializer="raw")
        return self._topics[name]

    async def send(self, topic: str, key: bytes | None, value: bytes) -> None:
        """Queue one record; delivery is confirmed by ``flush``."""
        fut = await self._topic(topic).send(key=key, value=value)
        self._pending.append(fut)

    async def flush(self) -> None:
        """Wait until all queued records are acknowledged, table changelog writes included.

        The alert stage flushes after each delivery: a worker killed later must find its
        "sent" record in the changelog, or the replay posts the alert again (found by
        tests/faults: without it, about one duplicate per SIGKILL).
        """
        pending, self._pending = self._pending, []
        if pending:
            await asyncio.gather(*pending)
        await self.app.producer.flush()


def register_agents(
    app: faust.App,
    services: PipelineServices,
    *,
    batch_size: int,
    batch_within_s: float,
    ready: asyncio.Event,
) -> None:
    """Attach the two agents to ``app``; every message is its own error boundary in the stage."""
    topics = services.topics
    raw = app.topic(topics.raw, key_serializer="raw", value_serializer="raw")
    matches = app.topic(topics.matches, key_serializer="raw", value_serializer="raw")

    # Each agent waits for the runtime *inside* its loop: a Faust stream subscribes to its
    # topic only when iteration starts, and records delivered before that are dropped
    # unprocessed yet counted as read (lost articles after a restart; found by tests/faults).
    @app.agent(raw, name="enrich-match")
    async def enrich_match(stream: Any) -> None:
        async for events in stream.take_events(batch_size, within=batch_within_s):
            await ready.wait()
            await _guarded(stages.enrich_and_match([_message(e) for e in events], services))

    @app.agent(matches, name="decide")
    async def decide(stream: Any) -> None:
        async for event in stream.events():
            await ready.wait()
            await _guarded(stages.decide(_message(event), services))

    for lane in LANES:  # one topic per lane: one subscriber per topic (see the module doc)
        lane_topic = app.topic(topics.lane(lane), key_serializer="raw", value_serializer="raw")
        app.agent(lane_topic, name=f"deliver-{lane}")(_deliver_agent(lane, services, ready))


def _deliver_agent(
    lane: str, services: PipelineServices, ready: asyncio.Event
) -> Callable[[Any], Coroutine[Any, Any, None]]:
    async def deliver(stream: Any) -> None:
        async for event in stream.events():
            await ready.wait()
            await _guarded(stages.deliver(_message(event), lane, services))

    deliver.__name__ = deliver.__qualname__ = f"deliver_{lane}"
    return deliver


async def _guarded(coro: Any) -> None:
    """Last-resort boundary: a bug in a stage is logged and counted, the agent lives on."""
    try:
        await coro
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("stage failed; continuing with the next message")

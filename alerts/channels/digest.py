"""Digest channel: queue alerts per recipient list, send them as one email per interval.

``send`` appends the alert to a buffer in a mapping (``digest|<target>`` → list of alert
dicts) and returns a queued receipt; ``flush`` renders and sends every due buffer through
the email channel and removes what was sent. The deliverer calls ``flush`` after each
delivery and from a background task, applying its retry and dead-letter policy.

If the buffer mapping is a Faust table, create it with ``use_partitioner=True`` so the
background flush may write to it outside stream iteration.
"""

from __future__ import annotations

import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from alerts.channels.base import Channel, Receipt
from alerts.channels.email import EmailChannel, build_message
from alerts.ids import short_hash
from alerts.render import Rendered, Renderer
from schemas.records import AlertRecord

__all__ = ["DigestBatch", "DigestChannel"]

_PREFIX = "digest|"


@dataclass(frozen=True)
class DigestBatch:
    """A due digest: its target, the queued alerts and how many buffer items they are."""

    target: str | None
    alerts: list[AlertRecord]
    count: int


class DigestChannel(Channel):
    """Queues alerts for a periodic digest email."""

    name = "digest"
    fmt = None

    def __init__(
        self,
        email: EmailChannel,
        renderer: Renderer,
        buffer: MutableMapping[str, Any] | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.email = email
        self.renderer = renderer
        self.buffer: MutableMapping[str, Any] = buffer if buffer is not None else {}
        self.clock = clock
        self.interval_s = email.config.digest_interval_s
        self.max_items = email.config.digest_max_items
        self.pacing = None

    def secrets(self) -> list[str]:
        """The SMTP password (through the email channel)."""
        return self.email.secrets()

    async def send(
        self,
        alert: AlertRecord,
        rendered: Rendered,
        *,
        target: str | None = None,
        thread: str | None = None,
    ) -> Receipt:
        """Queue the alert (durably, in the buffer mapping) for the next digest."""
        key = _PREFIX + (target or "")
        entry = self.buffer.get(key) or {"since": self.clock(), "items": []}
        items = [*entry["items"], alert.model_dump(mode="json")]
        self.buffer[key] = {"since": entry["since"], "items": items, "t": self.clock()}
        return Receipt(channel=f"digest:{target}" if target else "digest", queued=True)

    def due(self, *, force: bool = False) -> list[DigestBatch]:
        """Buffers old enough (or full enough) to send now; ``force`` takes all."""
        now = self.clock()
        batches = []
        for key, entry in list(self.buffer.items()):
            if not (isinstance(key, str) and key.startswith(_PREFIX)) or not entry:
                continue
            items = entry.get("items") or []
            if not items:
                continue
            if force or len(items) >= self.max_items or now - entry["since"] >= self.interval_s:
                chunk = items[: self.max_items]
                alerts = [AlertRecord.model_validate(i) for i in chunk]
                batches.append(DigestBatch(key[len(_PREFIX) :] or None, alerts, len(chunk)))
        return batches

    async def send_batch(self, batch: DigestBatch) -> Receipt:
        """Render and send one digest email; ``DeliveryError`` on failure."""
        spec = f"digest:{batch.target}" if batch.target else "digest"
        rendered = self.renderer.render_digest(batch.alerts)
        recipients = self.email.recipients(batch.target)
        ids = "|".join(a.alert_id for a in batch.alerts)
        message_id = f"<digest.{short_hash(ids + (batch.target or ''), 20)}@newswatch>"
        msg = build_message(
            sender=self.email.config.sender,
            recipients=recipients,
            subject=rendered.subject or "newswatch digest",
            text=rendered.text,
            html=rendered.html,
            message_id=message_id,
        )
        detail = await self.email.submit(msg, recipients, spec=spec)
        return Receipt(channel=spec, ref=message_id, detail=detail)

    def remove(self, batch: DigestBatch) -> None:
        """Drop a sent (or dead-lettered) batch from the buffer, keeping newer items."""
        key = _PREFIX + (batch.target or "")
        entry = self.buffer.get(key)
        if not entry:
            return
        rest = entry["items"][batch.count :]
        if rest:
            self.buffer[key] = {"since": self.clock(), "items": rest, "t": self.clock()}
        else:
            del self.buffer[key]

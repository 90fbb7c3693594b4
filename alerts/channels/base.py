"""The one small interface every channel implements, and the channel spec syntax.

A channel spec names a channel kind and, optionally, a target (grammar defined once in
``schemas.channels``)::

    console                      print to stdout
    file | file:NAME             JSONL line in <dir>/alerts.jsonl | <dir>/NAME.jsonl
    webhook | webhook:NAME       JSON POST to the configured URL | a named endpoint
    slack | slack:#channel       chat.postMessage to the default | the given channel (or ID)
    email | email:a@x,b@y        one email per alert to the default | the given recipients
    digest | digest:a@x          queued; one email per digest interval
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

from alerts.config import PacingConfig
from alerts.errors import ChannelSpecError
from alerts.render import Rendered
from schemas.channels import CHANNEL_KINDS, ChannelSpec, SpecSyntaxError, parse_channel_spec
from schemas.records import AlertRecord

__all__ = [
    "KINDS",
    "Channel",
    "ChannelSpec",
    "Receipt",
    "parse_retry_after",
    "parse_spec",
]

KINDS = CHANNEL_KINDS


def parse_spec(spec: str) -> ChannelSpec:
    """Parse ``kind[:target]`` (grammar: ``schemas.channels``); ``ChannelSpecError`` if bad."""
    try:
        return parse_channel_spec(spec)
    except SpecSyntaxError as exc:
        raise ChannelSpecError(spec, str(exc)) from None


@dataclass(frozen=True)
class Receipt:
    """Proof that a channel accepted a message.

    ``ref`` identifies it for later replies: Slack ``ts``, email ``Message-ID``, file path.
    ``queued`` is True when a digest channel queued it for a later email.
    """

    channel: str
    ref: str | None = None
    queued: bool = False
    detail: dict[str, Any] = field(default_factory=dict)


class Channel(abc.ABC):
    """A place alerts go. Raise ``DeliveryError`` from ``send``; never log secrets.

    ``fmt`` is the render format the channel wants (``None``: it renders itself later).
    ``pacing`` is the token bucket the deliverer applies per target (``None``: unpaced).
    """

    name: ClassVar[str]
    fmt: ClassVar[str | None] = "console"
    pacing: PacingConfig | None = None

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Open clients/connections; called once before the first send."""

    async def stop(self) -> None:  # noqa: B027 - optional hook
        """Close clients/connections; called once at shutdown."""

    @abc.abstractmethod
    async def send(
        self,
        alert: AlertRecord,
        rendered: Rendered,
        *,
        target: str | None = None,
        thread: str | None = None,
    ) -> Receipt:
        """Deliver one rendered alert to ``target`` (as a reply to ``thread`` if given)."""

    async def find_sent(
        self,
        alert: AlertRecord,
        *,
        target: str | None = None,
        thread: str | None = None,
        fresh_after: float = 0.0,
    ) -> Receipt | None:
        """The message this channel already holds for ``alert``, if it can tell; else None.

        Asked before re-sending an alert that may have been sent before a crash (the
        deliverer's reconciliation). ``fresh_after``: cached lookups older than this time
        must not be trusted. The default cannot tell (at-least-once).
        """
        return None

    def secrets(self) -> list[str]:
        """Secret strings this channel holds, to be redacted from any log or dead letter."""
        return []


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())

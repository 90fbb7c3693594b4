"""The one small interface every channel implements, and the channel spec syntax.

A channel spec names a channel kind and, optionally, a target::

    console                      print to stdout
    file | file:NAME             JSONL line in <dir>/alerts.jsonl | <dir>/NAME.jsonl
    webhook | webhook:NAME       JSON POST to the configured URL | a named endpoint
    slack | slack:#channel       chat.postMessage to the default | the given channel (or ID)
    email | email:a@x,b@y        one email per alert to the default | the given recipients
    digest | digest:a@x          queued; one email per digest interval
"""

from __future__ import annotations

import abc
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

from alerts.config import PacingConfig
from alerts.errors import ChannelSpecError
from alerts.render import Rendered
from schemas.records import AlertRecord

__all__ = [
    "KINDS",
    "Channel",
    "ChannelSpec",
    "Receipt",
    "parse_retry_after",
    "parse_spec",
]

KINDS = ("console", "file", "webhook", "slack", "email", "digest")
_TARGET = re.compile(r"[^\s<>|\x00-\x1f]{1,256}")


@dataclass(frozen=True)
class ChannelSpec:
    """A parsed channel spec: ``kind`` and optional ``target``; ``str()`` gives it back."""

    kind: str
    target: str | None = None

    def __str__(self) -> str:
        return self.kind if self.target is None else f"{self.kind}:{self.target}"


def parse_spec(spec: str) -> ChannelSpec:
    """Parse ``kind[:target]``; ``ChannelSpecError`` for an unknown kind or a bad target."""
    raw = spec.strip()
    kind, sep, target = raw.partition(":")
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise ChannelSpecError(spec, f"unknown channel kind {kind!r}; one of {', '.join(KINDS)}")
    if not sep:
        return ChannelSpec(kind)
    target = target.strip()
    if kind in ("email", "digest"):
        addresses = [a.strip() for a in target.split(",")]
        if not all(re.fullmatch(r"[^@\s,;:<>|]+@[^@\s,;:<>|]+", a) for a in addresses):
            raise ChannelSpecError(spec, "targets must be e-mail addresses separated by ','")
        target = ",".join(addresses)
    if not target or not _TARGET.fullmatch(target):
        raise ChannelSpecError(spec, "empty or invalid target after ':'")
    if kind in ("file", "webhook") and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", target):
        raise ChannelSpecError(spec, "name must be letters, digits, '.', '_' or '-'")
    return ChannelSpec(kind, target)


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

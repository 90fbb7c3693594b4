"""The channel-spec grammar, defined once: ``kind[:target]`` as rules and alerts name channels.

    console                      print to stdout
    file | file:NAME             JSONL line in <dir>/alerts.jsonl | <dir>/NAME.jsonl
    webhook | webhook:NAME       JSON POST to the configured URL | a named endpoint
    slack | slack:#channel       chat.postMessage to the default | the given channel (or ID)
    email | email:a@x,b@y        one email per alert to the default | the given recipients
    digest | digest:a@x          queued; one email per digest interval

Used by the watch-list schema (validation while loading), the alert policy and the deliverer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CHANNEL_KINDS", "ChannelSpec", "SpecSyntaxError", "parse_channel_spec"]

CHANNEL_KINDS = ("console", "file", "webhook", "slack", "email", "digest")
_TARGET = re.compile(r"[^\s<>|\x00-\x1f]{1,256}")
_ADDRESS = re.compile(r"[^@\s,;:<>|]+@[^@\s,;:<>|]+")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class SpecSyntaxError(ValueError):
    """A channel spec that does not follow the grammar; ``str()`` says why."""


@dataclass(frozen=True)
class ChannelSpec:
    """A parsed channel spec: ``kind`` and optional ``target``; ``str()`` gives it back."""

    kind: str
    target: str | None = None

    def __str__(self) -> str:
        return self.kind if self.target is None else f"{self.kind}:{self.target}"


def parse_channel_spec(spec: str) -> ChannelSpec:
    """Parse ``kind[:target]``; ``SpecSyntaxError`` for an unknown kind or a bad target."""
    raw = spec.strip()
    kind, sep, target = raw.partition(":")
    kind = kind.strip().lower()
    if kind not in CHANNEL_KINDS:
        raise SpecSyntaxError(f"unknown channel kind {kind!r}; one of {', '.join(CHANNEL_KINDS)}")
    if not sep:
        return ChannelSpec(kind)
    target = target.strip()
    if kind in ("email", "digest"):
        addresses = [a.strip() for a in target.split(",")]
        if not all(_ADDRESS.fullmatch(a) for a in addresses):
            raise SpecSyntaxError("targets must be e-mail addresses separated by ','")
        target = ",".join(addresses)
    if not target or not _TARGET.fullmatch(target):
        raise SpecSyntaxError("empty or invalid target after ':'")
    if kind in ("file", "webhook") and not _NAME.fullmatch(target):
        raise SpecSyntaxError("name must be letters, digits, '.', '_' or '-'")
    return ChannelSpec(kind, target)

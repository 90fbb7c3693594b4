"""Alert channels behind one small interface, and a factory from config objects."""

from __future__ import annotations

import time
from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any, TextIO

from alerts.channels.base import KINDS, Channel, ChannelSpec, Receipt, parse_spec
from alerts.channels.console import ConsoleChannel
from alerts.channels.digest import DigestChannel
from alerts.channels.email import EmailChannel
from alerts.channels.file import FileChannel
from alerts.channels.webhook import WebhookChannel
from alerts.config import ChannelsConfig
from alerts.render import Renderer

if TYPE_CHECKING:
    import httpx

__all__ = [
    "KINDS",
    "Channel",
    "ChannelSpec",
    "ConsoleChannel",
    "DigestChannel",
    "EmailChannel",
    "FileChannel",
    "Receipt",
    "WebhookChannel",
    "build_channels",
    "parse_spec",
]


def build_channels(
    config: ChannelsConfig,
    *,
    renderer: Renderer | None = None,
    http_client: httpx.AsyncClient | None = None,
    digest_buffer: MutableMapping[str, Any] | None = None,
    console_stream: TextIO | None = None,
    clock: Callable[[], float] = time.time,
) -> dict[str, Channel]:
    """One channel per configured kind, keyed by kind (what ``Deliverer`` expects).

    ``digest`` shares the ``email`` channel's SMTP settings and queues in ``digest_buffer``
    (a dict if not given). Slack's client is imported only when Slack is configured.
    """
    channels: dict[str, Channel] = {}
    if config.console:
        channels["console"] = ConsoleChannel(console_stream)
    if config.file is not None:
        channels["file"] = FileChannel(config.file)
    if config.webhook is not None:
        channels["webhook"] = WebhookChannel(config.webhook, http_client)
    if config.slack is not None:
        from alerts.channels.slack import SlackChannel

        channels["slack"] = SlackChannel(config.slack)
    if config.smtp is not None:
        email = EmailChannel(config.smtp, renderer=renderer)
        channels["email"] = email
        channels["digest"] = DigestChannel(
            email, renderer or Renderer(), digest_buffer, clock=clock
        )
    return channels

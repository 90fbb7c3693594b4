"""Find an alert's Slack message in the channel's recent history by its message metadata.

Each message the Slack channel posts carries ``metadata = {"event_type": "newswatch_alert",
"event_payload": {"alert_id": ..., "delivery_key": ...}}``. After a crash, an alert decided
but not recorded as sent may already be in Slack (posted just before the worker died); this
module looks for it with ``conversations.history`` (``include_all_metadata``, ``oldest`` a
margin before the alert was created, at most ``pages`` pages) or, for a thread reply,
``conversations.replies``. One scan per channel serves every lookup until the next
partition assignment (``fresh_after``). Without the history scope it says so once and
finds nothing (at-least-once).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

__all__ = ["DENIED_ERRORS", "EVENT_TYPE", "SlackHistory", "metadata_for"]

log = logging.getLogger("alerts.channels.slack")

EVENT_TYPE = "newswatch_alert"
#: History errors that mean "this token may never read history": fall back for good.
DENIED_ERRORS = frozenset({"missing_scope", "not_allowed_token_type"})
_ID = re.compile(r"[CGD][A-Z0-9]{8,}")
_ATTEMPTS = 3


def metadata_for(alert_id: str, key: str) -> dict[str, Any]:
    """The message metadata that identifies one delivery of one alert."""
    return {"event_type": EVENT_TYPE, "event_payload": {"alert_id": alert_id, "delivery_key": key}}


def key_of(message: Any) -> str | None:
    """The delivery key in a history message's metadata, if it is one of ours."""
    meta = message.get("metadata") if isinstance(message, dict) else None
    if not isinstance(meta, dict) or meta.get("event_type") != EVENT_TYPE:
        return None
    payload = meta.get("event_payload")
    key = payload.get("delivery_key") if isinstance(payload, dict) else None
    return key if isinstance(key, str) else None


@dataclass
class _Scan:
    """What one bounded history scan of a channel found."""

    scanned_at: float
    covers_from: float
    truncated: bool
    found: dict[str, str] = field(default_factory=dict)  # delivery key → ts


class _Unreadable(Exception):
    """History could not be read this time (reason in the message)."""


class SlackHistory:
    """Looks up delivery keys in channel history; caches channel IDs and one scan per channel."""

    def __init__(
        self,
        client: Callable[[], Awaitable[AsyncWebClient]],
        *,
        margin_s: float = 120.0,
        pages: int = 5,
        page_size: int = 200,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self.margin_s = margin_s
        self.pages = pages
        self.page_size = page_size
        self.clock = clock
        self.sleep = sleep
        self.denied: str | None = None  # the error that switched lookups off
        self.lookups = 0
        self.found = 0
        self._ids: dict[str, str] = {}
        self._scans: dict[str, _Scan] = {}

    def learn(self, name: str, channel_id: object) -> None:
        """Remember a channel's ID (from a ``chat.postMessage`` answer)."""
        if isinstance(channel_id, str) and _ID.fullmatch(channel_id):
            self._ids[name.lstrip("#")] = channel_id

    async def find(
        self, key: str, created_at: float, channel: str, thread: str | None, fresh_after: float
    ) -> tuple[str, str] | None:
        """``(channel id, ts)`` of the message carrying ``key``, or None (also when unknown)."""
        if self.denied is not None:
            return None
        self.lookups += 1
        try:
            channel_id = await self._channel_id(channel)
            if channel_id is None:
                return None
            oldest = created_at - self.margin_s
            if thread:
                ts = await self._in_thread(channel_id, thread, key, oldest)
            else:
                scan = self._scans.get(channel_id)
                if scan is None or not _covers(scan, oldest, fresh_after):
                    scan = self._scans[channel_id] = await self._scan(channel_id, oldest)
                ts = scan.found.get(key)
        except _Unreadable as exc:
            if self.denied is not None:  # said once, in _deny
                return None
            log.warning(
                "slack: could not read the history of %s (%s); posting without the check, "
                "a message sent just before a crash may appear twice",
                channel,
                exc,
            )
            return None
        if ts is None:
            return None
        self.found += 1
        return channel_id, ts

    # ------------------------------------------------------------------ internals
    async def _channel_id(self, channel: str) -> str | None:
        name = channel.lstrip("#")
        if _ID.fullmatch(name):
            return name
        if name not in self._ids:
            cursor: str | None = None
            for _ in range(20):
                data = await self._call(
                    "conversations_list",
                    types="public_channel,private_channel",
                    exclude_archived=True,
                    limit=200,
                    cursor=cursor,
                )
                for item in data.get("channels") or []:
                    if isinstance(item, dict) and isinstance(item.get("name"), str):
                        self.learn(item["name"], item.get("id"))
                cursor = _next_cursor(data)
                if name in self._ids or not cursor:
                    break
        return self._ids.get(name)

    async def _scan(self, channel_id: str, oldest: float) -> _Scan:
        scan = _Scan(self.clock(), oldest, truncated=False)
        cursor: str | None = None
        for _ in range(self.pages):
            data = await self._call(
                "conversations_history",
                channel=channel_id,
                oldest=f"{oldest:.6f}",
                limit=self.page_size,
                include_all_metadata=True,
                cursor=cursor,
            )
            for message in data.get("messages") or []:
                key = key_of(message)
                if key is not None:
                    scan.found[key] = str(message.get("ts"))  # newest first: keep the oldest
                if isinstance(message, dict) and message.get("ts"):
                    scan.covers_from = float(message["ts"])
            cursor = _next_cursor(data)
            if not cursor:
                scan.covers_from = oldest
                return scan
        scan.truncated = True  # page bound reached: only the newest messages were seen
        return scan

    async def _in_thread(self, channel_id: str, thread: str, key: str, oldest: float) -> str | None:
        cursor: str | None = None
        for _ in range(self.pages):
            data = await self._call(
                "conversations_replies",
                channel=channel_id,
                ts=thread,
                oldest=f"{oldest:.6f}",
                limit=self.page_size,
                include_all_metadata=True,
                cursor=cursor,
            )
            for message in data.get("messages") or []:
                if key_of(message) == key:
                    return str(message.get("ts"))
            cursor = _next_cursor(data)
            if not cursor:
                break
        return None

    async def _call(self, method: str, **params: Any) -> dict[str, Any]:
        """One read; retriable failures retried briefly; denial switches lookups off."""
        params = {k: v for k, v in params.items() if v is not None}
        reason = "?"
        for attempt in range(1, _ATTEMPTS + 1):
            client = await self._client()
            wait = 0.2 * attempt
            try:
                response = await getattr(client, method)(**params)
                return response.data if isinstance(response.data, dict) else {}
            except SlackApiError as exc:
                data = exc.response.data if isinstance(exc.response.data, dict) else {}
                code = str(data.get("error") or "")[:100]
                status = int(getattr(exc.response, "status_code", 0) or 0)
                reason = code or f"http {status}"
                if code in DENIED_ERRORS:
                    self._deny(code, str(data.get("needed") or "channels:history"))
                    raise _Unreadable(code) from None
                if status == 429 or code == "ratelimited":
                    headers = getattr(exc.response, "headers", {}) or {}
                    wait = min(5.0, float(headers.get("Retry-After") or 1))
                elif status < 500 and code not in ("internal_error", "fatal_error"):
                    raise _Unreadable(reason) from None
            except TimeoutError:
                reason = "timeout"
            except aiohttp.ClientError as exc:
                reason = f"connection error: {type(exc).__name__}"
            if attempt < _ATTEMPTS:
                await self.sleep(wait)
        raise _Unreadable(reason)

    def _deny(self, code: str, needed: str) -> None:
        if self.denied is None:
            log.warning(
                "slack: the bot token cannot read channel history (%s; needs %s): after a "
                "crash an alert may be posted twice (at-least-once). Add the scope to have "
                "newswatch look for already-posted alerts before posting again.",
                code,
                needed,
            )
        self.denied = code
        self._scans.clear()


def _covers(scan: _Scan, oldest: float, fresh_after: float) -> bool:
    """True if ``scan`` happened after ``fresh_after`` and reaches back to ``oldest``."""
    return scan.scanned_at >= fresh_after and (scan.covers_from <= oldest or scan.truncated)


def _next_cursor(data: dict[str, Any]) -> str | None:
    meta = data.get("response_metadata")
    cursor = meta.get("next_cursor") if isinstance(meta, dict) else None
    return cursor if isinstance(cursor, str) and cursor and data.get("has_more", True) else None

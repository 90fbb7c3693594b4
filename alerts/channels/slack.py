"""Slack channel: ``chat.postMessage`` through slack-sdk's ``AsyncWebClient``.

Updates of a story are posted as thread replies (``thread_ts`` = the first message's ts,
which the deliverer remembers per alert). The client's own retry handlers are switched off:
the deliverer owns retries, backoff and pacing. Link unfurling and name linking are off, so
nothing in an article makes Slack fetch a URL or ping anyone.

Every message carries metadata naming its alert and delivery key. ``find_sent`` looks for
that metadata in the channel's recent history, so that after a crash an alert already in
Slack is recorded as sent (with its ``ts``, for later thread replies) instead of being
posted again; see ``alerts.channels._slack_history``.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from alerts.channels._slack_history import SlackHistory, metadata_for
from alerts.channels.base import Channel, Receipt, parse_retry_after
from alerts.config import SlackConfig
from alerts.errors import DeliveryError, RateLimited
from alerts.feedback import feedback_actions
from alerts.ids import delivery_key
from alerts.render import Rendered
from schemas.records import AlertRecord

__all__ = ["PERMANENT_ERRORS", "RETRIABLE_ERRORS", "SlackChannel"]

log = logging.getLogger(__name__)

#: Slack ``error`` codes worth retrying; everything else is permanent.
RETRIABLE_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
#: The common permanent ones (documentation; any unknown code is permanent too).
PERMANENT_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "msg_too_long",
        "no_text",
        "invalid_blocks",
        "too_many_attachments",
        "restricted_action",
        "invalid_arguments",
    }
)


class SlackChannel(Channel):
    """Posts Block Kit messages (with a plain-text fallback) to Slack channels."""

    name = "slack"
    fmt = "slack"

    def __init__(
        self,
        config: SlackConfig,
        *,
        history_margin_s: float = 120.0,
        history_pages: int = 5,
        history_page_size: int = 200,
    ) -> None:
        self.config = config
        self.pacing = config.pacing
        self._session: aiohttp.ClientSession | None = None
        self._client: AsyncWebClient | None = None
        self.history = SlackHistory(
            self._started_client,
            margin_s=history_margin_s,
            pages=history_pages,
            page_size=history_page_size,
        )

    async def start(self) -> None:
        """Open one aiohttp session for all Slack calls."""
        if self._client is not None:
            return
        self._session = aiohttp.ClientSession()
        self._client = AsyncWebClient(
            token=self.config.token.get_secret_value(),
            base_url=self.config.api_url,
            timeout=self.config.timeout_s,  # type: ignore[arg-type]
            session=self._session,
            retry_handlers=[],
        )

    async def _started_client(self) -> AsyncWebClient:
        if self._client is None:
            await self.start()
        assert self._client is not None
        return self._client

    async def stop(self) -> None:
        """Close the session."""
        if self._session is not None:
            await self._session.close()
        self._session = None
        self._client = None

    def secrets(self) -> list[str]:
        """The bot token."""
        return [self.config.token.get_secret_value()]

    async def send(
        self,
        alert: AlertRecord,
        rendered: Rendered,
        *,
        target: str | None = None,
        thread: str | None = None,
    ) -> Receipt:
        """Post one message; map every failure to a (retriable or permanent) DeliveryError."""
        if self._client is None:
            await self.start()
        assert self._client is not None
        channel = target or self.config.default_channel
        spec = f"slack:{channel}"
        args: dict[str, Any] = {
            "channel": channel,
            "text": rendered.text,
            "unfurl_links": False,
            "unfurl_media": False,
            "link_names": False,
            "parse": "none",
        }
        if rendered.blocks is not None:
            args["blocks"] = rendered.blocks
            actions = feedback_actions(alert, snooze_s=self.config.snooze_s)
            if self.config.buttons and actions is not None:
                args["blocks"] = [*rendered.blocks[:49], actions]
        if thread:
            args["thread_ts"] = thread
        args["metadata"] = metadata_for(alert.alert_id, delivery_key(alert))
        try:
            response = await self._client.chat_postMessage(**args)
        except SlackApiError as exc:
            raise _api_error(spec, exc) from None
        except TimeoutError:
            raise DeliveryError(channel=spec, retriable=True, reason="timeout") from None
        except aiohttp.ClientError as exc:
            raise DeliveryError(
                channel=spec, retriable=True, reason=f"connection error: {type(exc).__name__}"
            ) from None
        data = response.data if isinstance(response.data, dict) else {}
        self.history.learn(channel, data.get("channel"))
        return Receipt(
            channel=spec,
            ref=str(data.get("ts")) if data.get("ts") else None,
            detail={"channel_id": data.get("channel")},
        )

    async def update_message(
        self, channel_id: str, ts: str, blocks: list[dict[str, Any]], text: str
    ) -> bool:
        """``chat.update`` one message (after a feedback click); False when Slack refused."""
        client = await self._started_client()
        try:
            await client.chat_update(channel=channel_id, ts=ts, blocks=blocks, text=text)
        except (SlackApiError, TimeoutError, aiohttp.ClientError) as exc:
            log.warning("cannot update Slack message %s in %s: %s", ts, channel_id, exc)
            return False
        return True

    async def find_sent(
        self,
        alert: AlertRecord,
        *,
        target: str | None = None,
        thread: str | None = None,
        fresh_after: float = 0.0,
    ) -> Receipt | None:
        """The message already posted for this delivery of ``alert`` (by its metadata), if any.

        Looks in the thread of ``thread`` for a reply, else in the channel's history since
        shortly before ``alert.created_at``. None when not found, or when history cannot be
        read (then the caller posts: at-least-once, said once in the log).
        """
        channel = target or self.config.default_channel
        found = await self.history.find(
            delivery_key(alert), alert.created_at, channel, thread, fresh_after
        )
        if found is None:
            return None
        channel_id, ts = found
        return Receipt(
            channel=f"slack:{channel}",
            ref=ts,
            detail={"channel_id": channel_id, "found_in_history": True},
        )


def _api_error(spec: str, exc: SlackApiError) -> DeliveryError:
    response = exc.response
    status = int(getattr(response, "status_code", 0) or 0)
    data = response.data if isinstance(response.data, dict) else {}
    code = str(data.get("error") or "")[:100]
    if status == 429 or code == "ratelimited":
        headers = getattr(response, "headers", {}) or {}
        retry_after = parse_retry_after(headers.get("Retry-After") or headers.get("retry-after"))
        return RateLimited(channel=spec, reason="ratelimited", retry_after=retry_after)
    if status >= 500 or code in RETRIABLE_ERRORS:
        return DeliveryError(
            channel=spec, retriable=True, reason=code or f"http {status}", status=status
        )
    return DeliveryError(
        channel=spec, retriable=False, reason=code or f"http {status}", status=status
    )

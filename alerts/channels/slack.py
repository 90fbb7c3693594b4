"""Slack channel: ``chat.postMessage`` through slack-sdk's ``AsyncWebClient``.

Updates of a story are posted as thread replies (``thread_ts`` = the first message's ts,
which the deliverer remembers per alert). The client's own retry handlers are switched off:
the deliverer owns retries, backoff and pacing. Link unfurling and name linking are off, so
nothing in an article makes Slack fetch a URL or ping anyone.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from alerts.channels.base import Channel, Receipt, parse_retry_after
from alerts.config import SlackConfig
from alerts.errors import DeliveryError, RateLimited
from alerts.render import Rendered
from schemas.records import AlertRecord

__all__ = ["PERMANENT_ERRORS", "RETRIABLE_ERRORS", "SlackChannel"]

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

    def __init__(self, config: SlackConfig) -> None:
        self.config = config
        self.pacing = config.pacing
        self._session: aiohttp.ClientSession | None = None
        self._client: AsyncWebClient | None = None

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
        if thread:
            args["thread_ts"] = thread
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
        return Receipt(
            channel=spec,
            ref=str(data.get("ts")) if data.get("ts") else None,
            detail={"channel_id": data.get("channel")},
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

"""Webhook channel: the alert as JSON, POSTed with a shared ``httpx.AsyncClient``.

Body: ``{"delivery_key", "alert", "text"}``; header ``Idempotency-Key`` = delivery key, so a
receiver can drop the rare duplicate of at-least-once delivery. ``text`` is safe to show in a
Slack- or Mattermost-compatible incoming webhook (``alerts._text.webhook_text``: ``& < >``
escaped, formatting characters inert, broadcast mentions broken); ``alert`` is raw data.
2xx is success; 429 honours ``Retry-After``; 408/425/5xx, timeouts and connection errors are
retriable; other 4xx are permanent.
"""

from __future__ import annotations

import httpx

from alerts._text import webhook_text
from alerts.channels.base import Channel, Receipt, parse_retry_after
from alerts.config import WebhookConfig
from alerts.errors import DeliveryError, RateLimited
from alerts.ids import delivery_key
from alerts.render import Rendered
from schemas.records import AlertRecord

__all__ = ["WebhookChannel"]

_RETRIABLE_STATUS = {408, 425}


class WebhookChannel(Channel):
    """POSTs alerts as JSON; uses the given client or opens its own."""

    name = "webhook"
    fmt = "console"

    def __init__(self, config: WebhookConfig, client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self.pacing = config.pacing
        self._client = client
        self._own_client = client is None

    async def start(self) -> None:
        """Open an httpx client unless one was passed in."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.config.timeout_s)
            self._own_client = True

    async def stop(self) -> None:
        """Close the client if this channel opened it."""
        if self._own_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    def secrets(self) -> list[str]:
        """Header values (tokens) configured for the endpoint."""
        return [v.get_secret_value() for v in self.config.headers.values()]

    async def send(
        self,
        alert: AlertRecord,
        rendered: Rendered,
        *,
        target: str | None = None,
        thread: str | None = None,
    ) -> Receipt:
        """POST one alert; map the outcome to a Receipt or a DeliveryError."""
        spec = f"webhook:{target}" if target else "webhook"
        url = self.config.endpoints.get(target) if target else self.config.url
        if not url:
            raise DeliveryError(channel=spec, retriable=False, reason="no URL configured")
        if self._client is None:
            await self.start()
        assert self._client is not None
        key = delivery_key(alert)
        headers = {k: v.get_secret_value() for k, v in self.config.headers.items()}
        headers["Idempotency-Key"] = key
        body = {
            "delivery_key": key,
            "alert": alert.model_dump(mode="json"),
            "text": webhook_text(rendered.text),
        }
        try:
            response = await self._client.post(
                url, json=body, headers=headers, timeout=self.config.timeout_s
            )
        except httpx.TimeoutException:
            raise DeliveryError(channel=spec, retriable=True, reason="timeout") from None
        except httpx.TransportError as exc:
            raise DeliveryError(
                channel=spec, retriable=True, reason=f"connection error: {type(exc).__name__}"
            ) from None
        status = response.status_code
        if 200 <= status < 300:
            return Receipt(channel=spec, ref=response.headers.get("x-request-id"))
        if status == 429:
            raise RateLimited(
                channel=spec, retry_after=parse_retry_after(response.headers.get("retry-after"))
            )
        raise DeliveryError(
            channel=spec,
            retriable=status >= 500 or status in _RETRIABLE_STATUS,
            reason=f"http {status}",
            status=status,
        )

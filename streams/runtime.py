"""The worker's runtime: everything with a lifecycle that the stages use.

Built once per worker from ``Settings``: the watch-list (loaded and validated up front, so a
bad file fails the start with ``file:line:col``), the enricher (CPU work off the event
loop), the alert policy and deliverer over Faust tables, the shared ``httpx.AsyncClient``,
metrics and the health state. ``start()`` / ``stop()`` are called by the app's service.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import MutableMapping, Sequence
from typing import Any

import httpx

from schemas.records import DeadLetter, EnrichedArticle, RawArticle
from streams.codec import dumps
from streams.settings import Settings

__all__ = ["Runtime", "alert_configs", "enrich_config"]

log = logging.getLogger(__name__)


def enrich_config(settings: Settings) -> Any:
    """The enrichment configuration derived from settings."""
    from streams.enrich import EnrichConfig

    return EnrichConfig(
        languages=settings.languages, models=settings.spacy_models,
        max_chars=settings.max_article_chars, batch_size=settings.batch_size,
    )


def alert_configs(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``alerts.channels.build_channels`` derived from settings."""
    from alerts.config import FileConfig, SlackConfig, SmtpConfig, WebhookConfig

    return {
        "slack": SlackConfig(token=settings.slack_bot_token, api_url=settings.slack_api_url,
                             default_channel=settings.slack_default_channel)
        if settings.slack_bot_token else None,
        "smtp": SmtpConfig(host=settings.smtp_host, port=settings.smtp_port,
                           user=settings.smtp_user, password=settings.smtp_password,
                           starttls=settings.smtp_starttls, tls=settings.smtp_tls,
                           sender=settings.alert_email_from, default_to=settings.alert_email_to)
        if settings.smtp_host else None,
        "file": FileConfig(directory=settings.data_dir / "alerts"),
        "webhook": WebhookConfig(url=settings.webhook_url) if settings.webhook_url else None,
    }


class Runtime:
    """Owns the enricher, watch-list, alert policy/deliverer, HTTP client and metrics."""

    def __init__(self, settings: Settings) -> None:
        from streams.metrics import Metrics
        from streams.watchlist import WatchlistReloader, match_article

        self.settings = settings
        self.metrics = Metrics()
        self.watchlist = WatchlistReloader(settings.watchlist)  # raises WatchlistError if bad
        self.match = match_article
        self.ready = asyncio.Event()
        self.services: Any = None
        self.http: httpx.AsyncClient | None = None
        self._enricher: Any = None
        self._policy_state: MutableMapping[str, Any] | None = None
        self._sent_state: MutableMapping[str, Any] | None = None
        self.policy: Any = None
        self.deliverer: Any = None
        self.renderer: Any = None
        self.metrics.watchlist_loaded(self.watchlist.current.version)

    def bind_state(self, policy_state: MutableMapping[str, Any],
                   sent_state: MutableMapping[str, Any]) -> None:
        """Give the alert policy and deliverer their (changelog-backed) state."""
        self._policy_state, self._sent_state = policy_state, sent_state

    async def start(self) -> None:
        """Start every component, then let the agents run."""
        from alerts.channels import build_channels
        from alerts.deliver import Deliverer
        from alerts.policy import AlertPolicy
        from alerts.render import Renderer
        from streams.enrich import AsyncEnricher

        timeout = httpx.Timeout(self.settings.http_timeout_s, connect=5.0)
        self.http = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self.renderer = Renderer(self.settings.template_dir)
        self.renderer.validate()
        self._enricher = AsyncEnricher(enrich_config(self.settings))
        self._enricher.set_entity_patterns(self.watchlist.current.entity_patterns())
        await self._enricher.start()
        assert self._policy_state is not None and self._sent_state is not None
        self.policy = AlertPolicy(self._policy_state)
        channels = build_channels(
            enabled=self.settings.alert_channels, renderer=self.renderer, http=self.http,
            **alert_configs(self.settings),
        )
        self.deliverer = Deliverer(channels, self._sent_state, self._dead_letter_alert)
        await self.deliverer.start()
        if self.services is not None:
            self.services.policy = self.policy
            self.services.deliverer = self.deliverer
        log.warning("newswatch worker: watch-list %s version %s active",
                    self.settings.watchlist, self.watchlist.current.version)
        self.ready.set()

    async def stop(self) -> None:
        """Stop components in reverse order; safe to call twice."""
        self.ready.clear()
        if self.deliverer is not None:
            await self.deliverer.stop()
        if self._enricher is not None:
            await self._enricher.stop()
        if self.http is not None:
            await self.http.aclose()
            self.http = None

    async def enrich_batch(self, articles: Sequence[RawArticle]) -> list[EnrichedArticle]:
        """Enrich off the event loop (the enricher's pool)."""
        result: list[EnrichedArticle] = await self._enricher.enrich_batch(list(articles))
        return result

    async def poll_watchlist(self) -> None:
        """Check the watch-list file; on a valid change swap it and update the entity ruler."""
        changed = await asyncio.to_thread(self.watchlist.check)
        if self.watchlist.last_error is not None:
            self.metrics.watchlist_error()
        if changed and self._enricher is not None:
            self._enricher.set_entity_patterns(self.watchlist.current.entity_patterns())
            self.metrics.watchlist_loaded(self.watchlist.current.version)
            log.warning("watch-list reloaded: version %s", self.watchlist.current.version)

    async def _dead_letter_alert(self, letter: DeadLetter) -> None:
        if self.services is None:
            return
        topic = self.services.topics.alerts_dlq
        await self.services.outbox.send(topic, (letter.key or "").encode(), dumps(letter))
        self.metrics.dead_lettered(topic, letter.error)

    # --- HTTP endpoints ------------------------------------------------------------

    def http_health(self) -> tuple[int, str, bytes]:
        """Liveness: the event loop answers."""
        return 200, "application/json", b'{"status":"ok"}'

    async def http_ready(self) -> tuple[int, str, bytes]:
        """Readiness: broker reachable, watch-list loaded, templates valid."""
        import orjson

        from streams.broker import metadata_ok

        host, _, port = self.settings.bootstrap_servers.split(",")[0].rpartition(":")
        broker = await asyncio.to_thread(metadata_ok, host, int(port), 1.0)
        checks = {
            "broker": broker,
            "watchlist": self.watchlist.current is not None,
            "watchlist_version": self.watchlist.current.version,
            "watchlist_error": str(self.watchlist.last_error) if self.watchlist.last_error else None,
            "templates": self.renderer is not None,
            "started": self.ready.is_set(),
        }
        ok = broker and checks["watchlist"] and checks["templates"] and checks["started"]
        return (200 if ok else 503), "application/json", orjson.dumps(checks)

    def http_metrics(self) -> tuple[int, str, bytes]:
        """Prometheus text exposition."""
        return 200, "text/plain; version=0.0.4", self.metrics.render()

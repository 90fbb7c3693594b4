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
from streams.kafka.codec import dumps
from streams.settings import Settings

__all__ = ["Runtime", "enrich_config"]

log = logging.getLogger(__name__)


def enrich_config(settings: Settings) -> Any:
    """The enrichment configuration derived from settings."""
    from streams.enrich import EnrichConfig

    return EnrichConfig.from_settings(settings)


class Runtime:
    """Owns the enricher, watch-list, alert policy/deliverer, HTTP client and metrics."""

    def __init__(self, settings: Settings) -> None:
        from streams.pipeline.metrics import Metrics
        from streams.pipeline.web import HealthState
        from streams.watchlist import WatchlistReloader, match_article

        self.settings = settings
        self.metrics = Metrics()
        self.health = HealthState()
        # Loaded and validated here: a bad file fails the start with file:line:col.
        self.watchlist = WatchlistReloader(settings.watchlist, poll_s=settings.watchlist_poll_s)
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
        self._note_watchlist()

    def _note_watchlist(self) -> None:
        current = self.watchlist.current
        assert current is not None
        self.metrics.watchlist_loaded(current.version, len(current.rules))
        self.health.watchlist_loaded(current.version)

    def bind_state(
        self, policy_state: MutableMapping[str, Any], sent_state: MutableMapping[str, Any]
    ) -> None:
        """Give the alert policy and deliverer their (changelog-backed) state."""
        self._policy_state, self._sent_state = policy_state, sent_state
        self.metrics.track_state_size("policy", lambda: len(policy_state))
        self.metrics.track_state_size("sent", lambda: len(sent_state))

    async def start(self) -> None:
        """Start every component, then let the agents run."""
        from alerts.channels import build_channels
        from alerts.config import (
            ChannelsConfig,
            DeliveryConfig,
            PacingConfig,
            PolicyConfig,
            RetryConfig,
            RuleLimit,
        )
        from alerts.deliver import Deliverer
        from alerts.policy import AlertPolicy
        from alerts.render import Renderer
        from streams.enrich import AsyncEnricher

        current = self.watchlist.current
        assert current is not None
        timeout = httpx.Timeout(self.settings.http_timeout_s, connect=5.0)
        self.http = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self.renderer = Renderer(self.settings.template_dir)
        checked = self.renderer.validate()  # raises TemplateError naming file:line
        self.health.templates_checked(True, f"{len(checked)} templates valid")
        workers = self.settings.enrich_workers
        self._enricher = AsyncEnricher(
            enrich_config(self.settings),
            mode="process" if workers > 1 else "thread",  # thread: measured best on 2 cores
            processes=workers,
        )
        self._enricher.set_entity_patterns(current.entity_patterns())
        await self._enricher.start()
        assert self._policy_state is not None and self._sent_state is not None
        limit = RuleLimit(
            max_alerts=self.settings.rule_limit, window_s=self.settings.rule_limit_window_s
        )
        self.policy = AlertPolicy(self._policy_state, config=PolicyConfig(rule_limit=limit))
        config = ChannelsConfig.from_settings(self.settings).model_copy(
            update={"console": "console" in self.settings.alert_channels}
        )
        if config.slack is not None:  # messages per second per Slack channel
            pacing = PacingConfig(rate_per_s=self.settings.slack_rate_per_s, burst=3)
            slack = config.slack.model_copy(update={"pacing": pacing})
            config = config.model_copy(update={"slack": slack})
        channels = build_channels(config, renderer=self.renderer, http_client=self.http)
        # A rule may name channels this worker has no credentials for (e.g. Slack in the
        # demo): skip and count them instead of dead-lettering every alert.
        retry = RetryConfig(
            base_delay_s=self.settings.delivery_retry_base_s,
            max_delay_s=max(30.0, self.settings.delivery_retry_base_s),
            max_retry_after_s=self.settings.delivery_max_retry_after_s,
        )
        delivery = DeliveryConfig(unconfigured="skip", retry=retry)
        self.deliverer = Deliverer(
            channels,
            self._sent_state,
            self._dead_letter_alert,
            renderer=self.renderer,
            config=delivery,
        )
        self.deliverer.note_assignment()  # alerts decided before this start: reconcile
        await self.deliverer.start()
        if self.services is not None:
            self.services.policy = self.policy
            self.services.deliverer = self.deliverer
        await self.check_broker()
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

    async def enrich_batch(
        self, articles: Sequence[RawArticle]
    ) -> list[EnrichedArticle | Exception]:
        """Enrich off the event loop; a failing article yields its error in its slot."""
        return list(await self._enricher.try_enrich_batch(list(articles)))

    async def poll_watchlist(self) -> None:
        """Check the watch-list file; on a valid change swap it and update the entity ruler."""
        failed_before = self.watchlist.last_error_at
        changed = await asyncio.to_thread(self.watchlist.check)
        error = self.watchlist.last_error
        if error is not None and self.watchlist.last_error_at != failed_before:
            self.metrics.watchlist_reload_failed()
            self.health.watchlist_failed(str(error))
        if changed and self.watchlist.current is not None:
            if self._enricher is not None:
                self._enricher.set_entity_patterns(self.watchlist.current.entity_patterns())
            self._note_watchlist()

    async def _dead_letter_alert(self, letter: DeadLetter) -> None:
        if self.services is None:
            return
        topic = self.services.topics.alerts_dlq
        await self.services.outbox.send(topic, (letter.key or "").encode(), dumps(letter))
        self.metrics.dead_lettered(topic, letter.error)

    async def check_broker(self) -> bool:
        """Probe the first bootstrap server; the result feeds ``/ready``."""
        from streams.kafka.broker import metadata_ok

        host, _, port = self.settings.bootstrap_servers.split(",")[0].strip().rpartition(":")
        ok = await asyncio.to_thread(metadata_ok, host, int(port), 1.0)
        self.health.broker_checked(ok, self.settings.bootstrap_servers)
        return ok

"""The composition root: ``build_worker(settings, ...)`` builds every service of a worker.

Settings are mapped once onto frozen views (config.py); each part is built fully typed and
ready to use — nothing is filled in later. What has a lifecycle (HTTP client, enricher pool,
channels) is entered into one ``AsyncExitStack`` by :meth:`Worker.start` and left, in
reverse order, by :meth:`Worker.stop`. The Faust app (app.py), the demo, replay and the
benchmarks build through here; tools and tests pass an in-memory outbox and dict state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from alerts.channels import build_channels
from alerts.channels.slack import SlackChannel
from alerts.deliver import Deliverer
from alerts.links import LinkSigner
from alerts.render import Renderer
from alerts.service import AlertDecider, AlertSender, unreachable_channels
from alerts.silences import SilenceBook
from schemas.records import DeadLetter, EnrichedArticle, RawArticle
from streams.enrich import AsyncEnricher
from streams.kafka.codec import dumps
from streams.kafka.probe import BrokerProbe
from streams.pipeline.config import (
    WorkerConfig,
    configured_kinds,
    preload_languages,
    worker_config,
)
from streams.pipeline.email_feedback import EmailFeedback
from streams.pipeline.interactions import MessageUpdater, SlackInteractions
from streams.pipeline.judgements import JudgementRecorder
from streams.pipeline.metrics import Metrics
from streams.pipeline.services import MetricsSink, Outbox, PipelineServices
from streams.pipeline.silences import FeedbackFeed, SilenceFeed
from streams.pipeline.web import HealthState
from streams.settings import Settings
from streams.watchlist import WatchlistReloader, match_article
from streams.watchlist.compile import CompiledWatchlist
from streams.watchlist.reload import apply_entity_patterns

__all__ = ["AlertState", "Worker", "build_worker"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertState:
    """Where alert state lives: Faust tables in the worker, dicts in tools and tests.

    ``policy`` is co-partitioned with ``articles.matches`` (keys ``<rule>|…``), ``sent`` with
    ``alerts`` (keys start with the alert id), ``digest`` holds queued digest emails.
    """

    policy: MutableMapping[str, Any] = field(default_factory=dict)
    sent: MutableMapping[str, Any] = field(default_factory=dict)
    digest: MutableMapping[str, Any] | None = None


class Worker:
    """The built services of one worker, and their lifecycle."""

    def __init__(
        self,
        config: WorkerConfig,
        services: PipelineServices,
        *,
        watchlist: WatchlistReloader,
        enricher: AsyncEnricher,
        deliverer: Deliverer,
        http: httpx.AsyncClient,
        health: HealthState,
        metrics: Metrics,
        probe: BrokerProbe,
        silences: SilenceBook,
        silence_feed: SilenceFeed | None = None,
        interactions: SlackInteractions | None = None,
        feedback_feed: FeedbackFeed | None = None,
        email_feedback: EmailFeedback | None = None,
    ) -> None:
        self.config = config
        self.services = services
        self.watchlist = watchlist
        self.enricher = enricher
        self.deliverer = deliverer
        self.http = http
        self.health = health
        self.metrics = metrics
        self.probe = probe
        self.silences = silences
        self.silence_feed = silence_feed
        #: ``POST /slack/interactions``; None unless ``SLACK_SIGNING_SECRET`` is set
        self.interactions = interactions
        self.feedback_feed = feedback_feed
        #: ``GET``/``POST /email/feedback``; None unless the public URL and link secret are set
        self.email_feedback = email_feedback
        self.bootstrap = probe.bootstrap
        self.ready = asyncio.Event()
        self._stack: contextlib.AsyncExitStack | None = None
        self._reported_missing: set[tuple[str, str, str]] = set()
        self._note_watchlist()

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Start the enricher, channels and HTTP client (one exit stack), then signal ready."""
        stack = contextlib.AsyncExitStack()
        await stack.__aenter__()
        try:
            stack.push_async_callback(self.http.aclose)
            current = self._current()
            self.enricher.set_entity_patterns(current.entity_patterns())
            await self.enricher.start()  # loads the preloaded languages' pipelines
            stack.push_async_callback(self.enricher.stop)
            self.health.pipelines_loaded(self.enricher.config.preload)
            self.deliverer.note_assignment()  # alerts decided before this start: reconcile
            await self.deliverer.start()
            stack.push_async_callback(self.deliverer.stop)
            if self.silence_feed is not None:  # every silence so far, before the first decision
                await self.silence_feed.start()
                stack.push_async_callback(self.silence_feed.stop)
            if self.feedback_feed is not None:
                await self.feedback_feed.start()
                stack.push_async_callback(self.feedback_feed.stop)
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        await self.check_broker()
        if await self.check_topics():
            self.ready.set()

    async def stop(self) -> None:
        """Stop everything started, in reverse order; safe to call twice."""
        self.ready.clear()
        if self.interactions is not None:
            await self.interactions.drain()
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()

    # ------------------------------------------------------------------ periodic checks
    async def poll_watchlist(self) -> None:
        """Check the watch-list file; on a valid change swap it and update the entity ruler."""
        failed_before = self.watchlist.last_error_at
        changed = await asyncio.to_thread(self.watchlist.check)
        error = self.watchlist.last_error
        if error is not None and self.watchlist.last_error_at != failed_before:
            self.metrics.watchlist_reload_failed()
            self.health.watchlist_failed(str(error))
        elif error is None and self.health.watchlist_error is not None:
            self.health.watchlist_valid()  # restored to a valid file, maybe the same version
        if changed and self.watchlist.current is not None:
            if self.enricher.running:
                # off the loop: 20,000 aliases take a second to list and validate
                await asyncio.to_thread(
                    apply_entity_patterns,
                    self.watchlist.current,
                    self.enricher.set_entity_patterns,
                )
            self._note_watchlist()

    async def check_broker(self) -> bool:
        """Probe the cluster (a TLS/SASL handshake when configured); feeds ``/ready``."""
        ok, detail = await self.probe.reachable()
        self.health.broker_checked(ok, detail)
        return ok

    async def check_topics(self) -> bool:
        """With ``NEWSWATCH_CREATE_TOPICS=false``: every needed topic exists, else not ready."""
        problems = await self.probe.topic_problems()
        if problems is None:
            return True
        self.health.topics_checked(problems)
        if problems:
            log.error("not ready, topics are missing or wrong: %s", "; ".join(problems))
        return not problems

    def _current(self) -> CompiledWatchlist:
        current = self.watchlist.current
        if current is None:  # WatchlistReloader loads (or raises) in its constructor
            raise RuntimeError("no watch-list loaded")
        return current

    def _note_watchlist(self) -> None:
        current = self._current()
        self.metrics.watchlist_loaded(current.version, len(current.rules))
        self.health.watchlist_loaded(current.version, len(current.rules))
        if not current.rules:
            log.error("the watch-list %s has no enabled rule: nothing will alert", current.version)
        rules = {rule.id: tuple(rule.channels) for rule in current.rules}
        missing = unreachable_channels(rules, configured_kinds(self.config.alerts.channels))
        self.health.channels_checked(missing)
        for item in missing:
            if item not in self._reported_missing:
                self._reported_missing.add(item)
                log.error(
                    "rule %r names channel %r, which this worker cannot reach (needs %s); "
                    "its alerts go to %s",
                    *item,
                    self.config.kafka.topics.alerts_dlq,
                )


def build_worker(
    settings: Settings,
    *,
    outbox: Outbox,
    state: AlertState | None = None,
    metrics: Metrics | None = None,
    bootstrap: str | None = None,
    follow_silences: bool = False,
) -> Worker:
    """Build every service of a worker from ``settings`` (loads and validates the watch-list).

    ``follow_silences``: read ``alerts.silences`` at start and follow it (the Faust worker);
    tools and tests without a broker leave it off and fill ``worker.silences`` themselves.

    Raises the watch-list's or the templates' error (``file:line:col``) for a bad file.
    """
    config = worker_config(settings)
    state = state if state is not None else AlertState()
    metrics = metrics if metrics is not None else Metrics()
    health = HealthState()
    topics = config.kafka.topics
    watchlist = WatchlistReloader(config.watchlist.path, poll_s=config.watchlist.poll_s)
    renderer = Renderer(config.alerts.template_dir)
    checked = renderer.validate()  # raises TemplateError naming file:line
    health.templates_checked(True, f"{len(checked)} templates valid")
    http = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.http_timeout_s, connect=5.0), follow_redirects=False
    )
    workers = config.enrich.workers
    loaded = watchlist.current
    enrich_config = config.enrich.config
    if loaded is not None:  # the detector knows every language the watch-list has terms for
        enrich_config = enrich_config.with_detector_languages(loaded.term_languages())
    preload = preload_languages(
        config.enrich.preload,
        enrich_config.languages,
        loaded.term_languages() if loaded is not None else [],
    )
    enrich_config = enrich_config.model_copy(update={"preload": preload})
    enricher = AsyncEnricher(
        enrich_config,
        mode="process" if workers > 1 else "thread",  # thread: measured best on 2 cores
        processes=workers,
    )
    channels = build_channels(
        config.alerts.channels, renderer=renderer, http_client=http, digest_buffer=state.digest
    )

    counters: dict[str, int] = {}

    async def dead_letter(letter: DeadLetter) -> None:
        await outbox.send(topics.alerts_dlq, (letter.key or "").encode(), dumps(letter))
        metrics.dead_lettered(topics.alerts_dlq, letter.error)
        counters[f"dlq:{topics.alerts_dlq}"] = counters.get(f"dlq:{topics.alerts_dlq}", 0) + 1

    deliverer = Deliverer(
        channels,
        state.sent,
        dead_letter,
        renderer=renderer,
        config=config.alerts.delivery,
        source_topic=topics.alerts,
        digest_check_s=min(60.0, max(0.5, settings.digest_interval_s / 4)),
    )
    alerts = config.alerts
    silences = SilenceBook()
    decider = AlertDecider(
        state.policy,
        config=alerts.policy,
        test_channel=alerts.test_channel,
        max_age_s=alerts.max_age_s,
        silences=silences,
    )
    sender = AlertSender(
        deliverer, max_age_s=alerts.max_age_s, retention_s=alerts.policy.retention_s
    )

    async def enrich_batch(articles: Sequence[RawArticle]) -> list[EnrichedArticle | Exception]:
        return list(await enricher.try_enrich_batch(list(articles)))

    metrics.track_state_size("policy", lambda: len(state.policy))
    metrics.track_state_size("sent", lambda: len(state.sent))
    metrics.track_pipeline_loads(lambda: enricher.pipeline_loads)
    metrics.track_silences(lambda kind: sum(s.kind == kind for s in silences.active()))
    sink: MetricsSink = metrics
    services = PipelineServices(
        topics=topics,
        outbox=outbox,
        enrich_batch=enrich_batch,
        watchlist=watchlist,
        match=match_article,
        decider=decider,
        sender=sender,
        metrics=sink,
        max_record_bytes=config.kafka.max_record_bytes,
        partitions=config.kafka.partitions,
        counters=counters,
    )
    probe = BrokerProbe(settings, bootstrap or config.kafka.bootstrap_servers)
    feed = feedback_feed = None
    if follow_silences:
        client = probe.security.client_kwargs()
        feed = SilenceFeed(
            silences, bootstrap=probe.bootstrap, topic=topics.silences, client=client
        )
        feedback_feed = FeedbackFeed(
            metrics.feedback_recorded,
            bootstrap=probe.bootstrap,
            topic=topics.feedback,
            client=client,
        )
    interactions = None
    secret = config.web.slack_signing_secret
    if secret is not None and secret.get_secret_value():
        slack = channels.get("slack")
        updater: MessageUpdater | None = slack if isinstance(slack, SlackChannel) else None
        interactions = SlackInteractions(
            signing_secret=secret.get_secret_value(),
            outbox=outbox,
            topics=topics,
            metrics=metrics,
            silences=silences,
            updater=updater,
            watchlist_version=lambda: watchlist.current.version if watchlist.current else "",
            snooze_s=config.web.slack_snooze_s,
            mute_s=config.web.slack_mute_s,
        )
    email_feedback = None
    if config.web.email_links is not None:
        email_feedback = EmailFeedback(
            signer=LinkSigner.from_config(config.web.email_links),
            recorder=JudgementRecorder(
                outbox=outbox,
                topics=topics,
                silences=silences,
                watchlist_version=lambda: watchlist.current.version if watchlist.current else "",
                snooze_s=config.web.slack_snooze_s,
                mute_s=config.web.slack_mute_s,
            ),
            metrics=metrics,
        )
    return Worker(
        config,
        services,
        watchlist=watchlist,
        enricher=enricher,
        deliverer=deliverer,
        http=http,
        health=health,
        metrics=metrics,
        probe=probe,
        silences=silences,
        silence_feed=feed,
        interactions=interactions,
        feedback_feed=feedback_feed,
        email_feedback=email_feedback,
    )

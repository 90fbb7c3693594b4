"""Frozen views of ``Settings`` by concern: what each part of the worker is built from.

``Settings`` (streams/settings.py) is the one place environment names and defaults are
written; :func:`worker_config` maps it, once, onto these views. They carry no defaults of
their own: every field is filled from a setting, so a new setting that reaches nothing
shows up in ``tests/streams/test_settings_env.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from alerts.config import (
    ChannelsConfig,
    DeliveryConfig,
    FileConfig,
    LinkConfig,
    PacingConfig,
    PolicyConfig,
    RetryConfig,
    RuleLimit,
    SlackConfig,
    SmtpConfig,
    WebhookConfig,
)
from schemas.topics import Topics
from streams.enrich.config import EnrichConfig, normalize_lang
from streams.ingest.fetch import FetchConfig
from streams.kafka.security import KafkaSecurity
from streams.settings import Settings

__all__ = [
    "AlertsView",
    "EnrichView",
    "IngestView",
    "KafkaView",
    "LogView",
    "WatchlistView",
    "WebView",
    "WorkerConfig",
    "link_config",
    "preload_languages",
    "worker_config",
]


@dataclass(frozen=True)
class KafkaView:
    """Broker, consumer group, topics and record limits."""

    bootstrap_servers: str
    embedded: bool
    broker_host: str
    broker_port: int
    tansu_bin: str | None
    broker_rotate_records: int
    app_id: str
    partitions: int
    replication_factor: int
    topics: Topics
    idempotent_producer: bool
    exactly_once: bool
    session_timeout_s: float
    max_record_bytes: int
    batch_size: int
    batch_within_s: float
    #: TLS/SASL as configured (validated, and files read, when the probe is built)
    security: KafkaSecurity
    create_topics: bool


@dataclass(frozen=True)
class EnrichView:
    """The enricher's own config plus how many worker processes run it."""

    config: EnrichConfig
    workers: int
    #: NEWSWATCH_PRELOAD_LANGUAGES as given ('auto' is resolved by ``preload_languages``)
    preload: tuple[str, ...] = ("auto",)
    #: seconds between two ``malloc_trim`` runs of the worker (0: never)
    heap_trim_s: float = 60.0


@dataclass(frozen=True)
class WatchlistView:
    """Where the watch-list lives and how often it is checked for changes."""

    path: Path
    poll_s: float


@dataclass(frozen=True)
class AlertsView:
    """Alert policy, channels, delivery and the replay/staleness rules."""

    policy: PolicyConfig
    channels: ChannelsConfig
    delivery: DeliveryConfig
    enabled_kinds: tuple[str, ...]
    test_channel: str
    max_age_s: float
    template_dir: Path | None
    data_dir: Path


@dataclass(frozen=True)
class WebView:
    """The web server: ``/health``, ``/ready``, ``/metrics``, ``/slack/interactions``,
    ``/email/feedback``."""

    host: str
    port: int
    #: None: ``POST /slack/interactions`` is off (404)
    slack_signing_secret: SecretStr | None
    slack_snooze_s: float
    slack_mute_s: float
    #: None: ``/email/feedback`` is off (404) and emails carry no feedback links
    email_links: LinkConfig | None


@dataclass(frozen=True)
class LogView:
    """Log level and format."""

    level: str
    json: bool


@dataclass(frozen=True)
class IngestView:
    """Feed polling limits (``newswatch ingest`` / ``run``)."""

    feed_max_items: int
    feed_interval_s: float = 300.0
    source_fail_after: int = 3
    source_silent_factor: float = 3.0
    source_min_silent_s: float = 3600.0
    source_max_tracked: int = 100


@dataclass(frozen=True)
class WorkerConfig:
    """Every view, built from one ``Settings``."""

    kafka: KafkaView
    enrich: EnrichView
    watchlist: WatchlistView
    alerts: AlertsView
    fetch: FetchConfig
    ingest: IngestView
    web: WebView
    log: LogView
    data_dir: Path


def preload_languages(
    requested: tuple[str, ...] | list[str], languages: list[str], term_languages: list[str]
) -> list[str]:
    """NEWSWATCH_PRELOAD_LANGUAGES resolved: ``auto`` → the configured ``languages`` the
    watch-list has terms for, ``none`` → nothing, codes as given (normalized, in order)."""
    terms = {normalize_lang(code) for code in term_languages}
    out: list[str] = []
    for item in requested:
        code = item.strip().lower()
        if code == "auto":
            out.extend(lang for lang in languages if normalize_lang(lang) in terms)
        elif code and code != "none":
            out.append(code)
    return list(dict.fromkeys(normalize_lang(code) for code in out))


def worker_config(settings: Settings) -> WorkerConfig:
    """Map ``settings`` onto the views (pure; no I/O)."""
    return WorkerConfig(
        kafka=KafkaView(
            bootstrap_servers=settings.bootstrap_servers,
            embedded=settings.embedded_broker,
            broker_host=settings.broker_host,
            broker_port=settings.broker_port,
            tansu_bin=settings.tansu_bin,
            broker_rotate_records=settings.broker_rotate_records,
            app_id=settings.app_id,
            partitions=settings.partitions,
            replication_factor=settings.replication_factor,
            topics=settings.topics,
            idempotent_producer=settings.idempotent_producer,
            exactly_once=settings.exactly_once,
            session_timeout_s=settings.session_timeout_s,
            max_record_bytes=settings.max_record_bytes,
            batch_size=settings.batch_size,
            batch_within_s=settings.batch_within_s,
            security=KafkaSecurity.unchecked(settings),
            create_topics=settings.create_topics,
        ),
        enrich=EnrichView(
            config=EnrichConfig.from_settings(settings),
            workers=settings.enrich_workers,
            preload=tuple(settings.preload_languages),
            heap_trim_s=settings.heap_trim_s,
        ),
        watchlist=WatchlistView(path=settings.watchlist, poll_s=settings.watchlist_poll_s),
        alerts=alerts_view(settings),
        fetch=FetchConfig.from_settings(settings),
        ingest=IngestView(
            feed_max_items=settings.feed_max_items,
            feed_interval_s=settings.feed_interval_s,
            source_fail_after=settings.source_fail_after,
            source_silent_factor=settings.source_silent_factor,
            source_min_silent_s=settings.source_min_silent_s,
            source_max_tracked=settings.source_max_tracked,
        ),
        web=WebView(
            host=settings.web_host,
            port=settings.web_port,
            slack_signing_secret=settings.slack_signing_secret,
            slack_snooze_s=settings.slack_snooze_s,
            slack_mute_s=settings.slack_mute_s,
            email_links=link_config(settings),
        ),
        log=LogView(level=settings.log_level, json=settings.log_json),
        data_dir=Path(settings.data_dir),
    )


def alerts_view(settings: Settings) -> AlertsView:
    """The alert part of the config: policy knobs, channels selected and configured, retries."""
    policy = PolicyConfig(
        default_window_s=settings.story_window_s,
        rule_limit=RuleLimit(max_alerts=settings.rule_limit, window_s=settings.rule_limit_window_s),
        max_updates_per_story=settings.max_updates_per_story,
        near_duplicate=settings.near_duplicate,
        retention_s=settings.state_retention_s,
    )
    retry = RetryConfig(
        base_delay_s=settings.delivery_retry_base_s,
        max_delay_s=max(30.0, settings.delivery_retry_base_s),
        max_retry_after_s=settings.delivery_max_retry_after_s,
    )
    return AlertsView(
        policy=policy,
        channels=channels_config(settings),
        delivery=DeliveryConfig(unconfigured="dead_letter", retry=retry),
        enabled_kinds=tuple(k.strip().lower() for k in settings.alert_channels),
        test_channel=settings.test_channel,
        max_age_s=settings.max_alert_age_s,
        template_dir=settings.template_dir,
        data_dir=Path(settings.data_dir),
    )


def link_config(settings: Settings) -> LinkConfig | None:
    """The email feedback links: on when ``NEWSWATCH_PUBLIC_URL`` and the link secret are set."""
    secret = settings.link_secret
    if not settings.public_url or secret is None or not secret.get_secret_value():
        return None
    return LinkConfig(
        base_url=settings.public_url,
        secret=secret,
        previous_secret=settings.link_secret_previous,
        ttl_s=settings.link_ttl_s,
    )


def channels_config(settings: Settings) -> ChannelsConfig:
    """The channels this worker builds: a kind listed in ``NEWSWATCH_ALERT_CHANNELS`` and set up.

    Slack needs ``SLACK_BOT_TOKEN``, email and digest ``SMTP_HOST``, webhook
    ``NEWSWATCH_WEBHOOK_URL``; console and file need nothing else.
    """
    kinds = {k.strip().lower() for k in settings.alert_channels}
    timeout = settings.http_timeout_s
    token = settings.slack_bot_token
    slack = None
    if "slack" in kinds and token is not None and token.get_secret_value():
        slack = SlackConfig(
            token=token,
            api_url=settings.slack_api_url,
            default_channel=settings.slack_default_channel,
            timeout_s=timeout,
            pacing=PacingConfig(rate_per_s=settings.slack_rate_per_s, burst=3),
            buttons=bool(
                settings.slack_signing_secret and settings.slack_signing_secret.get_secret_value()
            ),
            snooze_s=settings.slack_snooze_s,
        )
    smtp = None
    if kinds & {"email", "digest"} and settings.smtp_host:
        smtp = SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            user=settings.smtp_user,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            tls=settings.smtp_tls,
            sender=settings.alert_email_from,
            default_to=list(settings.alert_email_to),
            timeout_s=timeout,
            digest_interval_s=settings.digest_interval_s,
            links=link_config(settings),
        )
    webhook = None
    if "webhook" in kinds and settings.webhook_url:
        webhook = WebhookConfig(url=settings.webhook_url, timeout_s=timeout)
    return ChannelsConfig(
        console="console" in kinds,
        file=FileConfig(directory=Path(settings.data_dir) / "alerts") if "file" in kinds else None,
        webhook=webhook,
        slack=slack,
        smtp=smtp,
    )


def configured_kinds(channels: ChannelsConfig) -> set[str]:
    """The channel kinds a ``ChannelsConfig`` builds."""
    kinds: set[str] = set()
    if channels.console:
        kinds.add("console")
    if channels.file is not None:
        kinds.add("file")
    if channels.webhook is not None:
        kinds.add("webhook")
    if channels.slack is not None:
        kinds.add("slack")
    if channels.smtp is not None:
        kinds |= {"email", "digest"}
    return kinds

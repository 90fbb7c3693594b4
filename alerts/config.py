"""Small pydantic configuration models for the policy, the deliverer and each channel.

Secrets are ``SecretStr``: their ``repr``/``str`` is masked, and channels hand the plain
value only to the client library. ``ChannelsConfig.from_settings`` reads any object with
the attribute names of ``streams.settings.Settings`` (duck-typed: ``alerts`` never imports
``streams``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from schemas.watchlist import DEFAULT_STORY_WINDOW_S

__all__ = [
    "DEFAULT_ROUTING",
    "ChannelsConfig",
    "DeliveryConfig",
    "FileConfig",
    "LinkConfig",
    "PacingConfig",
    "PolicyConfig",
    "RetryConfig",
    "RuleLimit",
    "SlackConfig",
    "SmtpConfig",
    "WebhookConfig",
]

Severity = Literal["low", "medium", "high", "critical"]

#: Where an alert goes when its rule names no channels: high → Slack now, low → digest.
DEFAULT_ROUTING: dict[str, list[str]] = {
    "critical": ["slack", "email"],
    "high": ["slack"],
    "medium": ["slack"],
    "low": ["digest"],
}


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL with a host")
    return value


class PacingConfig(_Config):
    """A token bucket: ``rate_per_s`` sustained, ``burst`` messages at once."""

    rate_per_s: float = Field(1.0, gt=0)
    burst: int = Field(3, ge=1)


class RetryConfig(_Config):
    """Retry policy shared by every channel."""

    max_attempts: int = Field(5, ge=1, description="attempts for 5xx/timeouts, first included")
    base_delay_s: float = Field(1.0, ge=0)
    max_delay_s: float = Field(60.0, ge=0)
    max_rate_limited: int = Field(10, ge=1, description="429 answers tolerated per message")
    max_retry_after_s: float = Field(300.0, gt=0, description="cap on a server's Retry-After")
    default_retry_after_s: float = Field(1.0, ge=0, description="429 without Retry-After")


class SlackConfig(_Config):
    """Slack Web API: bot token and base URL (``SLACK_BOT_TOKEN``, ``SLACK_API_URL``)."""

    token: SecretStr
    api_url: str = "https://slack.com/api/"
    default_channel: str = "#newswatch"
    timeout_s: float = Field(10.0, gt=0)
    pacing: PacingConfig = PacingConfig(rate_per_s=1.0, burst=3)
    #: feedback buttons on every alert (on when the interactivity endpoint is configured)
    buttons: bool = False
    #: how long the "Snooze this rule" button silences the rule (shown on the button)
    snooze_s: float = Field(86400.0, gt=0)

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return _http_url(value)


class LinkConfig(_Config):
    """Signed feedback links in alert emails (``NEWSWATCH_PUBLIC_URL``, ``NEWSWATCH_LINK_*``)."""

    base_url: str
    secret: SecretStr
    #: the secret before the last rotation: links signed with it stay valid
    previous_secret: SecretStr | None = None
    ttl_s: float = Field(7 * 86400.0, gt=0)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return _http_url(value)


class SmtpConfig(_Config):
    """SMTP submission (``SMTP_*``): STARTTLS or implicit TLS, optional AUTH, digests."""

    host: str
    port: int = Field(25, ge=1, le=65535)
    user: str | None = None
    password: SecretStr | None = None
    starttls: bool = False
    tls: bool = Field(False, description="implicit TLS (SMTPS, usually port 465)")
    verify_tls: bool = True
    ca_file: Path | None = None
    sender: str = "newswatch@localhost"
    default_to: list[str] = Field(default_factory=list)
    timeout_s: float = Field(10.0, gt=0)
    digest_interval_s: float = Field(3600.0, gt=0)
    digest_max_items: int = Field(200, ge=1)
    pacing: PacingConfig = PacingConfig(rate_per_s=5.0, burst=10)
    #: feedback links in alert emails (one message per recipient then); None: no links
    links: LinkConfig | None = None


class FileConfig(_Config):
    """JSONL output: ``file`` → ``<directory>/alerts.jsonl``, ``file:NAME`` → ``NAME.jsonl``."""

    directory: Path
    default_name: str = "alerts"
    fsync: bool = False


class WebhookConfig(_Config):
    """JSON POST endpoint(s): ``webhook`` → ``url``, ``webhook:NAME`` → ``endpoints[NAME]``."""

    url: str | None = None
    endpoints: dict[str, str] = Field(default_factory=dict)
    headers: dict[str, SecretStr] = Field(default_factory=dict)
    timeout_s: float = Field(10.0, gt=0)
    pacing: PacingConfig = PacingConfig(rate_per_s=10.0, burst=20)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value)

    @field_validator("endpoints")
    @classmethod
    def _endpoints(cls, value: dict[str, str]) -> dict[str, str]:
        return {name: _http_url(url) for name, url in value.items()}


class ChannelsConfig(_Config):
    """Which channels exist. A channel whose config is ``None`` is not configured."""

    console: bool = True
    file: FileConfig | None = None
    webhook: WebhookConfig | None = None
    slack: SlackConfig | None = None
    smtp: SmtpConfig | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> ChannelsConfig:
        """Every channel ``settings`` (``streams.settings.Settings`` names) can configure.

        No defaults here: the settings model holds them. The worker selects kinds with
        ``NEWSWATCH_ALERT_CHANNELS`` on top of this (streams/pipeline/config.py).
        """
        timeout = float(settings.http_timeout_s)
        token = settings.slack_bot_token
        slack = None
        if token is not None and _secret(token):
            slack = SlackConfig(
                token=SecretStr(_secret(token)),
                api_url=settings.slack_api_url,
                default_channel=settings.slack_default_channel,
                timeout_s=timeout,
            )
        smtp = None
        if settings.smtp_host:
            password = settings.smtp_password
            smtp = SmtpConfig(
                host=settings.smtp_host,
                port=int(settings.smtp_port),
                user=settings.smtp_user,
                password=SecretStr(_secret(password)) if password is not None else None,
                starttls=bool(settings.smtp_starttls),
                tls=bool(settings.smtp_tls),
                sender=settings.alert_email_from,
                default_to=list(settings.alert_email_to),
                timeout_s=timeout,
            )
        webhook_url = settings.webhook_url
        return cls(
            console=True,
            file=FileConfig(directory=Path(settings.data_dir) / "alerts"),
            webhook=WebhookConfig(url=webhook_url, timeout_s=timeout) if webhook_url else None,
            slack=slack,
            smtp=smtp,
        )


def _secret(value: Any) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else str(value)


class DeliveryConfig(_Config):
    """Deliverer knobs: retries and what to do with a spec whose channel is not configured."""

    retry: RetryConfig = RetryConfig()
    unconfigured: Literal["dead_letter", "skip"] = "dead_letter"
    seed: int | None = Field(None, description="seed of the backoff jitter (tests)")


class RuleLimit(_Config):
    """At most ``max_alerts`` new alerts per ``window_s`` for one rule."""

    max_alerts: int = Field(20, ge=1)
    window_s: float = Field(3600.0, gt=0)


class PolicyConfig(_Config):
    """Story grouping, throttling and routing defaults."""

    default_window_s: float = Field(
        DEFAULT_STORY_WINDOW_S, gt=0, description="story window of rules without a throttle"
    )
    rule_limit: RuleLimit = RuleLimit()
    rule_limits: dict[str, RuleLimit] = Field(default_factory=dict)
    max_updates_per_story: int = Field(20, ge=0)
    near_duplicate: float = Field(0.7, gt=0, le=1, description="MinHash Jaccard threshold")
    group_by_entities: bool = True
    routing: dict[str, list[str]] = Field(default_factory=lambda: dict(DEFAULT_ROUTING))
    extra_channels: list[str] = Field(default_factory=list, description="added to every alert")
    retention_s: float = Field(2 * 24 * 3600.0, gt=0, description="state older than this is pruned")
    max_evidence: int = Field(20, ge=1)

"""Settings, parsed once at the edge (the CLI) from the environment and an optional file.

Names follow ``shared/DESIGN.md``. Secrets are ``SecretStr`` and may come from a file:
``SLACK_BOT_TOKEN_FILE`` / ``SMTP_PASSWORD_FILE`` name a file whose content is the secret.
``Settings.public_dump()`` masks them; nothing in newswatch logs a secret.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from schemas.channels import CHANNEL_KINDS
from schemas.topics import TOPIC_NAMES, Topics
from streams.errors import ConfigError

__all__ = ["DEFAULT_WATCHLIST", "TOPIC_NAMES", "Settings"]

StrList = Annotated[list[str], NoDecode]

#: Enrichment defaults, written once here and used by ``streams.enrich.config.EnrichConfig``.
DEFAULT_LANGUAGES = ("de", "en", "fr", "nl", "es", "it", "pt", "pl", "ru", "zh")
DEFAULT_SPACY_MODELS = {
    "de": "de_core_news_sm",
    "en": "en_core_web_sm",
    "fr": "fr_core_news_sm",
    "xx": "xx_ent_wiki_sm",
}
DEFAULT_MAX_ARTICLE_CHARS = 200_000

#: Kafka client security (see streams/kafka/security.py).
KafkaSecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
KafkaSaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
#: Kafka secrets that may also come from ``<NAME>_FILE``.
KAFKA_SECRET_VARS = ("KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD", "KAFKA_SSL_KEY_PASSWORD")
#: Every secret that may come from ``<NAME>_FILE`` (read by one validator).
SECRET_FILE_VARS = (
    "SLACK_BOT_TOKEN",
    "SMTP_PASSWORD",
    "SLACK_SIGNING_SECRET",
    "NEWSWATCH_LINK_SECRET",
    "NEWSWATCH_LINK_SECRET_PREVIOUS",
    *KAFKA_SECRET_VARS,
)
#: a link secret shorter than this is refused (it signs links anyone may try to forge)
MIN_LINK_SECRET = 16

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_WATCHLIST = PACKAGE_DIR / "watchlist" / "examples" / "watchlist.yaml"
SAMPLES_DIR = PACKAGE_DIR / "samples"


class Settings(BaseSettings):
    """Every knob of newswatch. Environment names are given by ``validation_alias``."""

    model_config = SettingsConfigDict(
        env_file=os.environ.get("NEWSWATCH_CONFIG") or None,
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # --- Kafka / broker -------------------------------------------------------------
    kafka_bootstrap_servers: str | None = Field(None, validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    broker_host: str = Field("127.0.0.1", validation_alias="NEWSWATCH_BROKER_HOST")
    broker_port: int = Field(9092, ge=1, le=65535, validation_alias="NEWSWATCH_BROKER_PORT")
    tansu_bin: str | None = Field(None, validation_alias="TANSU_BIN")
    broker_rotate_records: int = Field(
        20000,
        ge=0,
        validation_alias="NEWSWATCH_BROKER_ROTATE_RECORDS",
        description="embedded broker only: a topic holding more records than this is emptied "
        "(offsets kept) once the workers have read all of it; 0 = keep everything "
        "(docs/kafka.md)",
    )
    app_id: str = Field("newswatch", validation_alias="NEWSWATCH_APP_ID")
    partitions: int = Field(4, ge=1, le=256, validation_alias="NEWSWATCH_PARTITIONS")
    replication_factor: int = Field(1, ge=1, validation_alias="NEWSWATCH_REPLICATION_FACTOR")
    topic_prefix: str = Field("", validation_alias="NEWSWATCH_TOPIC_PREFIX")
    idempotent_producer: bool = Field(False, validation_alias="NEWSWATCH_IDEMPOTENT_PRODUCER")
    exactly_once: bool = Field(False, validation_alias="NEWSWATCH_EXACTLY_ONCE")
    session_timeout_s: float = Field(6.0, gt=0, validation_alias="NEWSWATCH_SESSION_TIMEOUT")
    max_record_bytes: int = Field(
        1_000_000, ge=1_024, validation_alias="NEWSWATCH_MAX_RECORD_BYTES"
    )

    # --- worker ---------------------------------------------------------------------
    data_dir: Path = Field(Path("./newswatch-data"), validation_alias="NEWSWATCH_DATA_DIR")
    web_port: int = Field(6066, ge=0, le=65535, validation_alias="NEWSWATCH_WEB_PORT")
    web_host: str = Field("127.0.0.1", validation_alias="NEWSWATCH_WEB_HOST")
    log_level: str = Field("warning", validation_alias="NEWSWATCH_LOG_LEVEL")
    log_json: bool = Field(False, validation_alias="NEWSWATCH_LOG_JSON")
    batch_size: int = Field(32, ge=1, validation_alias="NEWSWATCH_BATCH_SIZE")
    batch_within_s: float = Field(0.05, gt=0, validation_alias="NEWSWATCH_BATCH_WITHIN")
    alert_channels: StrList = Field(
        default_factory=lambda: list(CHANNEL_KINDS),
        validation_alias="NEWSWATCH_ALERT_CHANNELS",
        description="channel kinds this worker delivers to (comma-separated); a listed kind "
        "also needs its settings (Slack: SLACK_BOT_TOKEN, email/digest: SMTP_HOST, webhook: "
        "NEWSWATCH_WEBHOOK_URL)",
    )
    test_channel: str = Field("file:replayed", validation_alias="NEWSWATCH_TEST_CHANNEL")
    delivery_retry_base_s: float = Field(
        1.0, gt=0, validation_alias="NEWSWATCH_DELIVERY_RETRY_BASE"
    )
    delivery_max_retry_after_s: float = Field(
        60.0, gt=0, validation_alias="NEWSWATCH_DELIVERY_MAX_RETRY_AFTER"
    )
    rule_limit: int = Field(20, ge=1, validation_alias="NEWSWATCH_RULE_LIMIT")
    rule_limit_window_s: float = Field(3600.0, gt=0, validation_alias="NEWSWATCH_RULE_LIMIT_WINDOW")
    template_dir: Path | None = Field(None, validation_alias="NEWSWATCH_TEMPLATE_DIR")
    story_window_s: float = Field(
        6 * 3600.0,
        gt=0,
        validation_alias="NEWSWATCH_STORY_WINDOW",
        description="seconds a story stays open for updates when its rule sets no throttle "
        "window; after it a new report alerts anew",
    )
    max_updates_per_story: int = Field(
        20,
        ge=0,
        validation_alias="NEWSWATCH_MAX_UPDATES_PER_STORY",
        description="updates sent for one story alert; later reports are throttled",
    )
    near_duplicate: float = Field(
        0.7,
        gt=0,
        le=1,
        validation_alias="NEWSWATCH_NEAR_DUPLICATE",
        description="MinHash Jaccard similarity from which two texts are the same story",
    )
    state_retention_s: float = Field(
        2 * 24 * 3600.0,
        gt=0,
        validation_alias="NEWSWATCH_STATE_RETENTION",
        description="alert-policy state untouched this long (at least the rule's window) "
        "is deleted",
    )
    max_alert_age_s: float = Field(
        3600.0,
        gt=0,
        validation_alias="NEWSWATCH_MAX_ALERT_AGE",
        description="match events whose article was ingested longer ago than this are not "
        "alerted (counted and logged as stale); history is for `newswatch replay`",
    )

    # --- enrichment -----------------------------------------------------------------
    languages: StrList = Field(
        default_factory=lambda: list(DEFAULT_LANGUAGES), validation_alias="NEWSWATCH_LANGUAGES"
    )
    spacy_models: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_SPACY_MODELS),
        validation_alias="NEWSWATCH_SPACY_MODELS",
    )
    max_article_chars: int = Field(
        DEFAULT_MAX_ARTICLE_CHARS, ge=1_000, validation_alias="NEWSWATCH_MAX_ARTICLE_CHARS"
    )
    enrich_workers: int = Field(1, ge=1, validation_alias="NEWSWATCH_ENRICH_WORKERS")
    max_vocab_strings: int = Field(
        30_000,
        ge=1_000,
        validation_alias="NEWSWATCH_MAX_VOCAB_STRINGS",
        description="a spaCy pipeline that interned more new token strings than this since "
        "it was loaded is rebuilt in the background and swapped in (bounds RSS: about "
        "0.4 KB per string; each rebuild costs one pipeline load and one full GC run)",
    )
    heap_trim_s: float = Field(
        60.0,
        ge=0,
        validation_alias="NEWSWATCH_HEAP_TRIM_INTERVAL",
        description="every this many seconds the worker gives freed heap pages back to the OS "
        "(glibc malloc_trim in a thread, off the event loop; 0 = never): without it RSS creeps "
        "as alert state and vocabularies turn over, the freed pages staying with the process",
    )
    detect_pack_languages: bool = Field(
        True,
        validation_alias="NEWSWATCH_DETECT_PACK_LANGUAGES",
        description="the language detector also knows every language the shipped concept "
        "packs have terms for (23), so an article in one of them is not taken for a "
        "neighbouring language; false: it chooses only among NEWSWATCH_LANGUAGES and the "
        "watch-list's term languages (a worker starts seconds faster and loads fewer "
        "models; with a single language no detector is loaded at all)",
    )
    preload_languages: StrList = Field(
        default_factory=lambda: ["auto"],
        validation_alias="NEWSWATCH_PRELOAD_LANGUAGES",
        description="languages whose spaCy pipeline (watch-list ruler, lemma table) is loaded "
        "before the worker reports ready, so no article waits for a load (comma-separated "
        "ISO 639-1 codes); 'auto': each language of NEWSWATCH_LANGUAGES the watch-list has "
        "terms for; 'none': load each language on its first article. Each costs start-up "
        "time and memory (about 0.3-3 s and 10-150 MB with the fallback pipelines)",
    )

    # --- watch-list -----------------------------------------------------------------
    watchlist: Path = Field(DEFAULT_WATCHLIST, validation_alias="NEWSWATCH_WATCHLIST")
    watchlist_poll_s: float = Field(2.0, gt=0, validation_alias="NEWSWATCH_WATCHLIST_POLL")

    # --- fetching (guarded client) --------------------------------------------------
    fetch_allow_hosts: StrList = Field(
        default_factory=list, validation_alias="NEWSWATCH_FETCH_ALLOW"
    )
    fetch_timeout_s: float = Field(10.0, gt=0, validation_alias="NEWSWATCH_FETCH_TIMEOUT")
    fetch_max_bytes: int = Field(5_000_000, ge=1_024, validation_alias="NEWSWATCH_FETCH_MAX_BYTES")
    feed_max_items: int = Field(
        500,
        ge=1,
        validation_alias="NEWSWATCH_FEED_MAX_ITEMS",
        description="at most this many entries are parsed per feed document",
    )
    feed_interval_s: float = Field(
        300.0,
        gt=0,
        validation_alias="NEWSWATCH_FEED_INTERVAL",
        description="seconds between two polls of one feed (failures back off from it)",
    )
    source_fail_after: int = Field(
        3,
        ge=1,
        validation_alias="NEWSWATCH_SOURCE_FAIL_AFTER",
        description="ops alert when a feed failed this many fetches in a row",
    )
    source_silent_factor: float = Field(
        3.0,
        gt=1,
        validation_alias="NEWSWATCH_SOURCE_SILENT_FACTOR",
        description="ops alert when a source had no new item for this many times its usual gap",
    )
    source_min_silent_s: float = Field(
        3600.0,
        ge=0,
        validation_alias="NEWSWATCH_SOURCE_MIN_SILENT",
        description="a source is never called silent before this many seconds without a new item",
    )
    source_max_tracked: int = Field(
        100,
        ge=1,
        le=10_000,
        validation_alias="NEWSWATCH_SOURCE_MAX_TRACKED",
        description="source health tracks this many distinct sources (one `source` label each); "
        "later ones are counted together as `other`",
    )

    # --- channels -------------------------------------------------------------------
    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="SLACK_API_URL")
    slack_default_channel: str = Field("#newswatch", validation_alias="SLACK_DEFAULT_CHANNEL")
    slack_rate_per_s: float = Field(1.0, gt=0, validation_alias="NEWSWATCH_SLACK_RATE")
    slack_signing_secret: SecretStr | None = Field(
        None,
        validation_alias="SLACK_SIGNING_SECRET",
        description="the Slack app's signing secret (secret; or SLACK_SIGNING_SECRET_FILE): "
        "turns on POST /slack/interactions and the feedback buttons on Slack alerts",
    )
    slack_snooze_s: float = Field(
        86400.0,
        gt=0,
        validation_alias="NEWSWATCH_SLACK_SNOOZE",
        description="seconds the 'Snooze this rule' button silences the rule",
    )
    slack_mute_s: float = Field(
        604800.0,
        gt=0,
        validation_alias="NEWSWATCH_SLACK_MUTE",
        description="seconds the 'Mute this story' button silences the story",
    )
    # --- signed feedback links in alert emails (alerts/links.py, docs/email-feedback.md) ---
    public_url: str | None = Field(
        None,
        validation_alias="NEWSWATCH_PUBLIC_URL",
        description="http(s) URL at which people reach this worker's web port (behind a "
        "proxy: its URL); with NEWSWATCH_LINK_SECRET it turns on the signed feedback links "
        "in alert emails and GET/POST /email/feedback",
    )
    link_secret: SecretStr | None = Field(
        None,
        validation_alias="NEWSWATCH_LINK_SECRET",
        description="secret that signs the email feedback links (secret; or "
        "NEWSWATCH_LINK_SECRET_FILE; at least 16 characters, e.g. `openssl rand -hex 32`)",
    )
    link_secret_previous: SecretStr | None = Field(
        None,
        validation_alias="NEWSWATCH_LINK_SECRET_PREVIOUS",
        description="the link secret before a rotation (secret; or "
        "NEWSWATCH_LINK_SECRET_PREVIOUS_FILE): links signed with it stay valid",
    )
    link_ttl_s: float = Field(
        7 * 86400.0,
        gt=0,
        validation_alias="NEWSWATCH_LINK_TTL",
        description="seconds an email feedback link stays valid",
    )
    smtp_host: str | None = Field(None, validation_alias="SMTP_HOST")
    smtp_port: int = Field(25, ge=1, le=65535, validation_alias="SMTP_PORT")
    smtp_user: str | None = Field(None, validation_alias="SMTP_USER")
    smtp_password: SecretStr | None = Field(None, validation_alias="SMTP_PASSWORD")
    smtp_starttls: bool = Field(False, validation_alias="SMTP_STARTTLS")
    smtp_tls: bool = Field(False, validation_alias="SMTP_TLS")
    alert_email_from: str = Field("newswatch@localhost", validation_alias="ALERT_EMAIL_FROM")
    alert_email_to: StrList = Field(default_factory=list, validation_alias="ALERT_EMAIL_TO")
    digest_interval_s: float = Field(
        3600.0,
        gt=0,
        validation_alias="NEWSWATCH_DIGEST_INTERVAL",
        description="seconds between digest emails per recipient list (the digest buffer "
        "survives restarts in a changelog-backed table)",
    )
    # a webhook URL is a credential (token in the path or query): kept out of repr and dumps
    webhook_url: str | None = Field(None, validation_alias="NEWSWATCH_WEBHOOK_URL", repr=False)
    http_timeout_s: float = Field(10.0, gt=0, validation_alias="NEWSWATCH_HTTP_TIMEOUT")

    # --- Kafka security and topic management (streams/kafka/security.py, docs/kafka.md) ---
    # BEGIN kafka-security
    kafka_security_protocol: KafkaSecurityProtocol = Field(
        "PLAINTEXT",
        validation_alias="KAFKA_SECURITY_PROTOCOL",
        description="Kafka client security: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL "
        "(docs/kafka.md)",
    )
    kafka_ssl_cafile: Path | None = Field(
        None,
        validation_alias="KAFKA_SSL_CAFILE",
        description="CA bundle (PEM) that signs the brokers' certificates",
    )
    kafka_ssl_certfile: Path | None = Field(
        None,
        validation_alias="KAFKA_SSL_CERTFILE",
        description="client certificate (PEM) for mutual TLS",
    )
    kafka_ssl_keyfile: Path | None = Field(
        None,
        validation_alias="KAFKA_SSL_KEYFILE",
        description="private key (PEM) of the client certificate",
    )
    kafka_ssl_key_password: SecretStr | None = Field(
        None,
        validation_alias="KAFKA_SSL_KEY_PASSWORD",
        description="password of the client key (secret; or KAFKA_SSL_KEY_PASSWORD_FILE)",
    )
    kafka_ssl_check_hostname: bool = Field(
        True,
        validation_alias="KAFKA_SSL_CHECK_HOSTNAME",
        description="verify that the broker certificate names the broker host",
    )
    kafka_sasl_mechanism: KafkaSaslMechanism | None = Field(
        None,
        validation_alias="KAFKA_SASL_MECHANISM",
        description="SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512",
    )
    kafka_sasl_username: SecretStr | None = Field(
        None,
        validation_alias="KAFKA_SASL_USERNAME",
        description="SASL user name (secret; or KAFKA_SASL_USERNAME_FILE)",
    )
    kafka_sasl_password: SecretStr | None = Field(
        None,
        validation_alias="KAFKA_SASL_PASSWORD",
        description="SASL password (secret; or KAFKA_SASL_PASSWORD_FILE)",
    )
    kafka_connect_timeout_s: float = Field(
        15.0,
        gt=0,
        validation_alias="NEWSWATCH_KAFKA_CONNECT_TIMEOUT",
        description="seconds a command waits for the first TLS/SASL handshake before it "
        "fails with one line",
    )
    create_topics: bool = Field(
        True,
        validation_alias="NEWSWATCH_CREATE_TOPICS",
        description="create missing topics at start; false = verify them and refuse to be "
        "ready while one is missing or wrong",
    )

    @field_validator("kafka_security_protocol", "kafka_sasl_mechanism", mode="before")
    @classmethod
    def _kafka_names(cls, value: Any) -> Any:
        """Accept ``sasl_ssl`` / ``scram_sha_512``; an empty mechanism means none."""
        if isinstance(value, str):
            return value.strip().upper().replace("SCRAM_", "SCRAM-").replace("SHA_", "SHA-") or None
        return value

    # END kafka-security

    @field_validator(
        "languages",
        "alert_channels",
        "fetch_allow_hosts",
        "alert_email_to",
        "preload_languages",
        mode="before",
    )
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return json.loads(value)
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("public_url", mode="before")
    @classmethod
    def _public_url(cls, value: Any) -> Any:
        """Empty means unset; otherwise an http(s) URL with a host."""
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(
                    "must be an http(s) URL with a host, e.g. https://newswatch.example"
                )
        return value

    @field_validator("link_secret", "link_secret_previous", mode="before")
    @classmethod
    def _link_secret(cls, value: Any) -> Any:
        """Empty means unset; a set secret has at least ``MIN_LINK_SECRET`` characters."""
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(text, str):
            if not text.strip():
                return None
            if len(text.strip()) < MIN_LINK_SECRET:
                raise ValueError(f"must have at least {MIN_LINK_SECRET} characters")
        return value

    @model_validator(mode="before")
    @classmethod
    def _secret_files(cls, data: Any) -> Any:
        """Read ``<NAME>_FILE`` for every secret in ``SECRET_FILE_VARS`` not set itself."""
        if not isinstance(data, dict):
            return data
        for name in SECRET_FILE_VARS:
            file_var = os.environ.get(f"{name}_FILE")
            if file_var and not (data.get(name) or os.environ.get(name)):
                try:
                    content = Path(file_var).read_text(encoding="utf-8").strip()
                except OSError as exc:
                    raise ValueError(f"{name}_FILE={file_var}: {exc.strerror}") from None
                if content:  # an empty file (an optional secret left blank) means unset
                    data[name] = content
        return data

    # --- derived --------------------------------------------------------------------

    @property
    def embedded_broker(self) -> bool:
        """True when newswatch starts its own broker (no KAFKA_BOOTSTRAP_SERVERS)."""
        return not self.kafka_bootstrap_servers

    @property
    def bootstrap_servers(self) -> str:
        """host:port list for Kafka clients."""
        return self.kafka_bootstrap_servers or f"{self.broker_host}:{self.broker_port}"

    def topic(self, name: str) -> str:
        """The configured name of one of ``TOPIC_NAMES``."""
        return f"{self.topic_prefix}{name}"

    @property
    def topics(self) -> Topics:
        """The topic catalogue (``schemas.topics``) with ``NEWSWATCH_TOPIC_PREFIX`` applied."""
        return Topics.prefixed(self.topic_prefix)

    def public_dump(self) -> dict[str, Any]:
        """Settings as a dict with every secret masked (for logs and `/ready`)."""
        dump = self.model_dump(mode="json")
        for key in (
            "slack_bot_token",
            "smtp_password",
            "webhook_url",
            "slack_signing_secret",
            "link_secret",
            "link_secret_previous",
        ):
            if dump.get(key):
                dump[key] = "**********"
        return dump

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Parse the environment (plus overrides by field name); ConfigError on bad values."""
        try:
            return cls(**overrides)
        except ValidationError as exc:
            problems = []
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"]) or "settings"
                problems.append(f"{loc}: {err['msg']}")
            raise ConfigError("invalid settings: " + "; ".join(problems)) from None

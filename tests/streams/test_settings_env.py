"""Every environment variable of ``Settings`` has an observable effect on the built worker config.

The table has one row per variable; a variable added to ``Settings`` without a row fails
``test_every_environment_variable_has_a_row``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

import pytest

from streams.pipeline.config import WorkerConfig, worker_config
from streams.pipeline.root import build_worker
from streams.settings import Settings
from streams.testing import MemoryOutbox

Check = Callable[[WorkerConfig], bool]
TMP = Path("/tmp/newswatch-settings-env")


class Row(NamedTuple):
    """A value to set, the check it must satisfy, and other variables it needs."""

    value: str
    check: Check
    extra: Mapping[str, str] = MappingProxyType({})


SLACK = {"SLACK_BOT_TOKEN": "xoxb-row"}
SMTP = {"SMTP_HOST": "mail.example.org"}
HOOK = {"NEWSWATCH_WEBHOOK_URL": "https://hooks.example.org/x"}
EXTERNAL = {"KAFKA_BOOTSTRAP_SERVERS": "k1:9093"}
SSL = {**EXTERNAL, "KAFKA_SECURITY_PROTOCOL": "SSL"}
PUBLIC = {"NEWSWATCH_PUBLIC_URL": "https://nw.example.org"}
LINK = {"NEWSWATCH_LINK_SECRET": "link-row-secret-0123456789"}


def _secret(value: object) -> str | None:
    """The plain value of a SecretStr (None stays None)."""
    get = getattr(value, "get_secret_value", None)
    return None if get is None else str(get())


def _slack(c: WorkerConfig):  # type: ignore[no-untyped-def]
    assert c.alerts.channels.slack is not None
    return c.alerts.channels.slack


def _smtp(c: WorkerConfig):  # type: ignore[no-untyped-def]
    assert c.alerts.channels.smtp is not None
    return c.alerts.channels.smtp


ROWS: dict[str, Row] = {
    # --- Kafka / broker
    "KAFKA_BOOTSTRAP_SERVERS": Row(
        "k1:9093", lambda c: c.kafka.bootstrap_servers == "k1:9093" and not c.kafka.embedded
    ),
    "NEWSWATCH_BROKER_HOST": Row(
        "10.1.2.3", lambda c: c.kafka.bootstrap_servers.startswith("10.1.2.3:")
    ),
    "NEWSWATCH_BROKER_PORT": Row("19092", lambda c: c.kafka.bootstrap_servers.endswith(":19092")),
    "TANSU_BIN": Row("/opt/tansu", lambda c: c.kafka.tansu_bin == "/opt/tansu"),
    "NEWSWATCH_BROKER_ROTATE_RECORDS": Row("500", lambda c: c.kafka.broker_rotate_records == 500),
    "NEWSWATCH_APP_ID": Row("nw-staging", lambda c: c.kafka.app_id == "nw-staging"),
    "NEWSWATCH_PARTITIONS": Row("8", lambda c: c.kafka.partitions == 8),
    "NEWSWATCH_REPLICATION_FACTOR": Row("3", lambda c: c.kafka.replication_factor == 3),
    "NEWSWATCH_TOPIC_PREFIX": Row(
        "stg.",
        lambda c: (
            c.kafka.topics.alerts_dlq == "stg.alerts.dlq"
            and c.kafka.topics.raw == "stg.articles.raw"
        ),
    ),
    "NEWSWATCH_IDEMPOTENT_PRODUCER": Row("true", lambda c: c.kafka.idempotent_producer),
    "NEWSWATCH_EXACTLY_ONCE": Row("true", lambda c: c.kafka.exactly_once),
    "NEWSWATCH_SESSION_TIMEOUT": Row("9", lambda c: c.kafka.session_timeout_s == 9.0),
    "NEWSWATCH_MAX_RECORD_BYTES": Row("2000000", lambda c: c.kafka.max_record_bytes == 2_000_000),
    # --- Kafka security (validated when the broker probe is built: tests/streams/kafka)
    "KAFKA_SECURITY_PROTOCOL": Row(
        "SASL_SSL", lambda c: c.kafka.security.protocol == "SASL_SSL", EXTERNAL
    ),
    "KAFKA_SSL_CAFILE": Row(
        str(TMP / "ca.pem"), lambda c: c.kafka.security.cafile == TMP / "ca.pem", SSL
    ),
    "KAFKA_SSL_CERTFILE": Row(
        str(TMP / "c.pem"), lambda c: c.kafka.security.certfile == TMP / "c.pem", SSL
    ),
    "KAFKA_SSL_KEYFILE": Row(
        str(TMP / "k.pem"), lambda c: c.kafka.security.keyfile == TMP / "k.pem", SSL
    ),
    "KAFKA_SSL_KEY_PASSWORD": Row("kp", lambda c: _secret(c.kafka.security.key_password) == "kp"),
    "KAFKA_SSL_CHECK_HOSTNAME": Row("false", lambda c: not c.kafka.security.check_hostname),
    "KAFKA_SASL_MECHANISM": Row(
        "scram-sha-512", lambda c: c.kafka.security.mechanism == "SCRAM-SHA-512"
    ),
    "KAFKA_SASL_USERNAME": Row("nw", lambda c: _secret(c.kafka.security.username) == "nw"),
    "KAFKA_SASL_PASSWORD": Row("pw", lambda c: _secret(c.kafka.security.password) == "pw"),
    "NEWSWATCH_KAFKA_CONNECT_TIMEOUT": Row("3", lambda c: c.kafka.security.timeout_s == 3.0),
    "NEWSWATCH_CREATE_TOPICS": Row("false", lambda c: not c.kafka.create_topics),
    # --- worker
    "NEWSWATCH_DATA_DIR": Row(
        str(TMP / "data"),
        lambda c: (
            c.data_dir == TMP / "data"
            and c.alerts.channels.file is not None
            and c.alerts.channels.file.directory == TMP / "data" / "alerts"
        ),
    ),
    "NEWSWATCH_WEB_PORT": Row("7070", lambda c: c.web.port == 7070),
    "NEWSWATCH_WEB_HOST": Row("0.0.0.0", lambda c: c.web.host == "0.0.0.0"),
    "NEWSWATCH_LOG_LEVEL": Row("debug", lambda c: c.log.level == "debug"),
    "NEWSWATCH_LOG_JSON": Row("true", lambda c: c.log.json),
    "NEWSWATCH_BATCH_SIZE": Row(
        "7", lambda c: c.kafka.batch_size == 7 and c.enrich.config.batch_size == 7
    ),
    "NEWSWATCH_BATCH_WITHIN": Row("0.5", lambda c: c.kafka.batch_within_s == 0.5),
    "NEWSWATCH_ALERT_CHANNELS": Row(
        "file,slack",
        lambda c: (
            not c.alerts.channels.console
            and c.alerts.channels.slack is not None
            and c.alerts.channels.smtp is None
        ),
        {**SLACK, **SMTP},
    ),
    "NEWSWATCH_TEST_CHANNEL": Row(
        "file:staging", lambda c: c.alerts.test_channel == "file:staging"
    ),
    "NEWSWATCH_DELIVERY_RETRY_BASE": Row(
        "2.5", lambda c: c.alerts.delivery.retry.base_delay_s == 2.5
    ),
    "NEWSWATCH_DELIVERY_MAX_RETRY_AFTER": Row(
        "30", lambda c: c.alerts.delivery.retry.max_retry_after_s == 30.0
    ),
    "NEWSWATCH_RULE_LIMIT": Row("5", lambda c: c.alerts.policy.rule_limit.max_alerts == 5),
    "NEWSWATCH_RULE_LIMIT_WINDOW": Row("60", lambda c: c.alerts.policy.rule_limit.window_s == 60.0),
    "NEWSWATCH_TEMPLATE_DIR": Row(
        str(TMP / "templates"), lambda c: c.alerts.template_dir == TMP / "templates"
    ),
    "NEWSWATCH_STORY_WINDOW": Row("600", lambda c: c.alerts.policy.default_window_s == 600.0),
    "NEWSWATCH_MAX_UPDATES_PER_STORY": Row(
        "3", lambda c: c.alerts.policy.max_updates_per_story == 3
    ),
    "NEWSWATCH_NEAR_DUPLICATE": Row("0.9", lambda c: c.alerts.policy.near_duplicate == 0.9),
    "NEWSWATCH_STATE_RETENTION": Row("7200", lambda c: c.alerts.policy.retention_s == 7200.0),
    "NEWSWATCH_MAX_ALERT_AGE": Row("120", lambda c: c.alerts.max_age_s == 120.0),
    # --- enrichment
    "NEWSWATCH_LANGUAGES": Row("de,en", lambda c: c.enrich.config.languages == ["de", "en"]),
    "NEWSWATCH_SPACY_MODELS": Row(
        '{"en": "en_core_web_md"}', lambda c: c.enrich.config.models == {"en": "en_core_web_md"}
    ),
    "NEWSWATCH_MAX_ARTICLE_CHARS": Row("5000", lambda c: c.enrich.config.max_chars == 5000),
    "NEWSWATCH_ENRICH_WORKERS": Row("2", lambda c: c.enrich.workers == 2),
    "NEWSWATCH_MAX_VOCAB_STRINGS": Row("5000", lambda c: c.enrich.config.max_vocab_strings == 5000),
    "NEWSWATCH_HEAP_TRIM_INTERVAL": Row("0", lambda c: c.enrich.heap_trim_s == 0.0),
    "NEWSWATCH_PRELOAD_LANGUAGES": Row("de,auto", lambda c: c.enrich.preload == ("de", "auto")),
    "NEWSWATCH_DETECT_PACK_LANGUAGES": Row(
        "false", lambda c: c.enrich.config.detected_languages() == c.enrich.config.languages
    ),
    # --- watch-list
    "NEWSWATCH_WATCHLIST": Row(str(TMP / "wl.yaml"), lambda c: c.watchlist.path == TMP / "wl.yaml"),
    "NEWSWATCH_WATCHLIST_POLL": Row("7", lambda c: c.watchlist.poll_s == 7.0),
    # --- fetching
    "NEWSWATCH_FETCH_ALLOW": Row("news.example", lambda c: c.fetch.allows_host("news.example")),
    "NEWSWATCH_FETCH_TIMEOUT": Row("3", lambda c: c.fetch.timeout_s == 3.0),
    "NEWSWATCH_FETCH_MAX_BYTES": Row("4096", lambda c: c.fetch.max_bytes == 4096),
    "NEWSWATCH_FEED_MAX_ITEMS": Row("50", lambda c: c.ingest.feed_max_items == 50),
    "NEWSWATCH_FEED_INTERVAL": Row("60", lambda c: c.ingest.feed_interval_s == 60.0),
    "NEWSWATCH_SOURCE_FAIL_AFTER": Row("5", lambda c: c.ingest.source_fail_after == 5),
    "NEWSWATCH_SOURCE_SILENT_FACTOR": Row("4", lambda c: c.ingest.source_silent_factor == 4.0),
    "NEWSWATCH_SOURCE_MIN_SILENT": Row("120", lambda c: c.ingest.source_min_silent_s == 120.0),
    "NEWSWATCH_SOURCE_MAX_TRACKED": Row("7", lambda c: c.ingest.source_max_tracked == 7),
    # --- channels
    "SLACK_BOT_TOKEN": Row(
        "xoxb-secret", lambda c: _slack(c).token.get_secret_value() == "xoxb-secret"
    ),
    "SLACK_API_URL": Row(
        "http://127.0.0.1:9/api/", lambda c: _slack(c).api_url == "http://127.0.0.1:9/api/", SLACK
    ),
    "SLACK_DEFAULT_CHANNEL": Row("#ops", lambda c: _slack(c).default_channel == "#ops", SLACK),
    "NEWSWATCH_SLACK_RATE": Row("4", lambda c: _slack(c).pacing.rate_per_s == 4.0, SLACK),
    "SLACK_SIGNING_SECRET": Row(
        "sign-row",
        lambda c: _secret(c.web.slack_signing_secret) == "sign-row" and _slack(c).buttons,
        SLACK,
    ),
    "NEWSWATCH_SLACK_SNOOZE": Row(
        "3600",
        lambda c: _slack(c).snooze_s == 3600.0 and c.web.slack_snooze_s == 3600.0,
        SLACK,
    ),
    "NEWSWATCH_SLACK_MUTE": Row("60", lambda c: c.web.slack_mute_s == 60.0),
    "NEWSWATCH_PUBLIC_URL": Row(
        "https://nw.example.org",
        lambda c: (
            c.web.email_links is not None
            and c.web.email_links.base_url == "https://nw.example.org"
            and _smtp(c).links == c.web.email_links
        ),
        {**SMTP, **LINK},
    ),
    "NEWSWATCH_LINK_SECRET": Row(
        "link-row-secret-0123456789",
        lambda c: (
            c.web.email_links is not None
            and c.web.email_links.secret.get_secret_value() == "link-row-secret-0123456789"
        ),
        PUBLIC,
    ),
    "NEWSWATCH_LINK_SECRET_PREVIOUS": Row(
        "link-old-secret-0123456789",
        lambda c: (
            c.web.email_links is not None
            and _secret(c.web.email_links.previous_secret) == "link-old-secret-0123456789"
        ),
        {**PUBLIC, **LINK},
    ),
    "NEWSWATCH_LINK_TTL": Row(
        "3600",
        lambda c: c.web.email_links is not None and c.web.email_links.ttl_s == 3600.0,
        {**PUBLIC, **LINK},
    ),
    "SMTP_HOST": Row("smtp.example.org", lambda c: _smtp(c).host == "smtp.example.org"),
    "SMTP_PORT": Row("587", lambda c: _smtp(c).port == 587, SMTP),
    "SMTP_USER": Row("bot", lambda c: _smtp(c).user == "bot", SMTP),
    "SMTP_PASSWORD": Row(
        "pw-1",
        lambda c: _smtp(c).password is not None and _smtp(c).password.get_secret_value() == "pw-1",
        SMTP,
    ),
    "SMTP_STARTTLS": Row("true", lambda c: _smtp(c).starttls, SMTP),
    "SMTP_TLS": Row("true", lambda c: _smtp(c).tls, SMTP),
    "ALERT_EMAIL_FROM": Row("nw@example.org", lambda c: _smtp(c).sender == "nw@example.org", SMTP),
    "ALERT_EMAIL_TO": Row(
        "a@example.org,b@example.org",
        lambda c: _smtp(c).default_to == ["a@example.org", "b@example.org"],
        SMTP,
    ),
    "NEWSWATCH_DIGEST_INTERVAL": Row("60", lambda c: _smtp(c).digest_interval_s == 60.0, SMTP),
    "NEWSWATCH_WEBHOOK_URL": Row(
        "https://hooks.example.org/y",
        lambda c: (
            c.alerts.channels.webhook is not None
            and c.alerts.channels.webhook.url == "https://hooks.example.org/y"
        ),
    ),
    "NEWSWATCH_HTTP_TIMEOUT": Row(
        "4",
        lambda c: (
            c.alerts.channels.webhook is not None and c.alerts.channels.webhook.timeout_s == 4.0
        ),
        HOOK,
    ),
}

#: Variables that name a file holding a secret (read by ``Settings``, not fields of their own).
FILE_ROWS: dict[str, Check] = {
    "SLACK_BOT_TOKEN_FILE": lambda c: _slack(c).token.get_secret_value() == "from-file",
    "SLACK_SIGNING_SECRET_FILE": lambda c: _secret(c.web.slack_signing_secret) == "from-file",
    "NEWSWATCH_LINK_SECRET_FILE": lambda c: (
        c.web.email_links is not None
        and c.web.email_links.secret.get_secret_value() == "from-file-0123456789"
    ),
    "NEWSWATCH_LINK_SECRET_PREVIOUS_FILE": lambda c: (
        c.web.email_links is not None
        and _secret(c.web.email_links.previous_secret) == "from-file-0123456789"
    ),
    "SMTP_PASSWORD_FILE": lambda c: (
        _smtp(c).password is not None and _smtp(c).password.get_secret_value() == "from-file"
    ),
}
#: file contents other than "from-file" (link secrets need at least 16 characters)
FILE_VALUE = {
    "NEWSWATCH_LINK_SECRET_FILE": "from-file-0123456789",
    "NEWSWATCH_LINK_SECRET_PREVIOUS_FILE": "from-file-0123456789",
}
FILE_EXTRA = {
    "SMTP_PASSWORD_FILE": SMTP,
    "SLACK_BOT_TOKEN_FILE": {},
    "SLACK_SIGNING_SECRET_FILE": {},
    "NEWSWATCH_LINK_SECRET_FILE": PUBLIC,
    "NEWSWATCH_LINK_SECRET_PREVIOUS_FILE": {**PUBLIC, **LINK},
}


def _aliases() -> set[str]:
    names = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        assert isinstance(alias, str), "every setting has one environment name"
        names.add(alias)
    return names


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No newswatch variable from the outer environment leaks into a row."""
    for name in _aliases() | set(FILE_ROWS):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_every_environment_variable_has_a_row() -> None:
    """A setting added to ``Settings`` without a row here fails this test."""
    missing, stale = sorted(_aliases() - set(ROWS)), sorted(set(ROWS) - _aliases())
    assert not missing and not stale, f"missing rows: {missing}; stale rows: {stale}"


def test_defaults_do_not_already_satisfy_the_rows(clean_env: pytest.MonkeyPatch) -> None:
    """Each row's check fails with the default value, so a passing row proves an effect."""
    for name, row in ROWS.items():
        for extra, value in row.extra.items():
            clean_env.setenv(extra, value)
        config = worker_config(Settings.load())
        try:
            satisfied = row.check(config)
        except AssertionError:
            satisfied = False
        assert not satisfied, f"{name}: the default already passes its check"
        for extra in row.extra:
            clean_env.delenv(extra)


@pytest.mark.parametrize("name", sorted(ROWS))
def test_environment_variable_reaches_the_worker_config(
    name: str, clean_env: pytest.MonkeyPatch
) -> None:
    """Setting the variable to a non-default value changes the built worker config."""
    row = ROWS[name]
    for extra, value in row.extra.items():
        clean_env.setenv(extra, value)
    clean_env.setenv(name, row.value)
    assert row.check(worker_config(Settings.load())), name


@pytest.mark.parametrize("name", sorted(FILE_ROWS))
def test_secret_file_variable_reaches_the_worker_config(
    name: str, clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``<SECRET>_FILE`` names a file whose content becomes the secret."""
    secret = tmp_path / "secret"
    secret.write_text(FILE_VALUE.get(name, "from-file") + "\n")
    for extra, value in FILE_EXTRA[name].items():
        clean_env.setenv(extra, value)
    clean_env.setenv(name, str(secret))
    assert FILE_ROWS[name](worker_config(Settings.load()))


def test_built_worker_has_only_the_selected_channels_and_prefixed_dead_letters(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """NEWSWATCH_ALERT_CHANNELS selects the built channels; dead letters use the topic prefix."""
    clean_env.setenv("NEWSWATCH_ALERT_CHANNELS", "file,webhook")
    clean_env.setenv("NEWSWATCH_WEBHOOK_URL", "https://hooks.example.org/z")
    clean_env.setenv("SLACK_BOT_TOKEN", "xoxb-not-selected")
    clean_env.setenv("NEWSWATCH_TOPIC_PREFIX", "stg.")
    clean_env.setenv("NEWSWATCH_DATA_DIR", str(tmp_path))
    worker = build_worker(Settings.load(), outbox=MemoryOutbox())
    assert sorted(worker.deliverer.channels) == ["file", "webhook"]
    assert worker.deliverer.source_topic == "stg.alerts"
    assert worker.services.topics.alerts_dlq == "stg.alerts.dlq"
    assert worker.services.decider.max_age_s == 3600.0

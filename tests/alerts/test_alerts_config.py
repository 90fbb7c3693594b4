"""Channel specs, config models, secrets and the channel factory."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from alerts.channels import build_channels, parse_spec
from alerts.channels.base import ChannelSpec, parse_retry_after
from alerts.config import ChannelsConfig, SlackConfig, WebhookConfig
from alerts.errors import ChannelSpecError
from streams.settings import Settings


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("console", ChannelSpec("console")),
        ("slack:#sec-alerts", ChannelSpec("slack", "#sec-alerts")),
        ("Slack:C0123", ChannelSpec("slack", "C0123")),
        ("email: a@x.org , b@y.org", ChannelSpec("email", "a@x.org,b@y.org")),
        ("digest:secops@example.com", ChannelSpec("digest", "secops@example.com")),
        ("file:replayed", ChannelSpec("file", "replayed")),
    ],
)
def test_parse_spec_accepts_the_documented_syntax(spec: str, expected: ChannelSpec) -> None:
    """Each documented form parses to kind and target."""
    assert parse_spec(spec) == expected


@pytest.mark.parametrize(
    "spec", ["pager:ops", "slack:", "email:not-an-address", "file:../etc/passwd", "slack:#a<b>"]
)
def test_parse_spec_rejects_bad_specs_with_a_clear_error(spec: str) -> None:
    """Unknown kinds, empty targets, bad addresses and path tricks are refused by name."""
    with pytest.raises(ChannelSpecError) as err:
        parse_spec(spec)
    assert repr(spec) in str(err.value)


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    """Delta-seconds and HTTP dates both give a wait in seconds; junk gives None."""
    from datetime import UTC, datetime

    now = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Mon, 01 Jan 2024 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_secrets_are_masked_in_config_reprs() -> None:
    """SecretStr keeps tokens out of repr/str of the config models."""
    slack = SlackConfig(token="xoxb-very-secret")  # type: ignore[arg-type]
    hook = WebhookConfig(url="https://h.example/", headers={"Authorization": "Bearer t0ken"})  # type: ignore[dict-item]
    assert "xoxb-very-secret" not in repr(slack) + str(slack)
    assert "t0ken" not in repr(hook)
    with pytest.raises(ValidationError):
        WebhookConfig(url="file:///etc/passwd")


def test_channels_from_settings_and_factory(tmp_path: Path) -> None:
    """Settings with a Slack token and SMTP host give slack, email and digest channels."""
    settings = Settings.load(
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_API_URL="http://127.0.0.1:9/api/",
        SMTP_HOST="127.0.0.1",
        SMTP_PASSWORD="pw",
        ALERT_EMAIL_TO="a@example.com",
        NEWSWATCH_DATA_DIR=str(tmp_path),
    )
    config = ChannelsConfig.from_settings(settings)
    assert config.slack is not None and config.slack.api_url == "http://127.0.0.1:9/api/"
    assert config.smtp is not None and config.smtp.default_to == ["a@example.com"]
    assert config.file is not None and config.file.directory == tmp_path / "alerts"
    channels = build_channels(config)
    assert sorted(channels) == ["console", "digest", "email", "file", "slack"]
    assert channels["slack"].secrets() == ["xoxb-1"] and channels["digest"].secrets() == ["pw"]
    bare = build_channels(ChannelsConfig.from_settings(Settings.load()))
    assert sorted(bare) == ["console", "file"]

"""Settings of the email feedback links: off unless URL and secret are set, bad values refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.errors import ConfigError
from streams.pipeline.config import worker_config
from streams.settings import Settings

VARS = (
    "NEWSWATCH_PUBLIC_URL",
    "NEWSWATCH_LINK_SECRET",
    "NEWSWATCH_LINK_SECRET_FILE",
    "NEWSWATCH_LINK_SECRET_PREVIOUS",
    "SLACK_SIGNING_SECRET",
    "SLACK_SIGNING_SECRET_FILE",
    "SLACK_BOT_TOKEN",
)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No link or Slack variable from the outer environment."""
    for name in VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_links_need_both_the_public_url_and_the_secret(env: pytest.MonkeyPatch) -> None:
    """Only the URL or only the secret leaves the links off; both turn them on."""
    env.setenv("NEWSWATCH_PUBLIC_URL", "https://nw.example.org")
    assert worker_config(Settings.load()).web.email_links is None
    env.delenv("NEWSWATCH_PUBLIC_URL")
    env.setenv("NEWSWATCH_LINK_SECRET", "s" * 32)
    assert worker_config(Settings.load()).web.email_links is None
    env.setenv("NEWSWATCH_PUBLIC_URL", "https://nw.example.org")
    links = worker_config(Settings.load()).web.email_links
    assert links is not None and links.ttl_s == 7 * 86400


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("NEWSWATCH_PUBLIC_URL", "ftp://nw.example.org", r"http\(s\) URL"),
        ("NEWSWATCH_PUBLIC_URL", "nw.example.org", r"http\(s\) URL"),
        ("NEWSWATCH_LINK_SECRET", "short", "at least 16"),
        ("NEWSWATCH_LINK_TTL", "0", "greater than 0"),
    ],
)
def test_bad_link_settings_fail_with_one_line(
    env: pytest.MonkeyPatch, name: str, value: str, problem: str
) -> None:
    """A non-http URL, a short secret or a zero lifetime is a ConfigError naming the fix."""
    env.setenv(name, value)
    with pytest.raises(ConfigError, match=problem):
        Settings.load()


def test_secrets_never_appear_in_the_public_dump(env: pytest.MonkeyPatch) -> None:
    """Both link secrets are masked in ``public_dump`` and in the settings' repr."""
    env.setenv("NEWSWATCH_LINK_SECRET", "current-secret-0123456789")
    env.setenv("NEWSWATCH_LINK_SECRET_PREVIOUS", "previous-secret-0123456789")
    settings = Settings.load()
    shown = str(settings.public_dump()) + repr(settings)
    assert "current-secret" not in shown and "previous-secret" not in shown


def test_an_empty_secret_file_means_unset(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A blank optional secret (a Kubernetes placeholder) turns nothing on, no Slack buttons."""
    blank = tmp_path / "blank"
    blank.write_text("\n")
    env.setenv("NEWSWATCH_PUBLIC_URL", "https://nw.example.org")
    env.setenv("NEWSWATCH_LINK_SECRET_FILE", str(blank))
    env.setenv("SLACK_SIGNING_SECRET_FILE", str(blank))
    env.setenv("SLACK_BOT_TOKEN", "xoxb-x")
    config = worker_config(Settings.load())
    assert config.web.email_links is None and config.web.slack_signing_secret is None
    assert config.alerts.channels.slack is not None and not config.alerts.channels.slack.buttons


def test_built_worker_serves_the_endpoint_and_signs_emails_only_when_on(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With URL + secret the worker has the handler and the email channel a signer."""
    from alerts.channels.email import EmailChannel
    from streams.pipeline.root import build_worker
    from streams.testing import MemoryOutbox

    env.setenv("NEWSWATCH_DATA_DIR", str(tmp_path))
    env.setenv("NEWSWATCH_ALERT_CHANNELS", "email")
    env.setenv("SMTP_HOST", "127.0.0.1")
    off = build_worker(Settings.load(), outbox=MemoryOutbox())
    email = off.deliverer.channels["email"]
    assert off.email_feedback is None and isinstance(email, EmailChannel)
    assert email.signer is None
    env.setenv("NEWSWATCH_PUBLIC_URL", "https://nw.example.org")
    env.setenv("NEWSWATCH_LINK_SECRET", "w" * 32)
    on = build_worker(Settings.load(), outbox=MemoryOutbox())
    email = on.deliverer.channels["email"]
    assert on.email_feedback is not None and isinstance(email, EmailChannel)
    assert email.signer is not None and email.signer.base_url == "https://nw.example.org"
    assert "w" * 32 in email.secrets()

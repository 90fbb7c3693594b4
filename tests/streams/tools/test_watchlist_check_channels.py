"""`newswatch watchlist check` warns about channels the current environment cannot reach."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from streams.tools.watchlist_cmd import run_check

EXAMPLE = (
    Path(__file__).resolve().parents[3] / "streams" / "watchlist" / "examples" / "watchlist.yaml"
)
CHANNEL_VARS = ("SLACK_BOT_TOKEN", "SLACK_BOT_TOKEN_FILE", "SMTP_HOST", "NEWSWATCH_ALERT_CHANNELS")


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """An environment with no channel configured beyond console and file."""
    for name in CHANNEL_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_check_names_unreachable_channels_and_their_settings(bare_env: pytest.MonkeyPatch) -> None:
    """Without Slack and SMTP settings the example's Slack and email channels are listed."""
    out = io.StringIO()
    assert run_check(EXAMPLE, out=out) == 0
    text = out.getvalue()
    assert "channels this environment cannot reach" in text
    assert "alibaba-espionage: slack:#sec-alerts (needs SLACK_BOT_TOKEN)" in text
    assert "email:secops@example.com (needs SMTP_HOST)" in text


def test_check_is_quiet_when_every_channel_is_configured(bare_env: pytest.MonkeyPatch) -> None:
    """With a Slack token and an SMTP host nothing is unreachable; --json says so too."""
    bare_env.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    bare_env.setenv("SMTP_HOST", "mail.example.org")
    out = io.StringIO()
    assert run_check(EXAMPLE, out=out) == 0
    assert "cannot reach" not in out.getvalue()
    out = io.StringIO()
    assert run_check(EXAMPLE, as_json=True, out=out) == 0
    assert json.loads(out.getvalue())["unreachable_channels"] == []

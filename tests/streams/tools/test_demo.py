"""`newswatch demo` as a user runs it: embedded broker, worker, samples, alerts, exit 0."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from streams.testing import SlackThread

pytestmark = [pytest.mark.broker, pytest.mark.servers]

SEED_TITLE = "Belgien überwacht Chinas Alibaba wegen Spionagebedenken"


def test_demo_prints_the_seed_alert_and_posts_one_block_kit_message(tmp_path: Path) -> None:
    """The demo alerts on the German Alibaba article only, on the console and in Slack."""
    with SlackThread() as slack:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "NEWSWATCH_DATA_DIR": str(tmp_path / "data"),
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_API_URL": slack.url,
        }
        result = subprocess.run(
            [sys.executable, "-m", "streams.cli", "demo", "--timeout", "150"],
            env=env,
            capture_output=True,
            text=True,
            timeout=200,
        )
        messages = slack.messages()
    assert result.returncode == 0, result.stderr[-3000:]
    assert "alibaba-espionage" in result.stdout and SEED_TITLE in result.stdout
    for negative in ("Quartal", "cloud prices", "livraison"):
        assert negative.lower() not in result.stdout.lower()
    assert "1 alert(s)" in result.stderr and "Traceback" not in result.stderr
    # The example rule also names email, which the demo has no SMTP for: said, and dead-lettered.
    assert "channels not configured here" in result.stderr and "SMTP_HOST" in result.stderr
    assert "1 in alerts.dlq" in result.stderr
    (message,) = messages
    assert message["channel"] == "#sec-alerts"
    blocks = message["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    assert 0 < len(blocks) <= 50
    assert blocks[0]["type"] == "header" and len(blocks[0]["text"]["text"]) <= 150
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)
    assert any("Spionage" in b.get("text", {}).get("text", "") for b in blocks)
    lines = (tmp_path / "data" / "alerts" / "alerts.jsonl").read_text().splitlines()
    assert [json.loads(line)["alert"]["article"]["title"] for line in lines] == [SEED_TITLE]

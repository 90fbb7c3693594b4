"""A Slack channel answering 429 for 30 s delays only Slack: other channels' alerts flow on.

Decide and deliver are separate agents, and delivery runs in lanes (Slack / email / the
rest), so a Slack rate-limit pause holds only the Slack lane. Real broker, worker
subprocess, fake Slack over real HTTP, real clock.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fault_support import CODEWORDS

from streams.settings import Settings
from streams.testing import SlackThread, WorkerProcess, produce_values, read_topic, wait_until

pytestmark = [pytest.mark.faults, pytest.mark.broker]

WINDOW_S = 15.0  # how long Slack answers every chat.postMessage with 429
PER_RULE = 3


def _articles(rule: int, tag: str) -> list[tuple[bytes, bytes]]:
    records = []
    for i in range(PER_RULE):
        article = {
            "id": f"{tag}-{i}",
            "title": f"{tag} story {i}",
            "text": f"Report {tag} {i} mentions {CODEWORDS[rule]} among other words {i * 7}.",
            "url": f"https://news.example/{tag}/{i}",
            "source": f"outlet-{tag}-{i}",
        }
        records.append((article["id"].encode(), json.dumps(article).encode()))
    return records


def _file_alerts(settings: Settings) -> list[str]:
    path = Path(settings.data_dir) / "alerts" / "fast.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["alert"]["article"]["id"] for line in path.read_text().splitlines()]


def test_slack_rate_limit_does_not_delay_other_channels(
    fault_settings: Callable[..., Settings],
    slack_server: Callable[..., SlackThread],
    spawn_worker: Callable[..., WorkerProcess],
) -> None:
    """While Slack answers 429, file alerts arrive; Slack's alerts arrive after the window."""
    slack = slack_server(rates={"ratelimited": 1.0}, retry_after=5)
    rules = {"r0": (CODEWORDS[0], "slack:#sec"), "r1": (CODEWORDS[1], "file:fast")}
    settings = fault_settings(rules, slack=slack)
    worker = spawn_worker(settings)
    topic = settings.topic("articles.raw")

    produce_values(settings.bootstrap_servers, topic, _articles(0, "slow"))
    assert wait_until(lambda: slack.outcomes().get("fault:ratelimited", 0) > 0, timeout=60), (
        worker.log_tail()
    )
    limited_since = time.monotonic()
    produce_values(settings.bootstrap_servers, topic, _articles(1, "fast"))
    arrived = wait_until(lambda: len(_file_alerts(settings)) == PER_RULE, timeout=WINDOW_S - 5)
    fast_after = time.monotonic() - limited_since
    slack_during = len(slack.messages())
    print(
        f"\nfile alerts after {fast_after:.1f}s of Slack 429s; Slack got {slack_during} meanwhile"
    )
    assert arrived, f"file alerts {_file_alerts(settings)}\n{worker.log_tail()}"
    assert slack_during == 0  # Slack was still rate limited when the other channel got its alerts

    time.sleep(max(0.0, WINDOW_S - (time.monotonic() - limited_since)))
    slack.slack.rates = {}  # type: ignore[attr-defined]  # the window is over
    assert wait_until(lambda: len(slack.messages()) == PER_RULE, timeout=60), worker.log_tail()
    titles = [m.get("text", "") for m in slack.messages()]
    assert all("slow story" in str(t) for t in titles)
    assert sorted(_file_alerts(settings)) == [f"fast-{i}" for i in range(PER_RULE)]
    dead = read_topic(settings.bootstrap_servers, settings.topic("alerts.dlq"), expect=1, timeout=2)
    assert dead == []
    assert worker.alive()

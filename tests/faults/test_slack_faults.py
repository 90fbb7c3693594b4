"""Slack misbehaving under load: 30 % 429 with Retry-After and 10 % 500 while 200 alerts flow."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fault_support import Tally, generate_stream, rules_for, story_of

from streams.settings import Settings
from streams.testing import SlackThread, WorkerProcess, produce_values, read_topic, wait_until

pytestmark = [pytest.mark.faults, pytest.mark.broker, pytest.mark.servers]

RULES = 10
ALERTS = 200


def test_all_alerts_delivered_once_in_order_despite_429_and_500(
    fault_settings: Callable[..., Settings],
    spawn_worker: Callable[..., WorkerProcess],
    slack_server: Callable[..., SlackThread],
) -> None:
    """Every alert arrives exactly once and each channel sees its rule's alerts in order."""
    slack = slack_server(rates={"ratelimited": 0.3, "server_error": 0.1}, retry_after=1.0, seed=11)
    settings = fault_settings(
        rules_for(RULES), slack=slack, rule_limit=ALERTS, delivery_retry_base_s=0.05
    )
    worker = spawn_worker(settings)
    stream = generate_stream(ALERTS, every=1, rules=RULES)
    produce_values(settings.bootstrap_servers, settings.topic("articles.raw"), stream.records)

    delivered = wait_until(
        lambda: Tally.of(slack.messages(), stream.expected).delivered == ALERTS,
        timeout=240,
        interval=1.0,
    )
    tally = Tally.of(slack.messages(), stream.expected)
    assert delivered, f"{len(tally.missing)} missing: {tally.missing[:10]}\n{worker.log_tail()}"
    assert tally.duplicated == {} and tally.unexpected == []
    outcomes = slack.outcomes()
    assert outcomes.get("fault:ratelimited", 0) > 30 and outcomes.get("fault:server_error", 0) > 5

    matches = read_topic(
        settings.bootstrap_servers, settings.topic("articles.matches"), expect=ALERTS, timeout=30
    )
    decided: dict[str, list[str]] = {}
    for record in sorted(matches, key=lambda r: (r["partition"], r["offset"])):
        event = record["value"]
        story = re.search(r"story-\d{5}", event["article"]["title"]).group(0)  # type: ignore[union-attr]
        decided.setdefault(event["matches"][0]["rule_id"], []).append(story)
    by_channel: dict[str, list[str]] = {}
    for message in slack.messages():
        by_channel.setdefault(str(message["channel"]), []).append(str(story_of(message)))
    for i in range(RULES):
        assert by_channel[f"#sec-{i}"] == decided[f"r{i}"]
    letters = read_topic(
        settings.bootstrap_servers, settings.topic("alerts.dlq"), expect=1, timeout=2
    )
    assert letters == []
    assert worker.alive()

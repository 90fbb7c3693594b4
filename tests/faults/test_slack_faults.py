"""Slack faults while 200 alerts flow: 30 % 429 (with Retry-After), 10 % 500.

Every alert must reach the fake Slack server exactly once, none may be dead-lettered, and
each channel must get its alerts in the order they have in their ``alerts`` partition (the
decide agent publishes alerts keyed by alert id, so a story's new alert and its updates
share a partition; the Slack deliver lane keeps each partition's order).

Retry-After is ``0`` on the random 429s: the real Slack asks for whole seconds and the
deliverer pauses the whole Slack channel for that long, so 60 one-second pauses would make
the test a minute slower without testing more (tests/alerts checks that a Retry-After of
several seconds is waited out). For the same reason the workers pace Slack at 20 messages
a second per channel (``NEWSWATCH_SLACK_RATE``; Slack's own limit is about 1) and retry
5xx answers after 50 ms (``NEWSWATCH_DELIVERY_RETRY_BASE``). The generated articles are
English and the worker detects only ``en`` (``NEWSWATCH_LANGUAGES``): building the language
detector for the ten default languages took 6 s of the worker's start under load and made
its start-up (20 s) most of the test's time, without testing anything about Slack.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fault_support import ArticleStream, Tally, rules_for, story_of

from streams.settings import Settings
from streams.testing import SlackThread, WorkerProcess, produce_values, read_topic, wait_until

pytestmark = [pytest.mark.faults, pytest.mark.broker]

RULES = 10
ALERTS = 200  # 20 per rule: exactly the per-rule limit of new alerts per hour


def test_rate_limits_and_server_errors_lose_duplicate_and_reorder_nothing(
    fault_settings: Callable[..., Settings],
    slack_server: Callable[..., SlackThread],
    spawn_worker: Callable[..., WorkerProcess],
    make_stream: Callable[..., ArticleStream],
) -> None:
    """With 30 % 429 and 10 % 500 answers, all 200 alerts arrive once, in order per channel."""
    slack = slack_server(rates={"ratelimited": 0.3, "server_error": 0.1}, seed=11, retry_after=0)
    settings = fault_settings(
        rules_for(RULES), slack=slack, slack_rate_per_s=20.0, languages=["en"]
    )
    stream = make_stream(ALERTS, every=1, rules=RULES)
    worker = spawn_worker(settings, name="worker")

    produce_values(settings.bootstrap_servers, settings.topic("articles.raw"), stream.records)
    arrived = wait_until(
        lambda: Tally.of(slack.messages(), stream.expected).delivered == ALERTS,
        timeout=150,
        interval=0.5,
    )
    tally = Tally.of(slack.messages(), stream.expected)
    assert arrived, f"missing {tally.missing[:20]}\n{worker.log_tail()}"

    dead = read_topic(settings.bootstrap_servers, settings.topic("alerts.dlq"), expect=1, timeout=2)
    outcomes = slack.outcomes()
    print(
        f"\nslack faults: expected={ALERTS} delivered={tally.delivered} duplicated="
        f"{sum(n - 1 for n in tally.duplicated.values())} dead_lettered={len(dead)} "
        f"calls={outcomes}"
    )
    assert tally.duplicated == {} and tally.unexpected == []
    assert dead == []
    assert outcomes.get("fault:ratelimited", 0) > 0 and outcomes.get("fault:server_error", 0) > 0
    produced = _match_order(settings)
    assert sorted(produced) == sorted(stream.by_rule())
    for (rule, _partition), stories in _alert_order(settings).items():
        channel = f"#sec-{rule[1:]}"
        mine = set(stories)
        seen = [story_of(m) for m in slack.messages() if m.get("channel") == channel]
        in_partition = [story for story in seen if story in mine]
        assert in_partition == stories, f"{channel}: Slack order {in_partition} != {stories}"
    assert worker.alive()


def _match_order(settings: Settings) -> dict[str, list[str | None]]:
    """Per rule, the stories of its match events in the order of its articles.matches partition."""
    records = read_topic(
        settings.bootstrap_servers, settings.topic("articles.matches"), expect=ALERTS, timeout=30
    )
    order: dict[str, list[str | None]] = {}
    for record in sorted(records, key=lambda r: (r["partition"], r["offset"])):
        rule = record["value"]["matches"][0]["rule_id"]
        order.setdefault(rule, []).append(story_of({"text": record["value"]["article"]["title"]}))
    return order


def _alert_order(settings: Settings) -> dict[tuple[str, int], list[str | None]]:
    """Per (rule, alerts partition), the stories of its alerts in partition order."""
    records = read_topic(
        settings.bootstrap_servers, settings.topic("alerts"), expect=ALERTS, timeout=30
    )
    order: dict[tuple[str, int], list[str | None]] = {}
    for record in sorted(records, key=lambda r: (r["partition"], r["offset"])):
        value = record["value"]
        key = (value["rule_id"], record["partition"])
        order.setdefault(key, []).append(story_of({"text": value["article"]["title"]}))
    return order

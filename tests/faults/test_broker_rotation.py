"""A worker on a rotating embedded broker: topics stay bounded, every alert arrives once.

The broker rotates each topic past 24 records once the worker's group has committed all of
it (``streams/kafka/janitor.py``). 160 articles arrive in four rounds; between rounds
``articles.raw`` is rotated, and after the second round the worker is replaced by a new one
(the rotation dropped the group's committed offsets: the new worker must start at the
old end, neither replaying nor skipping). Slack is the fake Slack Web API over HTTP.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
from fault_support import Tally, generate_stream, rules_for

from streams.kafka.broker import EmbeddedBroker, free_port
from streams.kafka.janitor import RotationPolicy
from streams.kafka.rotation import high_watermarks
from streams.kafka.topics import ensure_topics
from streams.settings import Settings
from streams.testing import (
    SlackThread,
    WorkerProcess,
    produce_values,
    term_watchlist,
    wait_until,
    write_text_atomic,
)

pytestmark = [pytest.mark.faults, pytest.mark.broker]

TOKEN = "xoxb-faults"  # the fake Slack's token (tests/faults/conftest.py)
BOUND = 24
ROUNDS = 4
PER_ROUND = 40
RULES = 10  # one Slack channel per rule: Slack paces about one message per second per channel


def test_rotation_bounds_topics_and_every_alert_arrives_exactly_once(
    make_settings: Callable[..., Settings],
    slack_server: Callable[..., SlackThread],
    spawn_worker: Callable[..., WorkerProcess],
    tmp_path: Path,
) -> None:
    """160 articles in 4 rounds with rotations and a worker swap: 80 alerts, none twice."""
    slack = slack_server()
    watchlist = tmp_path / "watchlist.yaml"
    write_text_atomic(watchlist, term_watchlist(rules_for(RULES)))
    port = free_port()
    settings = make_settings(
        kafka_bootstrap_servers=f"127.0.0.1:{port}",
        watchlist=watchlist,
        watchlist_poll_s=0.5,
        alert_channels=["file", "slack"],
        slack_bot_token=TOKEN,
        slack_api_url=slack.url,
        log_level="info",
        delivery_retry_base_s=0.05,
        rule_limit=10_000,
        broker_rotate_records=BOUND,
        languages=["en"],  # English stream, no language detector (as fault_settings)
        detect_pack_languages=False,
    )
    policy = RotationPolicy.from_settings(settings)
    assert policy is not None
    policy = dataclasses.replace(policy, interval_s=1.0)
    stream = generate_stream(ROUNDS * PER_ROUND, every=2, rules=RULES)
    raw = settings.topics.raw
    with EmbeddedBroker(port=port, rotation=policy, log_path=tmp_path / "tansu.log") as broker:
        janitor = broker.janitor
        assert janitor is not None
        asyncio.run(ensure_topics(settings))
        worker = spawn_worker(settings, name="first")
        for round_ in range(ROUNDS):
            if round_ == 2:
                worker.stop(timeout=10)
                worker = spawn_worker(settings, name="second")
            chunk = stream.records[round_ * PER_ROUND : (round_ + 1) * PER_ROUND]
            produce_values(broker.bootstrap_servers, raw, chunk)
            want = (round_ + 1) * PER_ROUND // 2
            assert wait_until(lambda want=want: len(slack.messages()) >= want, timeout=120), (
                worker.log_tail()
            )
            assert wait_until(
                lambda done=round_: [t for t, _ in janitor.rotations].count(raw) > done, timeout=60
            ), (janitor.rotations, worker.log_tail())
        tally = Tally.of(slack.messages(), stream.expected)
        assert tally.missing == [] and tally.duplicated == {}, tally
        assert tally.unexpected == []
        rotated = {t for t, _ in janitor.rotations}
        assert {raw, settings.topics.enriched, settings.topics.matches} <= rotated
        for topic in (raw, settings.topics.enriched, settings.topics.matches):
            highs = asyncio.run(high_watermarks(broker.bootstrap_servers, topic, 2))
            assert janitor.stored(topic, highs) <= BOUND + PER_ROUND
        assert sum(asyncio.run(high_watermarks(broker.bootstrap_servers, raw, 2)).values()) == 160
        worker.stop(timeout=10)  # while its broker runs: a clean leave, not a 10 s wait

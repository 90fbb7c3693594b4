"""SIGKILL of a worker at a random moment while alerts are in flight: none lost, none twice.

Two ``newswatch worker`` processes share one consumer group (4 partitions). Articles flow;
every 20th matches one of 10 rules, each rule posting to its own Slack channel (Slack
allows about one message per second per channel, so one channel per rule keeps the test
short). One worker, chosen at random, is SIGKILLed at a random moment while alerts are
being delivered — no window is arranged around the kill — and restarted up to 3 s later;
the survivor takes over its partitions in between, replaying what was not committed.

What makes this exact: the alert state (policy decisions, what was sent) lives in
changelog-backed tables and the decision is flushed before anything is posted, so a
replayed event is recognised; and a message Slack accepted just before the kill, whose
"sent" record was lost with the worker, is found in the channel history by its message
metadata (alert id, delivery key) before posting again — the restarted worker and the one
that takes over partitions check every alert decided before they got their partitions.

The seed of the random choices comes from ``NW_FAULTS_SEED`` (else the clock) and is
printed. ``test_random_sigkill_duplicate_rate`` measures many kills, with history
reconciliation on and off (no history scope: at-least-once); run it with
``NW_FAULTS_KILL_ROUNDS=N pytest tests/faults -k duplicate_rate -s``.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable

import pytest
from fault_support import ArticleStream, Tally, rules_for, story_of, where_lost

from streams.settings import Settings
from streams.testing import (
    FlakySlack,
    SlackThread,
    WorkerProcess,
    group_lag,
    metric_value,
    produce_values,
    read_topic,
    scrape_metrics,
    wait_until,
)

pytestmark = [pytest.mark.faults, pytest.mark.broker]

RULES = 10
KILL_ROUNDS = int(os.environ.get("NW_FAULTS_KILL_ROUNDS") or 0)
ARTICLES = 2_000
EVERY = 20  # 100 matching articles, 10 per rule (the per-rule limit is 20 an hour)


def _seed() -> int:
    """The seed of this run's random choices (``NW_FAULTS_SEED`` or the clock), printed."""
    seed = int(os.environ.get("NW_FAULTS_SEED") or time.time_ns() % 1_000_000_007)
    print(f"\nNW_FAULTS_SEED={seed}")
    return seed


def _drained(settings: Settings) -> bool:
    """True when the group committed every record of articles.raw and articles.matches."""
    return all(
        group_lag(settings.bootstrap_servers, settings.app_id, settings.topic(topic)) == 0
        for topic in ("articles.raw", "articles.matches")
    )


def _delivered(slack: SlackThread, expected: dict[str, str]) -> int:
    return Tally.of(slack.messages(), expected).delivered


def _finish(
    settings: Settings, slack: SlackThread, stream: ArticleStream, workers: list[WorkerProcess]
) -> Tally:
    """Wait until every expected alert arrived and the group is drained; tally Slack."""
    arrived = wait_until(
        lambda: _delivered(slack, stream.expected) == len(stream.expected),
        timeout=120,
        interval=0.5,
    )
    if not arrived:
        missing = Tally.of(slack.messages(), stream.expected).missing
        trace = where_lost(settings.bootstrap_servers, settings.topic, missing)
        for worker in workers:  # what each live worker is doing now, into its log
            worker.dump_stacks()
        time.sleep(1.0)
        logs = "\n".join(w.log_tail(80) for w in workers)
        raise AssertionError(f"{len(missing)} alerts missing: {trace}\n{logs}")
    drained = wait_until(lambda: _drained(settings), timeout=60, interval=0.5)
    assert drained, "\n".join(w.log_tail(15) for w in workers)
    time.sleep(1.0)  # a late duplicate (a replay after the drain) would show up here
    return Tally.of(slack.messages(), stream.expected)


def _kill_at_random(
    rng: random.Random,
    slack: SlackThread,
    chunk: ArticleStream,
    workers: list[WorkerProcess],
) -> tuple[int, int]:
    """SIGKILL a random worker at a random moment of the chunk's deliveries.

    Returns (index of the killed worker, alerts of ``chunk`` not yet in Slack at the kill).
    """
    target = rng.randint(1, max(1, len(chunk.expected) * 2 // 3))
    reached = wait_until(lambda: _delivered(slack, chunk.expected) >= target, 90, 0.02)
    assert reached, "\n".join(w.log_tail(15) for w in workers)
    time.sleep(rng.uniform(0.0, 0.3))
    index = rng.randrange(len(workers))
    workers[index].kill()
    return index, len(chunk.expected) - _delivered(slack, chunk.expected)


def test_sigkill_at_a_random_moment_loses_and_repeats_no_alert(
    fault_settings: Callable[..., Settings],
    slack_server: Callable[..., SlackThread],
    spawn_worker: Callable[..., WorkerProcess],
    make_stream: Callable[..., ArticleStream],
) -> None:
    """A worker SIGKILLed at a random moment and restarted: all 100 alerts arrive exactly once."""
    rng = random.Random(_seed())
    slack = slack_server()
    settings = fault_settings(rules_for(RULES), slack=slack)
    first = make_stream(ARTICLES // 2, every=EVERY, rules=RULES)
    second = make_stream(ARTICLES // 2, every=EVERY, rules=RULES, start=ARTICLES // 2)
    stream = ArticleStream(first.records + second.records, first.expected | second.expected)
    workers = [spawn_worker(settings, name="w1", wait=False), spawn_worker(settings, name="w2")]
    workers[0].wait_ready(120)

    produce_values(settings.bootstrap_servers, settings.topic("articles.raw"), first.records)
    killed, in_flight = _kill_at_random(rng, slack, first, workers)
    time.sleep(rng.uniform(0.0, 3.0))
    workers[killed] = spawn_worker(settings, name="restarted", wait=False)
    produce_values(settings.bootstrap_servers, settings.topic("articles.raw"), second.records)
    workers[killed].wait_ready(120)

    tally = _finish(settings, slack, stream, workers)
    alerts = read_topic(
        settings.bootstrap_servers, settings.topic("alerts"), expect=10**6, timeout=3
    )
    replayed = len(alerts) - len({a["value"]["alert_id"] for a in alerts})
    print(
        f"sigkill: expected={tally.expected} delivered={tally.delivered} "
        f"duplicated={sum(n - 1 for n in tally.duplicated.values())} in_flight_at_kill="
        f"{in_flight} replayed_alert_events={replayed} slack_calls={slack.outcomes()} "
        f"history_reads={len(slack.slack.calls('conversations.history'))}"
    )
    assert tally.missing == [] and tally.unexpected == []
    assert tally.duplicated == {}
    assert in_flight > 0  # the kill really happened while alerts were being delivered
    assert all(w.alive() for w in workers)


def test_sigkill_after_slack_accepted_before_the_worker_heard_back_posts_once(
    fault_settings: Callable[..., Settings],
    slack_server: Callable[..., SlackThread],
    spawn_worker: Callable[..., WorkerProcess],
    make_stream: Callable[..., ArticleStream],
) -> None:
    """Killed inside the one unrecordable window: the restart finds the message, posts none twice.

    The fake Slack kills the worker after accepting its 3rd message and before answering,
    so the worker never learns the ``ts``. Without history reconciliation this is the
    duplicate every at-least-once tool accepts; here the restarted worker finds the
    message by its metadata and records it (outcome ``reconciled``, logged).
    """
    slack = slack_server()
    settings = fault_settings(rules_for(RULES), slack=slack)
    stream = make_stream(200, every=EVERY, rules=RULES)  # 10 alerts, one per channel
    worker = spawn_worker(settings, name="victim")
    killed: list[dict[str, object]] = []

    def kill_on_third(message: dict[str, object]) -> None:
        if len(killed) == 0 and len(slack.slack.messages) == 3:
            killed.append(message)
            worker.kill()

    assert isinstance(slack.slack, FlakySlack)
    slack.slack.on_accept = kill_on_third
    produce_values(settings.bootstrap_servers, settings.topic("articles.raw"), stream.records)
    assert wait_until(lambda: bool(killed), timeout=90), worker.log_tail()
    restarted = spawn_worker(settings, name="restarted")

    tally = _finish(settings, slack, stream, [restarted])
    assert tally.missing == [] and tally.duplicated == {} and tally.unexpected == []
    log = restarted.log_tail(400)
    assert f"already in slack:{killed[0]['channel']}" in log, log
    assert len(slack.slack.calls("conversations.history")) >= 1
    samples = scrape_metrics(restarted.web_port)
    assert metric_value(samples, "newswatch_alerts_total", outcome="reconciled") == 1


@pytest.mark.skipif(
    not KILL_ROUNDS, reason="measurement: set NW_FAULTS_KILL_ROUNDS=N to run N random kills"
)
@pytest.mark.timeout(180 + 90 * KILL_ROUNDS)
@pytest.mark.parametrize("reconcile", ["on", "off"])
def test_random_sigkill_duplicate_rate(
    fault_settings: Callable[..., Settings],
    slack_server: Callable[..., SlackThread],
    spawn_worker: Callable[..., WorkerProcess],
    make_stream: Callable[..., ArticleStream],
    reconcile: str,
) -> None:
    """N kills at random moments with alerts in flight: lost and duplicated per round.

    ``off``: the fake Slack refuses history reads (``missing_scope``), so the workers fall
    back to at-least-once. Nothing may be lost either way; with reconciliation on, nothing
    may be posted twice.
    """
    rounds = KILL_ROUNDS
    rng = random.Random(_seed())
    slack = slack_server()
    if reconcile == "off":
        slack.slack.history_error = "missing_scope"
    settings = fault_settings(rules_for(RULES), slack=slack, rule_limit=10_000)
    workers = [spawn_worker(settings, name=f"w{i}", wait=False) for i in range(2)]
    for worker in workers:
        worker.wait_ready(120)
    stream = ArticleStream()
    chunks: list[ArticleStream] = []
    in_flight: list[int] = []
    per_round = 400
    for n in range(rounds):
        chunk = make_stream(per_round, every=EVERY // 2, rules=RULES, start=n * per_round)
        chunks.append(chunk)
        stream = ArticleStream(stream.records + chunk.records, stream.expected | chunk.expected)
        produce_values(settings.bootstrap_servers, settings.topic("articles.raw"), chunk.records)
        index, flying = _kill_at_random(rng, slack, chunk, workers)
        in_flight.append(flying)
        time.sleep(rng.uniform(0.0, 3.0))
        workers[index] = spawn_worker(settings, name=f"w{index}-r{n}", wait=False)
        workers[index].wait_ready(120)
        wait_until(lambda c=chunk: _delivered(slack, c.expected) == len(c.expected), 90, 0.5)  # type: ignore[misc]
        now = Tally.of(slack.messages(), chunk.expected)
        print(
            f"round {n}: killed w{index} with {flying} of {len(chunk.expected)} alerts in "
            f"flight; then delivered={now.delivered} duplicated={sum(now.duplicated.values())}",
            flush=True,
        )
    tally = _finish(settings, slack, stream, workers)
    seen: dict[str, int] = {}
    for message in slack.messages():
        story = story_of(message)
        if story is not None:
            seen[story] = seen.get(story, 0) + 1
    print(f"random kills, reconciliation {reconcile}: round in_flight lost duplicated")
    for n, chunk in enumerate(chunks):
        lost = sum(1 for s in chunk.expected if not seen.get(s))
        dup = sum(seen.get(s, 0) - 1 for s in chunk.expected if seen.get(s, 0) > 1)
        print(f"  {n:3d} {in_flight[n]:4d} {lost:4d} {dup:4d}")
    duplicates = sum(n - 1 for n in tally.duplicated.values())
    print(
        f"TOTAL reconciliation={reconcile} kills={rounds} "
        f"kills_with_alerts_in_flight={sum(1 for f in in_flight if f > 0)} "
        f"expected={tally.expected} delivered={tally.delivered} lost={len(tally.missing)} "
        f"duplicated={duplicates} history_reads={len(slack.slack.calls('conversations.history'))}"
    )
    assert tally.missing == [] and tally.unexpected == []
    if reconcile == "on":
        assert duplicates == 0, sorted(tally.duplicated)

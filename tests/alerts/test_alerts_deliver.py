"""End to end: policy → deliverer → real channels; exactly-once per channel across restarts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from alerts.channels.base import Channel, Receipt
from alerts.channels.file import FileChannel
from alerts.channels.slack import SlackChannel
from alerts.config import DeliveryConfig, FileConfig, PacingConfig, SlackConfig
from alerts.deliver import Deliverer
from alerts.policy import AlertPolicy
from alerts.render import Rendered
from schemas.records import AlertRecord, DeadLetter, EnrichedArticle, Match
from tests.alerts.conftest import STORY, DeadLetters

MakeE = Callable[..., EnrichedArticle]
MakeM = Callable[..., Match]
MakeA = Callable[..., AlertRecord]


def _slack(fake: Any) -> SlackChannel:
    return SlackChannel(
        SlackConfig(
            token="xoxb-test",  # type: ignore[arg-type]
            api_url=fake.url,
            timeout_s=1.0,
            pacing=PacingConfig(rate_per_s=200, burst=50),
        )
    )


def _roundtrip(mapping: dict[str, Any]) -> dict[str, Any]:
    """What a changelog-backed table holds after a restart: the JSON of each value."""
    return json.loads(json.dumps(mapping))


@pytest.mark.servers
async def test_two_outlets_one_alert_one_thread_update_and_no_resend_after_restart(
    fake_slack: Any,
    dlq: DeadLetters,
    fast_delivery: DeliveryConfig,
    make_enriched: MakeE,
    make_match: MakeM,
) -> None:
    """Two copies of one story → 1 message + 1 thread reply; a restarted worker sends nothing."""
    chans = ["slack:#sec-alerts"]
    copy = "Agency. " + STORY.replace("Thursday", "Friday") + " More at our site."
    inputs = [
        (make_enriched("a1"), make_match("a1", channels=chans)),
        (
            make_enriched("b1", text=copy, url="https://two.example/b", source="News Two"),
            make_match("b1", channels=chans),
        ),
    ]
    state: dict[str, Any] = {}
    sent: dict[str, Any] = {}
    policy = AlertPolicy(state)
    async with Deliverer({"slack": _slack(fake_slack)}, sent, dlq, config=fast_delivery) as d:
        actions = []
        for enriched, match in inputs:
            decision = policy.decide(enriched, match)
            actions.append(decision.action)
            assert decision.alert is not None
            await d.deliver(decision.alert)
    assert actions == ["new", "update"]
    first, reply = fake_slack.messages
    assert reply["thread_ts"] == first["ts"] and "News Two" in json.dumps(reply["blocks"])

    # restart: new objects over the same (changelog-restored) state; the input is replayed
    policy2 = AlertPolicy(_roundtrip(state))
    sent2 = _roundtrip(sent)
    async with Deliverer({"slack": _slack(fake_slack)}, sent2, dlq, config=fast_delivery) as d2:
        for enriched, match in inputs:
            decision = policy2.decide(enriched, match)
            assert decision.repeat and decision.alert is not None
            report = await d2.deliver(decision.alert)
            assert report.outcomes == {"slack:#sec-alerts": "skipped"}
    assert len(fake_slack.messages) == 2 and not dlq


@pytest.mark.servers
async def test_one_failing_channel_does_not_mark_the_others(
    fake_slack: Any,
    tmp_path: Path,
    dlq: DeadLetters,
    fast_delivery: DeliveryConfig,
    make_alert: MakeA,
) -> None:
    """Slack fails, the file succeeds: only the file is recorded; a retry sends only Slack."""
    sent: dict[str, Any] = {}
    channels: dict[str, Channel] = {
        "slack": _slack(fake_slack),
        "file": FileChannel(FileConfig(directory=tmp_path)),
    }
    alert = make_alert(channels=["slack:#sec", "file"])
    fake_slack.fail("error", error="not_in_channel")
    async with Deliverer(channels, sent, dlq, config=fast_delivery) as deliverer:
        first = await deliverer.deliver(alert)
        assert first.outcomes == {"slack:#sec": "dead_lettered", "file": "sent"}
        assert set(sent["alert-1"]["channels"]) == {"file"}
        again = await deliverer.deliver(alert)  # e.g. re-driven from the DLQ
    assert again.outcomes == {"slack:#sec": "sent", "file": "skipped"}
    assert len((tmp_path / "alerts.jsonl").read_text().splitlines()) == 1
    assert len(fake_slack.messages) == 1 and len(dlq) == 1


@pytest.mark.servers
async def test_order_is_kept_per_channel_when_the_first_send_is_retried(
    fake_slack: Any, dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """Five alerts delivered concurrently arrive in order although the first one hit a 500."""
    fake_slack.fail("server_error")
    alerts = [make_alert(f"alert-{i}", title=f"Title {i}", channels=["slack:#s"]) for i in range(5)]
    async with Deliverer({"slack": _slack(fake_slack)}, {}, dlq, config=fast_delivery) as d:
        await asyncio.gather(*(d.deliver(a) for a in alerts))
    titles = [m["text"].rsplit(": ", 1)[1] for m in fake_slack.messages]
    assert titles == [f"Title {i}" for i in range(5)]


async def test_unconfigured_and_invalid_specs_are_dead_lettered(
    dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """A spec naming an unconfigured channel or an unknown kind becomes a dead letter."""
    deliverer = Deliverer({}, {}, dlq, config=fast_delivery)
    report = await deliverer.deliver(make_alert(channels=["slack:#x", "pager:ops"]))
    assert report.outcomes == {"slack:#x": "dead_lettered", "pager:ops": "dead_lettered"}
    reasons = {letter.channel: letter.reason for letter in dlq}
    assert reasons["pager:ops"].startswith("channel spec 'pager:ops': unknown channel kind")
    assert reasons["slack:#x"] == "channel not configured: 'slack'"
    assert {letter.channel: letter.retriable for letter in dlq}["slack:#x"] is True


async def test_unconfigured_channels_can_be_skipped(dlq: DeadLetters, make_alert: MakeA) -> None:
    """With ``unconfigured='skip'`` nothing is dead-lettered, and it is counted."""
    deliverer = Deliverer({}, {}, dlq, config=DeliveryConfig(unconfigured="skip"))
    report = await deliverer.deliver(make_alert(channels=["email:a@example.com"]))
    assert report.outcomes == {"email:a@example.com": "unconfigured"} and not dlq
    assert deliverer.stats.unconfigured["email"] == 1


class Broken(Channel):
    """A channel with a bug: it raises a plain exception."""

    name = "console"

    async def send(
        self,
        alert: AlertRecord,
        rendered: Rendered,
        *,
        target: str | None = None,
        thread: str | None = None,
    ) -> Receipt:
        raise KeyError("bug")


async def test_channel_bugs_and_failing_dlq_never_reach_the_caller(
    fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """A channel raising KeyError and a DLQ producer that fails: deliver still returns."""

    async def failing_dlq(letter: DeadLetter) -> None:
        raise ConnectionError("broker down")

    deliverer = Deliverer({"console": Broken()}, {}, failing_dlq, config=fast_delivery)
    report = await deliverer.deliver(make_alert(channels=["console"]))
    assert report.outcomes == {"console": "dead_lettered"} and not report.ok
    assert deliverer.stats.dead_letter_errors["console"] == 1

"""Slack delivery through the real slack-sdk client against the fake Slack Web API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from alerts.blocks import block_problems
from alerts.channels.slack import SlackChannel
from alerts.config import DeliveryConfig, PacingConfig, SlackConfig
from alerts.deliver import Deliverer
from schemas.records import AlertRecord, ArticleRef
from tests.alerts.conftest import DeadLetters, SleepRecorder

pytestmark = pytest.mark.servers
MakeA = Callable[..., AlertRecord]
TOKEN = "xoxb-test"


def _deliverer(
    slack: Any,
    dlq: DeadLetters,
    config: DeliveryConfig,
    sent: dict[str, Any] | None = None,
    sleeps: SleepRecorder | None = None,
    token: str = TOKEN,
) -> Deliverer:
    channel = SlackChannel(
        SlackConfig(
            token=token,  # type: ignore[arg-type]
            api_url=slack.url,
            timeout_s=0.3,
            pacing=PacingConfig(rate_per_s=200, burst=50),
        )
    )
    extra: dict[str, Any] = {}
    if sleeps is not None:
        extra = {"sleep": sleeps, "monotonic": sleeps.clock}
    return Deliverer({"slack": channel}, {} if sent is None else sent, dlq, config=config, **extra)


async def test_new_alert_posts_one_valid_block_kit_message(
    fake_slack: Any, dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """One chat.postMessage with valid blocks, a text fallback and no unfurling."""
    async with _deliverer(fake_slack, dlq, fast_delivery) as deliverer:
        report = await deliverer.deliver(make_alert(channels=["slack:#sec-alerts"]))
    assert report.outcomes == {"slack:#sec-alerts": "sent"}
    [message] = fake_slack.messages
    assert message["channel"] == "#sec-alerts"
    assert block_problems(message["blocks"]) == []
    assert message["text"].startswith("[HIGH] Alibaba linked to espionage concerns")
    assert message["unfurl_links"] is False and message["unfurl_media"] is False
    assert report.receipts["slack:#sec-alerts"].ref == message["ts"]


async def test_update_is_a_thread_reply_to_the_first_message(
    fake_slack: Any, dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """The update of a story goes into the thread of the alert's first message."""
    related = [
        ArticleRef(id="b1", title="Second outlet", url="https://two.example/x", source="Two")
    ]
    sent: dict[str, Any] = {}
    async with _deliverer(fake_slack, dlq, fast_delivery, sent) as deliverer:
        await deliverer.deliver(make_alert(channels=["slack:#sec"]))
        await deliverer.deliver(make_alert(kind="update", related=related, channels=["slack:#sec"]))
    first, reply = fake_slack.messages
    assert "thread_ts" not in first and reply["thread_ts"] == first["ts"]
    assert "First reported by" in json.dumps(reply["blocks"])
    assert "<https://two.example/x|Two>" in json.dumps(reply["blocks"])


async def test_injection_strings_arrive_inert_in_slack(
    fake_slack: Any, dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """What Slack receives contains no mention, no foreign link, no evaluated template."""
    bad = "<!channel> <!here> <@U123> <https://evil.example|click> {{ 7*7 }} <script>x</script>"
    alert = make_alert(title=bad, source=bad, snippet=bad, channels=["slack:#sec"])
    async with _deliverer(fake_slack, dlq, fast_delivery) as deliverer:
        await deliverer.deliver(alert)
    [message] = fake_slack.messages
    wire = json.dumps([message["text"], message["blocks"]], ensure_ascii=False)
    for forbidden in ("<!channel>", "<!here>", "<@U123>", "<https://evil", "<script>", "49"):
        assert forbidden not in wire
    assert "&lt;!channel&gt;" in wire and "{{ 7\u22177 }}" in wire  # * made inert


async def test_429_honours_retry_after_then_delivers(
    fake_slack: Any,
    dlq: DeadLetters,
    fast_delivery: DeliveryConfig,
    make_alert: MakeA,
    sleeps: SleepRecorder,
) -> None:
    """A 429 with Retry-After: 3 waits 3 s (recorded) and the retry is delivered once."""
    fake_slack.fail("ratelimited", retry_after=3)
    async with _deliverer(fake_slack, dlq, fast_delivery, sleeps=sleeps) as deliverer:
        report = await deliverer.deliver(make_alert(channels=["slack:#sec"]))
        stats = deliverer.stats.snapshot()
    assert report.outcomes == {"slack:#sec": "sent"}
    assert 3.0 in sleeps.waits
    assert max(sleeps.waits) <= 3.0  # the gate and the pacer use the same (monotonic) clock
    assert [c.outcome for c in fake_slack.calls()] == ["fault:ratelimited", "ok"]
    assert len(fake_slack.messages) == 1 and not dlq
    assert stats["rate_limited"] == {"slack": 1}


async def test_429_with_the_real_clocks_waits_retry_after_not_forever(
    fake_slack: Any, dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """With the real clocks (as in the worker) a Retry-After of 1 s waits 1 s, then sends."""
    fake_slack.fail("ratelimited", retry_after=1)
    async with _deliverer(fake_slack, dlq, fast_delivery) as deliverer:
        report = await asyncio.wait_for(
            deliverer.deliver(make_alert(channels=["slack:#sec"])), timeout=30
        )
    assert report.outcomes == {"slack:#sec": "sent"}
    assert [c.outcome for c in fake_slack.calls()] == ["fault:ratelimited", "ok"]


@pytest.mark.parametrize("fault", ["server_error", "timeout"])
async def test_5xx_and_timeouts_are_retried_until_delivered(
    fault: str,
    fake_slack: Any,
    dlq: DeadLetters,
    fast_delivery: DeliveryConfig,
    make_alert: MakeA,
) -> None:
    """Two 500s (or two timeouts) then success: delivered once, nothing dead-lettered."""
    fake_slack.fail(fault, times=2, delay=1.0)
    async with _deliverer(fake_slack, dlq, fast_delivery) as deliverer:
        report = await deliverer.deliver(make_alert(channels=["slack:#sec"]))
        retries = deliverer.stats.retries["slack"]
    assert report.outcomes == {"slack:#sec": "sent"}
    assert [c.outcome for c in fake_slack.calls()] == [f"fault:{fault}"] * 2 + ["ok"]
    assert retries == 2 and not dlq


async def test_persistent_5xx_ends_in_the_dlq_as_retriable(
    fake_slack: Any, dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """After max_attempts 500s the alert is dead-lettered with retriable=True."""
    fake_slack.fail("server_error", times=5)
    async with _deliverer(fake_slack, dlq, fast_delivery) as deliverer:
        report = await deliverer.deliver(make_alert(channels=["slack:#sec"]))
    assert report.outcomes == {"slack:#sec": "dead_lettered"}
    [letter] = dlq
    assert letter.retriable and letter.channel == "slack:#sec"
    assert letter.reason == "gave up after 3 attempts: http 500"
    assert letter.source_topic == "alerts" and letter.extra["attempts"] == 3


async def test_endless_429_is_dead_lettered_not_resent_forever(
    fake_slack: Any,
    dlq: DeadLetters,
    fast_delivery: DeliveryConfig,
    make_alert: MakeA,
    sleeps: SleepRecorder,
) -> None:
    """429 after 429: after max_rate_limited answers it stops and dead-letters."""
    fake_slack.fail("ratelimited", times=10, retry_after=1)
    async with _deliverer(fake_slack, dlq, fast_delivery, sleeps=sleeps) as deliverer:
        await deliverer.deliver(make_alert(channels=["slack:#sec"]))
    assert len(fake_slack.calls()) == 3
    [letter] = dlq
    assert letter.retriable and "rate limited" in letter.reason


@pytest.mark.parametrize("code", ["channel_not_found", "msg_too_long", "not_in_channel"])
async def test_permanent_errors_go_to_the_dlq_without_retry(
    code: str,
    fake_slack: Any,
    dlq: DeadLetters,
    fast_delivery: DeliveryConfig,
    make_alert: MakeA,
) -> None:
    """A permanent Slack error is tried once and dead-lettered with its code."""
    fake_slack.fail("error", error=code)
    async with _deliverer(fake_slack, dlq, fast_delivery) as deliverer:
        report = await deliverer.deliver(make_alert(channels=["slack:#sec"]))
        counted = deliverer.stats.dead_lettered["slack"]
    assert report.outcomes == {"slack:#sec": "dead_lettered"}
    assert len(fake_slack.calls()) == 1
    [letter] = dlq
    assert (letter.reason, letter.retriable, letter.channel) == (code, False, "slack:#sec")
    assert counted == 1


async def test_invalid_auth_is_dead_lettered_and_the_token_never_leaks(
    fake_slack: Any,
    dlq: DeadLetters,
    fast_delivery: DeliveryConfig,
    make_alert: MakeA,
    log_text: Callable[[], str],
) -> None:
    """A wrong token gives invalid_auth; the token is in neither the DLQ nor the logs."""
    secret = "xoxb-wrong-secret-123456"
    async with _deliverer(fake_slack, dlq, fast_delivery, token=secret) as deliverer:
        await deliverer.deliver(make_alert(channels=["slack:#sec"]))
    [letter] = dlq
    assert letter.reason == "invalid_auth" and not letter.retriable
    assert secret not in letter.model_dump_json()
    assert secret not in log_text()
    assert "invalid_auth" in log_text()


async def test_messages_are_paced_per_slack_channel(
    fake_slack: Any, dlq: DeadLetters, make_alert: MakeA, sleeps: SleepRecorder
) -> None:
    """At 1 msg/s with burst 3, the 4th and 5th message to one channel wait 1 s each."""
    channel = SlackChannel(SlackConfig(token=TOKEN, api_url=fake_slack.url))  # type: ignore[arg-type]
    deliverer = Deliverer(
        {"slack": channel}, {}, dlq, sleep=sleeps, monotonic=sleeps.clock, digest_check_s=None
    )
    async with deliverer:
        for i in range(5):
            await deliverer.deliver(make_alert(f"a{i}", channels=["slack:#one"]))
        await deliverer.deliver(make_alert("other", channels=["slack:#two"]))
    assert sleeps.waits == [1.0, 1.0]  # #two has its own bucket: no wait
    assert len(fake_slack.messages) == 6

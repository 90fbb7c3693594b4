"""Slack reconciliation: an alert already in the channel is found by its metadata, not re-posted.

Real slack-sdk client over real HTTP against the fake Slack Web API; the "crash" is a new
``Deliverer`` with an empty ``sent`` mapping (what a worker sees when the "sent" record of
a message Slack accepted never reached the changelog).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from alerts.channels.slack import SlackChannel
from alerts.config import DeliveryConfig, PacingConfig, SlackConfig
from alerts.deliver import Deliverer
from alerts.ids import delivery_key
from schemas.records import AlertRecord, ArticleRef
from tests.alerts.conftest import DeadLetters

pytestmark = pytest.mark.servers
MakeA = Callable[..., AlertRecord]
TOKEN = "xoxb-test"


def _channel(slack: Any, **options: Any) -> SlackChannel:
    config = SlackConfig(
        token=TOKEN,  # type: ignore[arg-type]
        api_url=slack.url,
        timeout_s=2.0,
        pacing=PacingConfig(rate_per_s=500, burst=100),
    )
    return SlackChannel(config, **options)


def _deliverer(
    slack: Any, dlq: DeadLetters, config: DeliveryConfig, sent: dict[str, Any], **options: Any
) -> Deliverer:
    return Deliverer({"slack": _channel(slack, **options)}, sent, dlq, config=config)


def _now_alert(make_alert: MakeA, alert_id: str, **kwargs: Any) -> AlertRecord:
    return make_alert(alert_id, **kwargs).model_copy(update={"created_at": time.time()})


async def test_message_metadata_names_alert_and_delivery_key(
    fake_slack: Any, dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """Each posted message carries event type, alert id and delivery key as message metadata."""
    alert = _now_alert(make_alert, "alert-meta", channels=["slack:#sec"])
    async with _deliverer(fake_slack, dlq, fast_delivery, {}) as deliverer:
        await deliverer.deliver(alert)
    [message] = fake_slack.messages
    assert message["metadata"] == {
        "event_type": "newswatch_alert",
        "event_payload": {"alert_id": "alert-meta", "delivery_key": delivery_key(alert)},
    }


async def test_fake_history_pages_filters_and_hides_metadata_unless_asked(
    fake_slack: Any, dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """conversations.history: channel ID only, newest first, oldest filter, cursor pages."""
    start = time.time()
    async with _deliverer(fake_slack, dlq, fast_delivery, {}) as deliverer:
        for n in range(5):
            await deliverer.deliver(_now_alert(make_alert, f"h{n}", channels=["slack:#sec"]))
    client = AsyncWebClient(token=TOKEN, base_url=fake_slack.url)
    listed = (await client.conversations_list()).data["channels"]  # type: ignore[index]
    [sec] = [c["id"] for c in listed if c["name"] == "sec"]
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        page = await client.conversations_history(
            channel=sec,
            limit=2,
            oldest=f"{start - 1:.6f}",
            include_all_metadata=True,
            cursor=cursor,
        )
        pages.append(page.data["messages"])  # type: ignore[index]
        cursor = page.data["response_metadata"]["next_cursor"]  # type: ignore[index]
        if not cursor:
            break
    ids = [m["metadata"]["event_payload"]["alert_id"] for p in pages for m in p]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert ids == ["h4", "h3", "h2", "h1", "h0"]
    third = fake_slack.messages[2]["ts"]
    newer = await client.conversations_history(channel=sec, oldest=third)
    assert [m["ts"] for m in newer.data["messages"]] == [  # type: ignore[index]
        fake_slack.messages[4]["ts"],
        fake_slack.messages[3]["ts"],
    ]
    assert all("metadata" not in m for m in newer.data["messages"])  # type: ignore[index]
    with pytest.raises(SlackApiError, match="channel_not_found"):  # Slack wants the ID
        await client.conversations_history(channel="#sec")


async def test_alert_posted_before_a_crash_is_found_and_not_posted_again(
    fake_slack: Any, dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """Re-delivered with an empty ``sent`` and maybe_sent: recorded with the found ts, no post."""
    alert = _now_alert(make_alert, "alert-crash", channels=["slack:#sec"])
    async with _deliverer(fake_slack, dlq, fast_delivery, {}) as before_crash:
        await before_crash.deliver(alert)
    [posted] = fake_slack.messages
    sent: dict[str, Any] = {}  # the "sent" record was lost with the worker
    async with _deliverer(fake_slack, dlq, fast_delivery, sent) as after_crash:
        report = await after_crash.deliver(alert, maybe_sent=True)
        update = alert.model_copy(
            update={
                "kind": "update",
                "related": [ArticleRef(id="b2", title="Second", url="https://b.example/2")],
                "created_at": time.time(),
            }
        )
        await after_crash.deliver(update)
    assert report.outcomes == {"slack:#sec": "reconciled"}
    assert report.receipts["slack:#sec"].ref == posted["ts"]
    assert sent["alert-crash"]["channels"]["slack:#sec"]["ref"] == posted["ts"]
    first, reply = fake_slack.messages  # only the update was posted, into the thread
    assert first is posted and reply["thread_ts"] == posted["ts"]
    assert after_crash.stats.reconciled["slack"] == 1 and not dlq


async def test_alert_not_in_history_is_posted_once(
    fake_slack: Any, dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """A decided-but-never-posted alert is looked up, not found, and posted."""
    other = _now_alert(make_alert, "other", channels=["slack:#sec"])
    alert = _now_alert(make_alert, "alert-unsent", channels=["slack:#sec"])
    async with _deliverer(fake_slack, dlq, fast_delivery, {}) as deliverer:
        await deliverer.deliver(other)
        report = await deliverer.deliver(alert, maybe_sent=True)
    assert report.outcomes == {"slack:#sec": "sent"}
    assert len(fake_slack.calls("conversations.history")) == 1
    assert [m["metadata"]["event_payload"]["alert_id"] for m in fake_slack.messages] == [
        "other",
        "alert-unsent",
    ]


async def test_alerts_created_before_the_assignment_reconcile_with_one_scan(
    fake_slack: Any, dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """After ``note_assignment`` older alerts are checked (one history scan), newer are not."""
    old = [_now_alert(make_alert, f"old{n}", channels=["slack:#sec"]) for n in range(4)]
    async with _deliverer(fake_slack, dlq, fast_delivery, {}) as dead_worker:
        for alert in old[:2]:
            await dead_worker.deliver(alert)
    sent: dict[str, Any] = {}
    async with _deliverer(fake_slack, dlq, fast_delivery, sent) as survivor:
        survivor.note_assignment()
        outcomes = [(await survivor.deliver(a)).outcomes["slack:#sec"] for a in old]
        fresh = _now_alert(make_alert, "fresh", channels=["slack:#sec"])
        fresh_outcome = (await survivor.deliver(fresh)).outcomes["slack:#sec"]
    assert outcomes == ["reconciled", "reconciled", "sent", "sent"]
    assert fresh_outcome == "sent"
    assert len(fake_slack.calls("conversations.history")) == 1  # one scan served all four
    assert len(fake_slack.calls("conversations.list")) == 1  # name → ID, once
    ids = [m["metadata"]["event_payload"]["alert_id"] for m in fake_slack.messages]
    assert sorted(ids) == ["fresh", "old0", "old1", "old2", "old3"]


async def test_history_scan_is_bounded_by_pages(
    fake_slack: Any, dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """An alert older than ``pages × page_size`` newer messages is not looked for any further."""
    alerts = [_now_alert(make_alert, f"b{n}", channels=["slack:#sec"]) for n in range(7)]
    async with _deliverer(fake_slack, dlq, fast_delivery, {}) as dead_worker:
        for alert in alerts:
            await dead_worker.deliver(alert)
    options = {"history_pages": 2, "history_page_size": 2}
    async with _deliverer(fake_slack, dlq, fast_delivery, {}, **options) as survivor:
        recent = await survivor.deliver(alerts[-1], maybe_sent=True)
        oldest = await survivor.deliver(alerts[0], maybe_sent=True)
    assert recent.outcomes == {"slack:#sec": "reconciled"}
    assert oldest.outcomes == {"slack:#sec": "sent"}  # beyond the bound: at-least-once
    assert len(fake_slack.calls("conversations.history")) == 2


@pytest.mark.parametrize("error", ["missing_scope", "not_allowed_token_type"])
async def test_without_history_scope_posts_again_and_warns_once(
    fake_slack: Any,
    dlq: DeadLetters,
    fast_delivery: DeliveryConfig,
    make_alert: MakeA,
    caplog: pytest.LogCaptureFixture,
    error: str,
) -> None:
    """No history scope: at-least-once (posted again), one WARNING, no further history calls."""
    alerts = [_now_alert(make_alert, f"s{n}", channels=["slack:#sec"]) for n in range(3)]
    async with _deliverer(fake_slack, dlq, fast_delivery, {}) as dead_worker:
        for alert in alerts:
            await dead_worker.deliver(alert)
    fake_slack.history_error = error
    caplog.set_level(logging.INFO)
    async with _deliverer(fake_slack, dlq, fast_delivery, {}) as survivor:
        outcomes = [(await survivor.deliver(a, maybe_sent=True)).outcomes for a in alerts]
    assert outcomes == [{"slack:#sec": "sent"}] * 3
    assert len(fake_slack.messages) == 6 and not dlq
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and error in warnings[0].getMessage()
    assert "at-least-once" in warnings[0].getMessage()
    readers = [r for r in fake_slack.requests if r.method.startswith("conversations.")]
    assert len(readers) == 1


async def test_history_server_error_posts_instead_of_losing_the_alert(
    fake_slack: Any, dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """History answering 500 three times: the alert is still posted (a duplicate beats a loss)."""
    alert = _now_alert(make_alert, "alert-500", channels=["C0123456789"])
    alert = alert.model_copy(update={"channels": ["slack:C0123456789"]})
    fake_slack.fail("server_error", method="conversations.history", times=3)
    async with _deliverer(fake_slack, dlq, fast_delivery, {}) as deliverer:
        report = await deliverer.deliver(alert, maybe_sent=True)
    assert report.outcomes == {"slack:C0123456789": "sent"}
    assert len(fake_slack.calls("conversations.history")) == 3
    assert len(fake_slack.messages) == 1 and not dlq


async def test_update_posted_as_reply_before_a_crash_is_found_in_its_thread(
    fake_slack: Any, dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """A thread reply already posted is found with conversations.replies, not posted again."""
    alert = _now_alert(make_alert, "alert-thread", channels=["slack:#sec"])
    related = [ArticleRef(id="b2", title="Second", url="https://b.example/2")]
    update = alert.model_copy(
        update={"kind": "update", "related": related, "created_at": time.time()}
    )
    sent: dict[str, Any] = {}
    async with _deliverer(fake_slack, dlq, fast_delivery, sent) as dead_worker:
        await dead_worker.deliver(alert)
        await dead_worker.deliver(update)
    sent.pop(delivery_key(update))  # the reply's "sent" record was lost
    async with _deliverer(fake_slack, dlq, fast_delivery, sent) as survivor:
        report = await survivor.deliver(update, maybe_sent=True)
    assert report.outcomes == {"slack:#sec": "reconciled"}
    assert len(fake_slack.messages) == 2
    assert len(fake_slack.calls("conversations.replies")) == 1


async def test_a_new_assignment_invalidates_the_cached_scan(
    fake_slack: Any, dlq: DeadLetters, fast_delivery: DeliveryConfig, make_alert: MakeA
) -> None:
    """A message posted after the last scan is found once the worker is assigned again."""
    first = _now_alert(make_alert, "first", channels=["slack:#sec"])
    second = _now_alert(make_alert, "second", channels=["slack:#sec"])
    async with _deliverer(fake_slack, dlq, fast_delivery, {}) as dead_worker:
        await dead_worker.deliver(first)
    async with _deliverer(fake_slack, dlq, fast_delivery, {}) as survivor:
        survivor.note_assignment()
        assert (await survivor.deliver(first)).outcomes == {"slack:#sec": "reconciled"}
        async with _deliverer(fake_slack, dlq, fast_delivery, {}) as other_dead_worker:
            await other_dead_worker.deliver(second)  # after the survivor's scan
        survivor.note_assignment()  # takes over the other worker's partitions
        assert (await survivor.deliver(second)).outcomes == {"slack:#sec": "reconciled"}
    assert len(fake_slack.calls("conversations.history")) == 2
    assert len(fake_slack.messages) == 2

"""Slack feedback buttons over real HTTP: fake Slack → signed clicks → a running worker.

A worker subprocess posts alerts with four feedback buttons to the fake Slack server; the
test sends the interaction payloads Slack would send (signed like Slack signs them) to the
worker's ``POST /slack/interactions``: a valid click records feedback on ``alerts.feedback``
and updates the message (``chat.update``); forged, unsigned, stale and replayed requests get
401 and are counted; *Mute this story* silences the story's next update; *Snooze this
rule* (10 s in this worker) silences the rule's next alert and the one after expiry is sent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pipeline_workers import topic_values, topic_values_within

from alerts.testing.slack import FakeSlack, signed_interaction
from streams.settings import Settings
from streams.testing import (
    SlackThread,
    WorkerProcess,
    metric_value,
    produce_values,
    scrape_metrics,
    term_watchlist,
    wait_until,
)

pytestmark = pytest.mark.broker

TOKEN = "xoxb-feedback"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BUTTONS = ["nw_relevant", "nw_not_relevant", "nw_mute_story", "nw_snooze_rule"]
SNOOZE_S = 10
TEXT = (
    "The harbour authority seized a shipment of zorblax drones at the northern quay on Monday. "
    "Customs officers said the crates were declared as farm equipment and carried forged "
    "papers from a trading company registered abroad. Investigators are now questioning two "
    "freight agents and the captain of the vessel, which remains anchored outside the port."
)


def _article(n: int, text: str = TEXT) -> tuple[bytes, bytes]:
    article = {
        "id": f"fb-{n}",
        "title": "Zorblax drones seized at the northern quay",
        "text": text,
        "url": f"https://outlet{n}.example/{n}",
        "source": f"outlet{n}.example",
        "language": "en",
    }
    return article["id"].encode(), json.dumps(article).encode()


OTHER = (
    "Police in the capital arrested three men suspected of selling zorblax components to a "
    "foreign buyer. Prosecutors said the group used shell firms and encrypted messaging to "
    "hide the deals, which ran for almost two years before an informant came forward.",
    "A parliamentary committee opened hearings into zorblax exports after auditors found "
    "gaps in licence records. Ministers were asked to explain why several shipments left the "
    "country without the required end-user certificates and who signed the waivers.",
)


@pytest.fixture
def running(
    worker_settings: Callable[..., Settings], start_worker: Callable[..., WorkerProcess]
) -> Iterator[tuple[Settings, SlackThread, WorkerProcess]]:
    """A worker with Slack (fake, over HTTP) and the signing secret set."""
    slack = SlackThread(FakeSlack(tokens={TOKEN}))
    slack.start()
    worker: WorkerProcess | None = None
    try:
        settings = worker_settings(
            term_watchlist({"r0": ("zorblax", "slack:#sec")}),
            alert_channels=["slack"],
            slack_bot_token=TOKEN,
            slack_api_url=slack.url,
        )
        worker = start_worker(
            settings, SLACK_SIGNING_SECRET=SECRET, NEWSWATCH_SLACK_SNOOZE=str(SNOOZE_S)
        )
        yield settings, slack, worker
    finally:
        if worker is not None:
            worker.stop()
        slack.stop()


def _post(worker: WorkerProcess, body: bytes, headers: dict[str, str]) -> httpx.Response:
    url = f"http://127.0.0.1:{worker.web_port}/slack/interactions"
    return httpx.post(url, content=body, headers=headers, timeout=5)


def test_clicks_record_feedback_update_the_message_and_bad_requests_get_401(
    running: tuple[Settings, SlackThread, WorkerProcess],
) -> None:
    """Valid clicks → feedback + chat.update; forged/unsigned/stale/replayed → 401, counted."""
    settings, slack, worker = running
    produce_values(settings.bootstrap_servers, settings.topic("articles.raw"), [_article(1)])
    assert wait_until(lambda: len(slack.messages()) == 1, timeout=60), worker.log_tail()
    (message,) = slack.messages()
    actions = [b for b in message["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions[0]["elements"]] == BUTTONS
    assert actions[0]["elements"][3]["text"]["text"] == f"Snooze this rule for {SNOOZE_S} s"
    fake = slack.slack

    # forged, unsigned and stale requests
    payload = fake.interaction_payload(message, "nw_not_relevant", user_id="U0ANALYST")
    forged_body, forged_headers = signed_interaction(payload, "not-the-secret")
    assert _post(worker, forged_body, forged_headers).status_code == 401
    body, headers = signed_interaction(payload, SECRET)
    unsigned = {k: v for k, v in headers.items() if k != "X-Slack-Signature"}
    assert _post(worker, body, unsigned).status_code == 401
    stale_body, stale_headers = signed_interaction(
        payload, SECRET, timestamp=int(time.time()) - 600
    )
    assert _post(worker, stale_body, stale_headers).status_code == 401
    assert _post(worker, b"x" * 70_000, headers).status_code == 413
    assert topic_values_within(settings, "alerts.feedback", 2.0) == []

    # a valid click: answered at once, feedback recorded, message updated
    started = time.monotonic()
    answer = _post(worker, body, headers)
    assert answer.status_code == 200 and time.monotonic() - started < 3.0
    assert _post(worker, body, headers).status_code == 401  # the same request again: replayed
    assert wait_until(lambda: len(topic_values(settings, "alerts.feedback")) == 1, timeout=20)
    (feedback,) = topic_values(settings, "alerts.feedback")
    alert = topic_values(settings, "alerts")[0]
    assert feedback["verdict"] == "not_relevant" and feedback["user_id"] == "U0ANALYST"
    assert (feedback["alert_id"], feedback["rule_id"], feedback["story_id"]) == (
        alert["alert_id"],
        "r0",
        alert["story_id"],
    )
    assert feedback["article_id"] == "fb-1" and feedback["watchlist_version"]
    assert wait_until(lambda: len(fake.updates) >= 1, timeout=10), worker.log_tail()
    note = slack.messages()[0]["blocks"][-1]
    assert note["block_id"] == "nw_feedback"
    assert "<@U0ANALYST> marked this *not relevant*" in note["elements"][0]["text"]

    samples = scrape_metrics(worker.web_port)
    for outcome in ("forged", "unsigned", "stale", "replayed", "too_large"):
        assert metric_value(samples, "newswatch_slack_interactions_total", outcome=outcome) == 1
    relevant = fake.interaction_payload(slack.messages()[0], "nw_relevant", user_id="U0OTHER")
    assert _post(worker, *signed_interaction(relevant, SECRET)).status_code == 200

    def precision() -> float:
        samples = scrape_metrics(worker.web_port)
        return metric_value(samples, "newswatch_feedback_precision", rule="r0")

    assert wait_until(lambda: precision() == 0.5, timeout=20)  # 1 relevant of 2 judgements

    # mute this story: its next update is recorded as silenced, not sent
    mute = fake.interaction_payload(slack.messages()[0], "nw_mute_story", user_id="U0ANALYST")
    assert _post(worker, *signed_interaction(mute, SECRET)).status_code == 200
    assert wait_until(lambda: len(topic_values(settings, "alerts.silences")) == 1, timeout=20)
    samples = scrape_metrics(worker.web_port)
    assert metric_value(samples, "newswatch_slack_interactions_total", outcome="accepted") == 3
    (silence,) = topic_values(settings, "alerts.silences")
    assert (silence["kind"], silence["story_id"]) == ("story", alert["story_id"])
    produce_values(settings.bootstrap_servers, settings.topic("articles.raw"), [_article(2)])

    def update_recorded() -> bool:
        return any(a["article"]["id"] == "fb-2" for a in topic_values(settings, "alerts"))

    assert wait_until(update_recorded, timeout=60), worker.log_tail()
    update = next(a for a in topic_values(settings, "alerts") if a["article"]["id"] == "fb-2")
    assert update["kind"] == "update" and update["silenced_by"] == silence["id"]
    time.sleep(1.0)
    assert len(slack.messages()) == 1

    # snooze this rule: its next alert (a new story) is silenced, the one after expiry is sent
    snooze = fake.interaction_payload(slack.messages()[0], "nw_snooze_rule", user_id="U0ANALYST")
    assert _post(worker, *signed_interaction(snooze, SECRET)).status_code == 200
    assert wait_until(lambda: len(topic_values(settings, "alerts.silences")) == 2, timeout=20)
    rule_silence = next(s for s in topic_values(settings, "alerts.silences") if s["kind"] == "rule")
    produce_values(
        settings.bootstrap_servers, settings.topic("articles.raw"), [_article(3, OTHER[0])]
    )
    assert wait_until(lambda: _alert_of(settings, "fb-3") is not None, timeout=60)
    assert _alert_of(settings, "fb-3")["silenced_by"] == rule_silence["id"]
    time.sleep(max(0.0, rule_silence["ends_at"] - time.time()) + 0.5)
    produce_values(
        settings.bootstrap_servers, settings.topic("articles.raw"), [_article(4, OTHER[1])]
    )
    assert wait_until(lambda: len(slack.messages()) == 2, timeout=60), worker.log_tail()
    assert "outlet4.example" in json.dumps(slack.messages()[1])
    assert _alert_of(settings, "fb-4").get("silenced_by") is None
    assert worker.alive()


def _alert_of(settings: Settings, article_id: str) -> dict[str, Any] | None:
    """The last record on ``alerts`` for ``article_id``, if any."""
    found = [a for a in topic_values(settings, "alerts") if a["article"]["id"] == article_id]
    return found[-1] if found else None

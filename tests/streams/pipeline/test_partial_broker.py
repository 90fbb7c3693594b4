"""Partial texts end to end on the real broker: a paywall teaser page is flagged on the
enriched record, its Slack and email alerts say "partial text", /metrics counts it per source."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from slack_sdk.models.blocks import Block

from alerts.testing.smtp import SmtpCapture
from schemas.records import RawArticle
from streams.ingest.files import read_html
from streams.ingest.producer import ArticleProducer
from streams.kafka.broker import EmbeddedBroker, free_port
from streams.kafka.topics import ensure_topics
from streams.settings import Settings
from streams.testing import (
    SlackThread,
    WorkerProcess,
    metric_value,
    read_topic,
    scrape_metrics,
    settings_env,
    wait_until,
)

pytestmark = pytest.mark.broker

TEASER_PAGE = """<!DOCTYPE html><html lang="en"><head><title>Zebracorn breach widens</title>
<link rel="canonical" href="https://paper.example/zebracorn-breach">
<meta property="og:site_name" content="The Example Paper"></head>
<body><header><nav>Home · World · Business</nav></header>
<article><h1>Zebracorn breach widens</h1>
<p>Investigators said on Monday that the intrusion at Zebracorn Industries reached the
payroll systems of its European subsidiaries, and that the attackers</p>
<div class="paywall"><p>Subscribe to continue reading.</p><p>Already a subscriber? Log in</p></div>
</article><footer>© The Example Paper</footer></body></html>
"""

WATCHLIST = """version: 1
rules:
  - id: zebra
    title: Zebracorn incidents
    severity: high
    all: ["term:Zebracorn"]
    within: article
    channels: ["slack:#sec", "email:sec@example.org"]
"""


async def _produce(settings: Settings, articles: list[RawArticle]) -> None:
    async with ArticleProducer(settings) as producer:
        for article in articles:
            await producer.produce(article)
        await producer.flush()


# the worker knows only `en`: no language detector whose models load at start
NO_PACKS = {"NEWSWATCH_DETECT_PACK_LANGUAGES": "false"}


def test_paywall_teaser_page_is_flagged_and_its_alerts_say_so(
    broker: EmbeddedBroker, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """The teaser page's enriched record carries the paywall reason; the Slack message (valid
    Block Kit) and the email say "partial text"; a whole article's alert does not."""
    (tmp_path / "watchlist.yaml").write_text(WATCHLIST)
    page = tmp_path / "teaser.html"
    page.write_text(TEASER_PAGE)
    whole = RawArticle(
        id="whole-1",
        title="Zebracorn opens a new plant",
        text=(
            "Zebracorn opened a plant in Porto on Friday. The company said two hundred people "
            "would work there by the end of the year, most of them hired locally."
        ),
        url="https://other.example/plant",
        source="Other Daily",
    )
    with SmtpCapture() as smtp, SlackThread() as slack:
        settings = make_settings(
            broker,
            watchlist=tmp_path / "watchlist.yaml",
            slack_bot_token="xoxb-test",
            slack_api_url=slack.url,
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            alert_channels=["slack", "email"],
        )
        asyncio.run(ensure_topics(settings))
        worker = WorkerProcess(  # English only: no detector
            {**settings_env(settings), "NEWSWATCH_LANGUAGES": "en", **NO_PACKS},
            web_port=free_port(),
            log_path=tmp_path / "worker.log",
        )
        worker.start()
        try:
            worker.wait_ready(90)
            asyncio.run(_produce(settings, [read_html(page), whole]))
            done = wait_until(lambda: len(slack.messages()) >= 2 and len(smtp.messages) >= 2, 120)
            assert done, worker.log_tail()
            metrics = scrape_metrics(worker.web_port)
        finally:
            worker.stop()
    enriched = read_topic(
        settings.bootstrap_servers, settings.topic("articles.enriched"), expect=2, timeout=30
    )
    partial = {
        r["value"]["article"]["title"]: r["value"]["article"].get("partial_text") for r in enriched
    }
    assert partial == {
        "Zebracorn breach widens": "paywall: 'subscribe to continue reading'",
        "Zebracorn opens a new plant": None,
    }
    by_title = {}
    for message in slack.messages():
        Block.parse_all(message["blocks"])  # valid Block Kit
        for model in Block.parse_all(message["blocks"]):
            assert model is not None
            model.validate_json()
        by_title["teaser" if "breach" in json.dumps(message["blocks"]) else "whole"] = message
    assert "partial text" in json.dumps(by_title["teaser"]["blocks"])
    assert "partial text" not in json.dumps(by_title["whole"]["blocks"])
    mails = {
        "teaser" if "breach" in m.message["Subject"] else "whole": m.message for m in smtp.messages
    }
    teaser_body = mails["teaser"].get_body(("plain",))
    whole_body = mails["whole"].get_body(("plain",))
    assert teaser_body is not None and whole_body is not None
    assert "Partial text: paywall" in teaser_body.get_content()
    assert "Partial text" not in whole_body.get_content()
    counted = metric_value(
        metrics, "newswatch_partial_articles_total", source="The Example Paper", reason="paywall"
    )
    assert counted == 1.0
